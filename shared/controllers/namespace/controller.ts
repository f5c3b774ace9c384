import { AlreadyExistsError, NotFoundError } from '../../model/errors.js';
import { kindNamed, RESOURCE_TYPES } from '../../model/kinds.js';
import { DEFAULT_SERVICE_ACCOUNT, defaultServiceAccount } from '../../model/service-accounts.js';
import type { ControllerDeps, ReconcileResult, ObjectRef } from '../types.js';

const RECHECK_MS = 2000;
const SERVICE_ACCOUNT = kindNamed('ServiceAccount');

/**
 * Empties a Terminating namespace, then removes it (the namespace lifecycle controller); keeps the
 * `default` ServiceAccount of an active one (Kubernetes' service account controller).
 */
export class NamespaceController {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile({ name }: Pick<ObjectRef, 'name'>): Promise<ReconcileResult> {
    const ns = await this.deps.store.get({ kind: 'Namespace', namespace: '', name });
    if (!ns) return {};
    if (!ns.metadata.deletionTimestamp) {
      const key = { kind: 'ServiceAccount', namespace: name, name: DEFAULT_SERVICE_ACCOUNT };
      if (!(await this.deps.store.get(key)))
        try {
          await this.deps.service.create(SERVICE_ACCOUNT, name, defaultServiceAccount(name));
        } catch (e) {
          if (!(e instanceof AlreadyExistsError)) throw e;
        }
      return {};
    }
    let remaining = 0;
    for (const type of RESOURCE_TYPES.filter((t) => t.namespaced && !t.conversion)) {
      const page = await this.deps.store.list({ kind: type.kind, namespace: name, limit: 500 });
      remaining += page.items.length;
      for (const o of page.items) {
        if (o.metadata.deletionTimestamp) continue;
        try {
          await this.deps.service.delete(type, name, o.metadata.name, {});
        } catch (e) {
          if (!(e instanceof NotFoundError)) throw e;
        }
      }
    }
    if (remaining > 0) return { requeueAfterMs: RECHECK_MS };
    try {
      await this.deps.store.delete({ kind: 'Namespace', namespace: '', name }, ns.metadata.resourceVersion);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      return {};
    }
    return {};
  }
}
