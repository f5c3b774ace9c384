import { AlreadyExistsError, ConflictError, NotFoundError } from '../../model/errors.js';
import { jsonEqual } from '../../model/json.js';
import { kindNamed } from '../../model/kinds.js';
import type { StoredObject } from '../../model/types.js';
import { adoptOrphans } from '../adoption.js';
import type { ControllerDeps, ReconcileResult, ObjectRef } from '../types.js';
import { refusesSpec } from '../spec-guard.js';
import { planDeployment, REVISION_ANNOTATION, type ReplicaSetView } from './plan.js';
import { replicaSetSpec } from '../../model/typed.js';
import { findCondition } from '../../model/conditions.js';

const RS = kindNamed('ReplicaSet');
/** While a rollout is in progress, look again this often so the progress deadline is noticed. */
const PROGRESS_CHECK_MS = 10_000;

/** Reads a Deployment and its ReplicaSets, applies planDeployment, writes the status it computed. */
export class DeploymentController {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile({ namespace, name }: ObjectRef): Promise<ReconcileResult> {
    const d = await this.deps.store.get({ kind: 'Deployment', namespace, name });
    if (!d || d.metadata.deletionTimestamp) return {};
    if (refusesSpec(this.deps, d)) return {};
    // A new Deployment (or one re-created after `--cascade=orphan`) takes over the ReplicaSets it selects that nobody controls.
    if (d.status?.observedGeneration === undefined && (await adoptOrphans(this.deps, d, RS)) > 0)
      return { requeueAfterMs: 0 };
    // The owner index finds them; the base table gives their current state (the index may lag).
    const owned = await this.deps.store.listOwnedBy(d.metadata.uid, 'ReplicaSet');
    const replicaSets = await this.deps.store.getMany(
      owned.map((rs) => ({ kind: 'ReplicaSet', namespace, name: rs.metadata.name })),
    );
    const views: ReplicaSetView[] = replicaSets.map((rs: StoredObject) => {
      // A ReplicaSet just scaled down may not have reported yet: it cannot have more available pods than it is asked for.
      const wanted = Number(replicaSetSpec(rs).replicas ?? 0);
      return {
        rs,
        replicas: Number(rs.status?.replicas ?? 0),
        available: Math.min(wanted, Number(rs.status?.availableReplicas ?? 0)),
        ready: Math.min(wanted, Number(rs.status?.readyReplicas ?? 0)),
      };
    });
    const plan = planDeployment(d, views, this.deps.clock.now().getTime());
    if (plan.createReplicaSet) {
      try {
        const created = await this.deps.service.create(RS, namespace, plan.createReplicaSet);
        this.deps.events.record(
          d,
          'Normal',
          'ScalingReplicaSet',
          `Scaled up replica set ${created.metadata.name} to ${replicaSetSpec(created).replicas ?? 0}`,
        );
      } catch (e) {
        if (!(e instanceof AlreadyExistsError)) throw e;
        // Its name is taken: by an orphan of this template (adopt it and look again), or by another owner's (left alone).
        if (
          (await adoptOrphans(this.deps, d, RS, (rs) => rs.metadata.name === plan.createReplicaSet?.metadata.name)) > 0
        )
          return { requeueAfterMs: 0 };
      }
    }
    if (plan.revision) {
      await this.deps.service.patch(RS, namespace, plan.revision.replicaSet, 'merge', {
        metadata: { annotations: { [REVISION_ANNOTATION]: plan.revision.revision } },
      });
    }
    for (const [rsName, replicas] of Object.entries(plan.scale)) {
      const before = replicaSets.find((r) => r.metadata.name === rsName);
      const prior = Number(before?.spec?.replicas ?? 0);
      // Conditional on the version this plan read: of two reconciles working from the same state, one
      // scales and records the event; the other re-plans (a rollout once recorded one scaling twice).
      const precondition = before ? { resourceVersion: before.metadata.resourceVersion } : {};
      try {
        await this.deps.service.patch(RS, namespace, rsName, 'merge', {
          spec: { replicas },
          metadata: {
            ...precondition,
            annotations: { 'deployment.kubernetes.io/desired-replicas': String(d.spec?.replicas ?? 1) },
          },
        });
      } catch (e) {
        if (e instanceof ConflictError || e instanceof NotFoundError) return { requeueAfterMs: 0 };
        throw e;
      }
      this.deps.events.record(
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${replicas > prior ? 'up' : 'down'} replica set ${rsName} to ${replicas} from ${prior}`,
      );
    }
    for (const rsName of plan.deleteReplicaSets) {
      try {
        await this.deps.service.delete(RS, namespace, rsName, {});
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
    const revision = plan.revisionNow ?? d.metadata.annotations?.[REVISION_ANNOTATION];
    const unchanged =
      jsonEqual(stripTimes(plan.status), stripTimes(d.status ?? {})) &&
      d.metadata.annotations?.[REVISION_ANNOTATION] === revision;
    if (!unchanged) {
      const metadata =
        revision === undefined
          ? d.metadata
          : { ...d.metadata, annotations: { ...d.metadata.annotations, [REVISION_ANNOTATION]: revision } };
      try {
        await this.deps.store.update({ ...d, metadata, status: plan.status }, d);
      } catch (e) {
        if (!(e instanceof ConflictError || e instanceof NotFoundError)) throw e;
        return { requeueAfterMs: 0 };
      }
    }
    const progressing = findCondition({ ...d, status: plan.status }, 'Progressing');
    return progressing?.reason === 'ReplicaSetUpdated' ? { requeueAfterMs: PROGRESS_CHECK_MS } : {};
  }
}

/** Condition timestamps alone are not worth a write. */
function stripTimes(status: Record<string, unknown>) {
  const conditions = ((status.conditions ?? []) as Record<string, unknown>[]).map(
    ({ lastUpdateTime: _u, lastTransitionTime: _t, ...rest }) => rest,
  );
  return { ...status, conditions };
}
