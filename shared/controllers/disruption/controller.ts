import { ConflictError, NotFoundError } from '../../model/errors.js';
import { jsonEqual } from '../../model/json.js';
import { formatLabelSelector, fromStructured, type StructuredSelector } from '../../model/selectors.js';
import type { KubeObject, StoredObject } from '../../model/types.js';
import { EVERY_NAME } from '../../queue/work-key.js';
import { listAll } from '../../store/list-all.js';
import type { ControllerDeps, ObjectRef, ReconcileResult } from '../types.js';
import { budgetSelects } from '../../model/disruption-budget.js';
import { planDisruption, type ScaleOf } from './plan.js';

type Scale = ReturnType<ScaleOf>;

/**
 * Kubernetes' disruption controller: keeps each PodDisruptionBudget's status (how many selected pods
 * are healthy, how many must be, how many evictions are allowed now) for the eviction subresource to
 * read. Keyed by the PDB, or by `*` for every PDB of a namespace (a pod there changed).
 */
export class DisruptionController {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile({ namespace, name }: ObjectRef): Promise<ReconcileResult> {
    const pdbs =
      name === EVERY_NAME
        ? await listAll(this.deps.store, { kind: 'PodDisruptionBudget', namespace })
        : [await this.deps.store.get({ kind: 'PodDisruptionBudget', namespace, name })].filter(
            (p): p is StoredObject => !!p,
          );
    const live = pdbs.filter((p) => !p.metadata.deletionTimestamp);
    if (!live.length) return {};
    const pods = await listAll(this.deps.store, { kind: 'Pod', namespace });
    const owners = new Map<string, Promise<StoredObject | undefined>>();
    const now = this.deps.clock.now().getTime();
    let requeueAfterMs: number | undefined;
    for (const pdb of live) {
      const scales = new Map<string, Scale>();
      for (const pod of pods.filter((p) => budgetSelects(pdb, p)))
        scales.set(pod.metadata.name, await this.scaleOf(pod, namespace, owners));
      const plan = planDisruption(pdb, pods, (p) => scales.get(p.metadata.name ?? ''), now);
      if (plan.unmanaged.length) {
        const selector = formatLabelSelector(fromStructured((pdb.spec?.selector ?? {}) as StructuredSelector));
        this.deps.events.record(
          pdb,
          'Warning',
          'UnmanagedPods',
          `Pods selected by this PodDisruptionBudget (selector: ${selector}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
        );
      }
      if (plan.error) this.deps.events.record(pdb, 'Warning', 'CalculateExpectedPodCountFailed', plan.error);
      if (plan.recheckAfterMs !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, plan.recheckAfterMs);
      if (jsonEqual(plan.status, pdb.status)) continue;
      try {
        await this.deps.store.update({ ...pdb, status: plan.status }, pdb);
      } catch (e) {
        if (e instanceof NotFoundError) continue;
        if (e instanceof ConflictError) return { requeueAfterMs: 0 }; // an eviction wrote meanwhile: look again
        throw e;
      }
    }
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }

  /**
   * The expected scale a pod's controller gives (getExpectedScale's finders): a ReplicationController's,
   * StatefulSet's or ReplicaSet's replicas, or its Deployment's when one controls the ReplicaSet. Other controllers
   * have no scale kumo knows: undefined.
   */
  private async scaleOf(
    pod: KubeObject,
    namespace: string,
    cache: Map<string, Promise<StoredObject | undefined>>,
  ): Promise<Scale> {
    const get = (kind: string, name: string) => {
      const key = `${kind}/${name}`;
      let hit = cache.get(key);
      if (!hit) cache.set(key, (hit = this.deps.store.get({ kind, namespace, name })));
      return hit;
    };
    const ref = controllerRefOf(pod);
    if (!ref) return 'unmanaged';
    if (ref.kind === 'ReplicationController' || ref.kind === 'StatefulSet') {
      const owner = await get(ref.kind, ref.name);
      return owner && owner.metadata.uid === ref.uid
        ? { controller: `${ref.kind}/${ref.uid}`, replicas: replicasOf(owner) }
        : undefined;
    }
    if (ref.kind !== 'ReplicaSet') return undefined;
    const rs = await get('ReplicaSet', ref.name);
    if (!rs || rs.metadata.uid !== ref.uid) return undefined;
    const dref = controllerRefOf(rs);
    if (dref?.kind === 'Deployment') {
      const d = await get('Deployment', dref.name);
      if (!d || d.metadata.uid !== dref.uid) return undefined;
      return { controller: `Deployment/${dref.uid}`, replicas: replicasOf(d) };
    }
    return { controller: `ReplicaSet/${ref.uid}`, replicas: replicasOf(rs) };
  }
}

const controllerRefOf = (o: KubeObject) => (o.metadata.ownerReferences ?? []).find((r) => r.controller);
const replicasOf = (o: KubeObject) => (typeof o.spec?.replicas === 'number' ? o.spec.replicas : 1);
