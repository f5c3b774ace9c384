import { isPlainObject } from '../../model/json.js';
import { parseQuantity, formatScaledQuantity } from '../../model/quantity.js';
import type { KubeObject } from '../../model/types.js';
import { rfc3339 } from '../../util/clock.js';
import {
  normalizeLegacy,
  normalizeWithBehavior,
  recordScaleEvent,
  type Behavior,
  type History,
  type Reason,
} from './behavior.js';
import { resourceReplicas, type PodMetric } from './replicas.js';

/**
 * One evaluation of a HorizontalPodAutoscaler, as horizontal.go's reconcileAutoscaler (1.32) makes it:
 * from the target's scale, its pods and their metrics, the replica count to set, the status (conditions
 * in Kubernetes' words) and the events. Pure; the controller reads and writes.
 */

export interface ContainerSample {
  name: string;
  /** Nanocores. */
  cpu: number;
  /** Bytes. */
  memory: number;
}
/** A pod's latest usage, by container. */
export interface PodSample {
  timestampMs: number;
  windowMs: number;
  containers: ContainerSample[];
}

export interface AutoscalerEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface AutoscalerInput {
  hpa: KubeObject;
  /** The target's scale subresource, or why it could not be read. */
  scale: { replicas: number; selector: string } | { error: string };
  /** The pods the scale's selector selects. */
  pods: KubeObject[];
  /** Their usage, by pod name. */
  samples: Map<string, PodSample>;
  history: History;
  nowMs: number;
  /** The HPAs (`<namespace>/<name>`, this one included) whose targets select any of these pods, when more than this one do. */
  ambiguous?: string[];
}

export interface AutoscalerPlan {
  /** Set the target's replicas to this (a rescale), with the reason the event gives. */
  rescale?: { replicas: number; reason: string };
  status: Record<string, unknown>;
  events: AutoscalerEvent[];
  history: History;
  /** The history without this evaluation's rescale (what remains should writing the scale fail). */
  recommended: History;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (isPlainObject(v) ? v : {});

interface Condition {
  type: string;
  status: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** setCondition: the first-set order is kept; the transition time moves only when the status does. */
function setCondition(conditions: Condition[], type: string, status: 'True' | 'False', r: Reason, nowMs: number) {
  const existing = conditions.find((c) => c.type === type);
  const next = {
    type,
    status,
    lastTransitionTime: existing && existing.status === status ? existing.lastTransitionTime : rfc3339(new Date(nowMs)),
    reason: r.reason,
    message: r.message,
  };
  if (existing) Object.assign(existing, next);
  else conditions.push(next);
}

/** A pod's use of one resource in milli-units (MilliValue per container, summed), or undefined when a container lacks it. */
function podValue(sample: PodSample, resource: string, container?: string): number | undefined {
  const cs = container === undefined ? sample.containers : sample.containers.filter((c) => c.name === container);
  if (!cs.length) return undefined;
  let milli = 0;
  for (const c of cs) {
    if (resource === 'cpu') milli += Math.ceil(c.cpu / 1e6);
    else if (resource === 'memory') milli += c.memory * 1000;
    else return undefined;
  }
  return milli;
}

interface MetricResult {
  replicas: number;
  name: string;
  status: Obj;
  timestampMs: number;
}
type MetricOutcome = MetricResult | { error: string; condition: Reason & { type: string }; event: AutoscalerEvent };

/** computeStatusForResourceMetric / ContainerResource: one resource target against the pods' metrics. */
function resourceMetric(m: Obj, input: AutoscalerInput, replicas: number): MetricOutcome {
  const container = m.type === 'ContainerResource';
  const field = container ? 'containerResource' : 'resource';
  const src = obj(m[field]);
  const resource = String(src.name ?? '');
  const target = obj(src.target);
  const containerName = container ? String(src.container ?? '') : undefined;
  const failed = (what: string, error: string): MetricOutcome => {
    const reason = container ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
    const message = `failed to get ${resource} ${what}: ${error}`;
    return {
      error: `failed to get ${resource} ${container ? 'container ' : ''}resource metric value: ${message}`,
      condition: {
        type: 'ScalingActive',
        reason,
        message: `the HPA was unable to compute the replica count: ${message}`,
      },
      event: { type: 'Warning', reason, message },
    };
  };
  const statusEntry = (current: Obj): Obj => ({
    type: m.type,
    [field]: { name: resource, ...(container ? { container: containerName } : {}), current },
  });
  const metrics = new Map<string, PodMetric>();
  for (const [name, s] of input.samples) {
    const v = podValue(s, resource, containerName);
    if (v !== undefined) metrics.set(name, { valueMilli: v, timestampMs: s.timestampMs, windowMs: s.windowMs });
  }
  const averageValue = target.averageValue;
  if (averageValue !== undefined && averageValue !== null) {
    const averageMilli = Math.ceil((parseQuantity(averageValue as string) ?? 0) * 1000 - 1e-9);
    const r = resourceReplicas(replicas, { resource, averageMilli }, input.pods, metrics, input.nowMs);
    if (!r.ok) return failed('usage', r.error);
    return {
      replicas: r.replicas,
      name: `${resource} resource`,
      timestampMs: r.timestampMs,
      status: statusEntry({ averageValue: formatScaledQuantity(r.averageMilli, -3) }),
    };
  }
  const utilization = target.averageUtilization;
  if (utilization === undefined || utilization === null)
    return failed(
      'utilization',
      'invalid resource metric source: neither an average utilization target nor an average value (usage) target was set',
    );
  const r = resourceReplicas(
    replicas,
    { resource, container: containerName, utilization: Number(utilization) },
    input.pods,
    metrics,
    input.nowMs,
  );
  if (!r.ok) return failed('utilization', r.error);
  return {
    replicas: r.replicas,
    name: `${resource} resource utilization (percentage of request)`,
    timestampMs: r.timestampMs,
    status: statusEntry({ averageUtilization: r.utilization, averageValue: formatScaledQuantity(r.averageMilli, -3) }),
  };
}

/**
 * Pods, Object and External metrics come from the custom and external metrics APIs, which kumo does
 * not serve: reported as a Kubernetes cluster without a metrics adapter reports them.
 */
function customMetric(m: Obj): MetricOutcome {
  const kind = m.type === 'Pods' ? 'pods' : m.type === 'Object' ? 'object' : 'external';
  const api =
    kind === 'external'
      ? 'external metrics API (external.metrics.k8s.io)'
      : 'custom metrics API (custom.metrics.k8s.io)';
  const name = String(obj(obj(m[kind]).metric).name ?? '');
  const reason = `FailedGet${String(m.type)}Metric`;
  const message = `unable to get metric ${name}: kumo does not serve the ${api}; only Resource and ContainerResource metrics (cpu, memory) are available`;
  return {
    error: `failed to get ${kind} metric value: ${message}`,
    condition: {
      type: 'ScalingActive',
      reason,
      message: `the HPA was unable to compute the replica count: ${message}`,
    },
    event: { type: 'Warning', reason, message },
  };
}

export function planAutoscaler(input: AutoscalerInput): AutoscalerPlan {
  const { hpa, nowMs } = input;
  const spec = obj(hpa.spec);
  const old = obj(hpa.status);
  const conditions: Condition[] = (Array.isArray(old.conditions) ? old.conditions : []).map((c) => ({
    ...(c as Condition),
  }));
  const events: AutoscalerEvent[] = [];
  const keep = { ...(old.lastScaleTime ? { lastScaleTime: old.lastScaleTime } : {}) };

  if ('error' in input.scale) {
    events.push({ type: 'Warning', reason: 'FailedGetScale', message: input.scale.error });
    setCondition(
      conditions,
      'AbleToScale',
      'False',
      {
        reason: 'FailedGetScale',
        message: `the HPA controller was unable to get the target's current scale: ${input.scale.error}`,
      },
      nowMs,
    );
    return { status: { ...old, conditions }, events, history: input.history, recommended: input.history };
  }
  setCondition(
    conditions,
    'AbleToScale',
    'True',
    { reason: 'SucceededGetScale', message: "the HPA controller was able to get the target's current scale" },
    nowMs,
  );
  const current = input.scale.replicas;
  const min = Number(spec.minReplicas ?? 1);
  const max = Number(spec.maxReplicas ?? 1);
  let history: History = input.history.recommendations.length
    ? input.history
    : { ...input.history, recommendations: [{ replicas: current, atMs: nowMs }] };
  let desired = 0;
  let reason = '';
  let currentMetrics: Obj[] | null = null;
  let rescale = true;

  if (current === 0 && min !== 0) {
    rescale = false;
    setCondition(
      conditions,
      'ScalingActive',
      'False',
      { reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' },
      nowMs,
    );
  } else if (current > max) {
    reason = 'Current number of replicas above Spec.MaxReplicas';
    desired = max;
  } else if (current < min) {
    reason = 'Current number of replicas below Spec.MinReplicas';
    desired = min;
  } else {
    const metricSpecs = (Array.isArray(spec.metrics) ? spec.metrics : []) as Obj[];
    const failure = (statuses: Obj[] | null, error: string): AutoscalerPlan => {
      events.push({ type: 'Warning', reason: 'FailedComputeMetricsReplicas', message: error });
      return {
        status: { ...old, currentReplicas: current, currentMetrics: statuses, conditions, ...keep },
        events,
        history,
        recommended: history,
      };
    };
    if (!input.scale.selector) {
      events.push({ type: 'Warning', reason: 'SelectorRequired', message: 'selector is required' });
      setCondition(
        conditions,
        'ScalingActive',
        'False',
        { reason: 'InvalidSelector', message: "the HPA target's scale is missing a selector" },
        nowMs,
      );
      return failure(null, 'selector is required');
    }
    if (input.ambiguous?.length) {
      // Kubernetes' selector check (1.28+): two HPAs scaling the same pods would fight.
      const message = `pods by selector ${input.scale.selector} are controlled by multiple HPAs: [${input.ambiguous.join(' ')}]`;
      events.push({ type: 'Warning', reason: 'AmbiguousSelector', message });
      setCondition(conditions, 'ScalingActive', 'False', { reason: 'AmbiguousSelector', message }, nowMs);
      return failure(null, message);
    }
    const statuses: Obj[] = metricSpecs.map(() => ({ type: '' }));
    let best = 0;
    let bestName = '';
    let invalid = 0;
    let firstError: Extract<MetricOutcome, { error: string }> | undefined;
    metricSpecs.forEach((m, i) => {
      const outcome =
        m.type === 'Resource' || m.type === 'ContainerResource' ? resourceMetric(m, input, current) : customMetric(m);
      if ('error' in outcome) {
        invalid++;
        events.push(outcome.event);
        firstError ??= outcome;
        return;
      }
      statuses[i] = outcome.status;
      if (best === 0 || outcome.replicas > best) {
        best = outcome.replicas;
        bestName = outcome.name;
      }
    });
    if (firstError && (invalid === metricSpecs.length || best < current)) {
      setCondition(conditions, 'ScalingActive', 'False', firstError.condition, nowMs);
      return failure(
        statuses,
        `invalid metrics (${invalid} invalid out of ${metricSpecs.length}), first error is: ${firstError.error}`,
      );
    }
    setCondition(
      conditions,
      'ScalingActive',
      'True',
      {
        reason: 'ValidMetricFound',
        message: `the HPA was able to successfully calculate a replica count from ${bestName}`,
      },
      nowMs,
    );
    currentMetrics = statuses;
    if (best > 0) desired = best;
    if (desired > current) reason = `${bestName} above target`;
    if (desired < current) reason = 'All metrics below target';
    const behavior = isPlainObject(spec.behavior) ? (spec.behavior as Behavior) : undefined;
    const n = behavior
      ? normalizeWithBehavior(behavior, history, current, desired, min, max, nowMs)
      : normalizeLegacy(history, current, desired, min, max, nowMs);
    history = n.history;
    setCondition(conditions, 'AbleToScale', 'True', n.normalized.ableToScale, nowMs);
    setCondition(conditions, 'ScalingLimited', n.normalized.limited.status, n.normalized.limited, nowMs);
    desired = n.normalized.replicas;
  }
  rescale = rescale && desired !== current;
  const recommended = history;
  if (!rescale) desired = current;
  if (rescale) {
    setCondition(
      conditions,
      'AbleToScale',
      'True',
      { reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${desired}` },
      nowMs,
    );
    events.push({ type: 'Normal', reason: 'SuccessfulRescale', message: `New size: ${desired}; reason: ${reason}` });
    history = recordScaleEvent(
      isPlainObject(spec.behavior) ? (spec.behavior as Behavior) : undefined,
      history,
      current,
      desired,
      nowMs,
    );
  }
  return {
    ...(rescale ? { rescale: { replicas: desired, reason } } : {}),
    status: {
      currentReplicas: current,
      desiredReplicas: desired,
      currentMetrics,
      conditions,
      ...(rescale ? { lastScaleTime: rfc3339(new Date(nowMs)) } : keep),
    },
    events,
    history,
    recommended,
  };
}

/** What the evaluation says when writing the new scale failed (FailedRescale, FailedUpdateScale). */
export function rescaleFailed(plan: AutoscalerPlan, previous: AutoscalerInput, error: string): AutoscalerPlan {
  const status = obj(plan.status);
  const conditions = (Array.isArray(status.conditions) ? status.conditions : []).map((c) => ({ ...(c as Condition) }));
  setCondition(
    conditions,
    'AbleToScale',
    'False',
    { reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${error}` },
    previous.nowMs,
  );
  const old = obj(previous.hpa.status);
  return {
    status: { ...old, currentReplicas: status.currentReplicas, currentMetrics: status.currentMetrics, conditions },
    events: [
      ...plan.events.filter((e) => e.reason !== 'SuccessfulRescale'),
      {
        type: 'Warning',
        reason: 'FailedRescale',
        message: `New size: ${plan.rescale?.replicas ?? 0}; reason: ${plan.rescale?.reason ?? ''}; error: ${error}`,
      },
    ],
    history: plan.recommended,
    recommended: plan.recommended,
  };
}
