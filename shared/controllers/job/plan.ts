import type { KubeObject } from '../../model/types.js';
import { rfc3339 } from '../../util/clock.js';
import { isReady, isTerminating, phaseOf, podFromTemplate } from '../pods.js';
import { BURST, slotName } from '../replicaset/plan.js';
import { jobSpec, jobStatus, podStatus } from '../../model/typed.js';

/**
 * The Job controller's decision, pure: run pods from the template until `completions` succeed,
 * `parallelism` at a time, give up after `backoffLimit` failed pods (with Kubernetes' exponential
 * delay before each retry) or after `activeDeadlineSeconds`, and remove the finished Job after
 * `ttlSecondsAfterFinished`.
 */

type Obj = Record<string, unknown>;

export interface JobPlan {
  create: KubeObject[];
  /** Active pods to stop (the Job finished or failed). */
  delete: string[];
  status: Obj;
  /** The Job itself is past its TTL. */
  deleteJob: boolean;
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
  requeueAfterMs?: number;
}

/** Kubernetes' pod failure back-off: 10 s, doubling, at most 6 minutes. */
export const backoffMs = (failures: number) => (failures <= 0 ? 0 : Math.min(10_000 * 2 ** (failures - 1), 360_000));
const iso = (ms: number) => rfc3339(new Date(ms));

/** When a failed pod failed: its containers' finish time, else when it started. */
function failedAt(pod: KubeObject): number {
  const status = podStatus(pod);
  const finished = (status.containerStatuses ?? [])
    .map((c) => Date.parse(c.state?.terminated?.finishedAt ?? ''))
    .filter(Number.isFinite);
  return finished.length ? Math.max(...finished) : Date.parse(status.startTime ?? '') || 0;
}

export function planJob(
  job: KubeObject & { metadata: { name: string; uid: string } },
  pods: KubeObject[],
  now: number,
): JobPlan {
  const spec = jobSpec(job);
  const prev = jobStatus(job);
  const plan: JobPlan = { create: [], delete: [], status: {}, deleteJob: false, events: [] };
  const active = pods.filter((p) => !isTerminating(p) && !['Succeeded', 'Failed'].includes(phaseOf(p)));
  const succeeded = pods.filter((p) => phaseOf(p) === 'Succeeded').length;
  const failedPods = pods.filter((p) => phaseOf(p) === 'Failed');
  const failed = failedPods.length;
  const completions = spec.completions ?? 1;
  const parallelism = spec.parallelism ?? 1;
  const startTime = prev.startTime ?? (spec.suspend ? undefined : iso(now));
  const finishedCond = (prev.conditions ?? []).find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  let conditions = prev.conditions ?? [];
  let completionTime = prev.completionTime;

  const finish = (type: 'Complete' | 'Failed', reason: string, message: string) => {
    conditions = [
      ...conditions.filter((c) => c.type !== type),
      { type, status: 'True', reason, message, lastProbeTime: iso(now), lastTransitionTime: iso(now) },
    ];
    if (type === 'Complete') completionTime = iso(now);
    plan.events.push({
      type: type === 'Complete' ? 'Normal' : 'Warning',
      reason: type === 'Complete' ? 'Completed' : reason,
      message,
    });
  };

  if (!finishedCond) {
    if (succeeded >= completions) finish('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods');
    else if (failed > (spec.backoffLimit ?? 6))
      finish('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    else if (
      spec.activeDeadlineSeconds !== undefined &&
      startTime &&
      now - Date.parse(startTime) >= spec.activeDeadlineSeconds * 1000
    )
      finish('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline');
  }
  const finished = conditions.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');

  if (finished) {
    plan.delete = active.map((p) => p.metadata.name ?? '');
    const ttl = spec.ttlSecondsAfterFinished;
    const finishedAt = Date.parse(finished.lastTransitionTime ?? iso(now));
    if (ttl !== undefined) {
      if (now >= finishedAt + ttl * 1000) plan.deleteJob = true;
      else plan.requeueAfterMs = finishedAt + ttl * 1000 - now;
    }
  } else if (!spec.suspend) {
    const want = Math.max(0, Math.min(parallelism, completions - succeeded) - active.length);
    // After a failure, wait out the back-off before starting a replacement.
    const lastFailure = Math.max(0, ...failedPods.map(failedAt));
    const wait = failed > 0 ? lastFailure + backoffMs(failed) - now : 0;
    if (want > 0 && wait > 0) plan.requeueAfterMs = wait;
    else {
      const taken = new Set(pods.map((p) => p.metadata.name));
      // At most a burst per reconcile, as Kubernetes' job controller (MaxPodCreateDeletePerSync, 500); the rest at once after.
      for (let slot = 0; plan.create.length < Math.min(want, BURST); slot++) {
        const name = slotName(job.metadata.name, job.metadata.uid, slot);
        if (taken.has(name)) continue;
        plan.create.push(podFromTemplate(job, name, spec.template));
      }
      if (want > BURST) plan.requeueAfterMs = 0;
    }
    if (spec.activeDeadlineSeconds !== undefined && startTime) {
      const left = Date.parse(startTime) + spec.activeDeadlineSeconds * 1000 - now;
      plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, Math.max(0, left));
    }
  }

  plan.status = {
    ...(startTime ? { startTime } : {}),
    ...(completionTime ? { completionTime } : {}),
    active: finished ? 0 : active.length,
    succeeded,
    failed,
    ready: active.filter(isReady).length,
    ...(conditions.length ? { conditions } : {}),
  };
  return plan;
}
