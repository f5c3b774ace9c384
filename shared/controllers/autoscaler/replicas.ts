import { findCondition } from '../../model/conditions.js';
import { isPlainObject } from '../../model/json.js';
import { phaseOf } from '../../model/pod-state.js';
import { parseQuantity } from '../../model/quantity.js';
import type { KubeObject } from '../../model/types.js';

/**
 * Kubernetes' ReplicaCalculator for resource metrics (pkg/controller/podautoscaler/replica_calculator.go,
 * 1.32): how many replicas bring the pods' average use to the target, with its rules for pods that are
 * unready, missing metrics, deleting or failed, and its 10% tolerance. Values are milli-units
 * (millicores, millibytes) as Quantity.MilliValue gives them. Pure: errors are returned as Kubernetes
 * words them, for the conditions and events that quote them.
 */

export const TOLERANCE = 0.1;
/** --horizontal-pod-autoscaler-cpu-initialization-period and --horizontal-pod-autoscaler-initial-readiness-delay. */
export const CPU_INITIALIZATION_MS = 300_000;
export const INITIAL_READINESS_DELAY_MS = 30_000;

/** One pod's use of a resource, with when and over what window it was measured. */
export interface PodMetric {
  valueMilli: number;
  timestampMs: number;
  windowMs: number;
}

export type Calculation =
  | { ok: true; replicas: number; utilization?: number; averageMilli: number; timestampMs: number }
  | { ok: false; error: string };

const fail = (error: string): Calculation => ({ ok: false, error });

/** The containers a pod's requests are summed over: its containers and its sidecars (restartable init containers). */
function requestMilli(pod: KubeObject, resource: string, container?: string): { milli: number } | { error: string } {
  const spec = isPlainObject(pod.spec) ? pod.spec : {};
  const main = Array.isArray(spec.containers) ? spec.containers : [];
  const init = (Array.isArray(spec.initContainers) ? spec.initContainers : []).filter(
    (c: unknown) => isPlainObject(c) && c.restartPolicy === 'Always',
  );
  let milli = 0;
  for (const c of [...main, ...init] as Record<string, unknown>[]) {
    if (container !== undefined && c.name !== container) continue;
    const requests = isPlainObject(c.resources) && isPlainObject(c.resources.requests) ? c.resources.requests : {};
    const q = requests[resource];
    const v = q === undefined ? undefined : parseQuantity(q as string);
    if (v === undefined)
      return {
        error: `missing request for ${resource} in container ${String(c.name)} of Pod ${pod.metadata.name ?? ''}`,
      };
    milli += Math.ceil(v * 1000 - 1e-9);
  }
  return { milli };
}

/** groupPods: which pods count, which are unready, which lack metrics, which are ignored. */
function groupPods(pods: KubeObject[], metrics: Map<string, PodMetric>, resource: string, nowMs: number) {
  const ready = new Map<string, PodMetric>();
  const unready = new Set<string>();
  const missing = new Set<string>();
  const ignored = new Set<string>();
  for (const pod of pods) {
    const name = pod.metadata.name ?? '';
    if (pod.metadata.deletionTimestamp || phaseOf(pod) === 'Failed') {
      ignored.add(name);
      continue;
    }
    if (phaseOf(pod) === 'Pending') {
      unready.add(name);
      continue;
    }
    const m = metrics.get(name);
    if (!m) {
      missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const cond = findCondition(pod, 'Ready');
      const start = Date.parse(String((isPlainObject(pod.status) ? pod.status.startTime : undefined) ?? ''));
      const transition = Date.parse(String(cond?.lastTransitionTime ?? ''));
      let isUnready: boolean;
      if (!cond || Number.isNaN(start)) isUnready = true;
      else if (nowMs < start + CPU_INITIALIZATION_MS)
        // Still initializing: its use counts only once it was measured entirely while ready.
        isUnready = cond.status === 'False' || m.timestampMs < transition + m.windowMs;
      else isUnready = cond.status === 'False' && start + INITIAL_READINESS_DELAY_MS > transition;
      if (isUnready) {
        unready.add(name);
        continue;
      }
    }
    ready.set(name, m);
  }
  return { ready, unready, missing, ignored };
}

interface Target {
  resource: string;
  /** ContainerResource: the one container whose requests count. */
  container?: string;
  /** A percentage of the requests, or else an average value in milli-units. */
  utilization?: number;
  averageMilli?: number;
}

/** GetResourceReplicas (Utilization) and GetRawResourceReplicas (AverageValue). */
export function resourceReplicas(
  currentReplicas: number,
  target: Target,
  pods: KubeObject[],
  metrics: Map<string, PodMetric>,
  nowMs: number,
): Calculation {
  if (!metrics.size)
    return fail(`unable to get metrics for resource ${target.resource}: no metrics returned from resource metrics API`);
  if (!pods.length) return fail('no pods returned by selector while calculating replica count');
  const { ready, unready, missing } = groupPods(pods, metrics, target.resource, nowMs);
  const readyCount = ready.size;
  if (!ready.size) return fail('did not receive metrics for targeted pods (pods might be unready)');
  const timestampMs = [...ready.values()][0]?.timestampMs ?? nowMs;

  let requests: Map<string, number> | undefined;
  if (target.utilization !== undefined) {
    requests = new Map();
    for (const pod of pods) {
      const r = requestMilli(pod, target.resource, target.container);
      if ('error' in r) return fail(r.error);
      requests.set(pod.metadata.name ?? '', r.milli);
    }
  }

  // The usage ratio over the pods in `values`: of the requests (Utilization) or of the average target.
  type Ratio = { error: string } | { ratio: number; utilization?: number; average: number };
  const ratioOf = (values: Map<string, number>): Ratio => {
    if (requests) {
      let used = 0;
      let requested = 0;
      for (const [name, v] of values) {
        const r = requests.get(name);
        if (r === undefined) continue;
        used += v;
        requested += r;
      }
      if (requested === 0) return { error: 'no metrics returned matched known pods' };
      const utilization = Math.trunc((used * 100) / requested);
      return { ratio: utilization / (target.utilization ?? 1), utilization, average: Math.trunc(used / values.size) };
    }
    const average = Math.trunc([...values.values()].reduce((a, b) => a + b, 0) / values.size);
    return { ratio: average / (target.averageMilli ?? 1), average };
  };

  const values = new Map([...ready].map(([n, m]) => [n, m.valueMilli]));
  const first = ratioOf(values);
  if ('error' in first) return fail(first.error);
  const done = (replicas: number): Calculation => ({
    ok: true,
    replicas,
    ...(first.utilization !== undefined ? { utilization: first.utilization } : {}),
    averageMilli: first.average,
    timestampMs,
  });
  const scaleUpWithUnready = unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && !missing.size) {
    if (Math.abs(1 - first.ratio) <= TOLERANCE) return done(currentReplicas);
    return done(Math.ceil(first.ratio * readyCount));
  }
  // Missing pods are assumed to use their whole request (or the target, if higher) when scaling down, nothing when scaling up.
  for (const name of missing) {
    if (first.ratio < 1) {
      if (requests) values.set(name, ((requests.get(name) ?? 0) * Math.max(100, target.utilization ?? 100)) / 100);
      else values.set(name, target.averageMilli ?? 0);
    } else if (first.ratio > 1) values.set(name, 0);
  }
  // Unready pods count as using nothing, and only when scaling up.
  if (scaleUpWithUnready) for (const name of unready) values.set(name, 0);
  const second = ratioOf(values);
  if ('error' in second) return fail(second.error);
  if (
    Math.abs(1 - second.ratio) <= TOLERANCE ||
    (first.ratio < 1 && second.ratio > 1) ||
    (first.ratio > 1 && second.ratio < 1)
  )
    return done(currentReplicas);
  const replicas = Math.ceil(second.ratio * values.size);
  if ((second.ratio < 1 && replicas > currentReplicas) || (second.ratio > 1 && replicas < currentReplicas))
    return done(currentReplicas);
  return done(replicas);
}
