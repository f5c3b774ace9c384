import type { KubeObject } from '../model/types.js';
import { mostRecentScheduleTime, scheduleOf } from './cronjob/plan.js';
import {
  cronJobSpec,
  cronJobStatus,
  daemonSetSpec,
  daemonSetStatus,
  statefulSetSpec,
  statefulSetStatus,
  workloadSpec,
  workloadStatus,
} from '../model/typed.js';

/**
 * Whether a workload object has reached what it asks for. The periodic sweep re-enqueues only the
 * ones that have not, so a lost event delays convergence but never stops it.
 */
export function converged(o: KubeObject, now: number): boolean {
  const spec = workloadSpec(o);
  const status = workloadStatus(o);
  if (o.kind === 'CronJob') return !cronJobDue(o, now);
  // An autoscaler is never done: its evaluations are a chain of delayed reconciles that the sweep restarts should one be lost.
  if (o.kind === 'HorizontalPodAutoscaler') return false;
  if (o.metadata.deletionTimestamp) return false;
  if ((status.observedGeneration ?? 0) < (o.metadata.generation ?? 1) && o.kind !== 'Job') return false;
  switch (o.kind) {
    case 'ReplicaSet':
    case 'ReplicationController':
      return status.replicas === (spec.replicas ?? 1) && status.availableReplicas === (spec.replicas ?? 1);
    case 'Deployment':
      return (
        status.updatedReplicas === (spec.replicas ?? 1) &&
        status.replicas === (spec.replicas ?? 1) &&
        status.availableReplicas === (spec.replicas ?? 1)
      );
    case 'StatefulSet': {
      // Every ordinal there, ready and available, and the rollout as far as it goes: to the partition, or not at all with OnDelete.
      const strategy = statefulSetSpec(o).updateStrategy;
      const replicas = spec.replicas ?? 1;
      const updated =
        (statefulSetStatus(o).updatedReplicas ?? 0) >= replicas - (strategy?.rollingUpdate?.partition ?? 0);
      return (
        status.replicas === replicas &&
        status.readyReplicas === replicas &&
        status.availableReplicas === replicas &&
        (strategy?.type === 'OnDelete' || updated)
      );
    }
    case 'DaemonSet': {
      // Every node that should run a pod runs an up-to-date, available one, and no other node runs one.
      const ds = daemonSetStatus(o);
      const desired = ds.desiredNumberScheduled ?? 0;
      return (
        ds.currentNumberScheduled === desired &&
        ds.numberAvailable === desired &&
        (daemonSetSpec(o).updateStrategy?.type === 'OnDelete' || ds.updatedNumberScheduled === desired) &&
        (ds.numberMisscheduled ?? 0) === 0
      );
    }
    case 'Job':
      return (status.conditions ?? []).some(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
    default:
      return true;
  }
}

export const SWEPT_KINDS = [
  'Deployment',
  'ReplicaSet',
  'ReplicationController',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'HorizontalPodAutoscaler',
] as const;

/** A CronJob whose latest start time has come and has no Job yet (a lost delayed message would leave it so). */
function cronJobDue(cj: KubeObject, now: number): boolean {
  if (cj.metadata.deletionTimestamp || cj.spec?.suspend === true) return false;
  const schedule = scheduleOf(cj);
  if (!('next' in schedule)) return false;
  // Held back by Forbid: the running Job's end brings the reconcile, not the sweep.
  if (cronJobSpec(cj).concurrencyPolicy === 'Forbid' && (cronJobStatus(cj).active ?? []).length) return false;
  const { mostRecent } = mostRecentScheduleTime(cj, now, schedule, true);
  return !!mostRecent && Date.parse(String(cj.status?.lastScheduleTime ?? '')) !== mostRecent.getTime();
}
