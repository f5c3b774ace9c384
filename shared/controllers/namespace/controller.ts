import { AlreadyExistsError, ConflictError, ForbiddenError, InvalidError, NotFoundError } from '../../model/errors.js';
import { jsonEqual } from '../../model/json.js';
import { kindNamed, RESOURCE_TYPES } from '../../model/kinds.js';
import {
  DEFAULT_SERVICE_ACCOUNT,
  defaultServiceAccount,
  DESCRIPTION_ANNOTATION,
  ROOT_CA_CONFIG_MAP,
  rootCAConfigMap,
} from '../../model/service-accounts.js';
import type { ControllerDeps, ReconcileResult, ObjectRef } from '../types.js';

const RECHECK_MS = 2000;
const SERVICE_ACCOUNT = kindNamed('ServiceAccount');
const CONFIG_MAP = kindNamed('ConfigMap');
/**
 * Empties a Terminating namespace, then removes it (the namespace lifecycle controller); keeps the
 * `default` ServiceAccount (Kubernetes' service account controller) and the `kube-root-ca.crt`
 * ConfigMap (the root CA publisher) of an active one.
 */
export class NamespaceController {
  constructor(private readonly deps: ControllerDeps & { rootCA?: () => string }) {}

  /**
   * Kubernetes' root CA publisher (pkg/controller/certificates/rootcacertpublisher): `kube-root-ca.crt`
   * in every active namespace holds the bundle that verifies the API from inside a pod (the `ca.crt` of
   * every pod's token volume), put back as it was when someone edits it.
   */
  private async publishRootCA(namespace: string): Promise<void> {
    const pem = this.deps.rootCA?.();
    if (!pem) return;
    const want = rootCAConfigMap(namespace, pem);
    const current = await this.deps.store.get({ kind: 'ConfigMap', namespace, name: ROOT_CA_CONFIG_MAP });
    try {
      if (!current) await this.deps.service.create(CONFIG_MAP, namespace, want);
      else if (
        !jsonEqual(current.data, want.data) ||
        current.metadata.annotations?.[DESCRIPTION_ANNOTATION] !== want.metadata.annotations?.[DESCRIPTION_ANNOTATION]
      )
        await this.deps.service.replace(CONFIG_MAP, namespace, ROOT_CA_CONFIG_MAP, {
          ...current,
          data: want.data,
          metadata: {
            ...current.metadata,
            annotations: { ...current.metadata.annotations, ...want.metadata.annotations },
          },
        });
    } catch (e) {
      // Someone else wrote it in between (the change brings this namespace back), the namespace began
      // terminating (Forbidden), or someone made the ConfigMap immutable (Invalid): nothing to retry.
      if (![AlreadyExistsError, ConflictError, ForbiddenError, InvalidError].some((k) => e instanceof k)) throw e;
    }
  }

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
      await this.publishRootCA(name);
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
