import { AlreadyExistsError, ConflictError, NotFoundError } from '../../api/errors.js';
import { jsonEqual } from '../../api/json.js';
import { typeByKindName, type ResourceType } from '../../api/kinds.js';
import type { ObjectService } from '../../api/object-service.js';
import type { Clock } from '../../clock.js';
import type { EventRecorder } from '../../events/recorder.js';
import type { Store } from '../../store/store.js';
import { planReplicaSet } from './plan.js';

export interface ControllerDeps {
  store: Store;
  /** Pods are created and deleted through the API's own rules (defaulting, validation, graceful deletion). */
  service: ObjectService;
  clock: Clock;
  events: EventRecorder;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

const POD = typeByKindName('Pod') as ResourceType;

/** Reads a ReplicaSet and the pods it owns, applies planReplicaSet, writes the status it computed. */
export class ReplicaSetController {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const rs = await this.deps.store.get({ kind: 'ReplicaSet', namespace, name });
    if (!rs) return {}; // gone: its pods are the garbage collector's
    const owned = await this.deps.store.listOwnedBy(rs.metadata.uid, 'Pod');
    const plan = planReplicaSet(rs, owned, this.deps.clock.now().getTime());
    for (const pod of plan.create) {
      try {
        await this.deps.service.create(POD, namespace, pod);
        this.deps.events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      } catch (e) {
        // Another reconcile of the same state created it first: exactly the deterministic-name collision we want.
        if (!(e instanceof AlreadyExistsError)) throw e;
      }
    }
    for (const podName of plan.delete) {
      try {
        await this.deps.service.delete(POD, namespace, podName, {});
        this.deps.events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${podName}`);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
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
