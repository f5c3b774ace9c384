import { ConflictError, NotFoundError } from '../../api/errors.js';
import { jsonEqual } from '../../api/json.js';
import { applyPodChanges } from '../pod-writes.js';
import type { ControllerDeps, ReconcileResult } from '../types.js';
import { planReplicaSet } from './plan.js';

/** Reads a ReplicaSet and the pods it owns, applies planReplicaSet, writes the status it computed. */
export class ReplicaSetController {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const rs = await this.deps.store.get({ kind: 'ReplicaSet', namespace, name });
    if (!rs) return {}; // gone: its pods are the garbage collector's
    const owned = await this.deps.store.listOwnedBy(rs.metadata.uid, 'Pod');
    const plan = planReplicaSet(rs, owned, this.deps.clock.now().getTime());
    await applyPodChanges(this.deps, rs, namespace, plan.create, plan.delete);
    // Pods created or deleted just now are not in this status; their own events bring the next reconcile.
    if (!jsonEqual({ ...rs.status, ...plan.status }, rs.status ?? {})) {
      try {
        await this.deps.store.update({ ...rs, status: { ...rs.status, ...plan.status } }, rs.metadata.resourceVersion);
      } catch (e) {
        if (!(e instanceof ConflictError || e instanceof NotFoundError)) throw e;
        return { requeueAfterMs: 0 }; // changed meanwhile: look again
      }
    }
    return { requeueAfterMs: plan.requeueAfterMs };
  }
}
