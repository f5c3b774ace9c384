import { BadRequestError } from '../errors.js';
import { isPlainObject, nestingOf } from '../json.js';
import type { KubeObject } from '../types.js';

/**
 * autoscaling/v1 HorizontalPodAutoscaler as a view of the stored autoscaling/v2 object, converted as
 * Kubernetes 1.32 converts (pkg/apis/autoscaling/v1/conversion.go): v1 has only
 * targetCPUUtilizationPercentage, and carries what v2 says beyond it in four annotations, so a round
 * trip through v1 (what `kubectl autoscale` creates, what old manifests apply) loses nothing.
 */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (isPlainObject(v) ? v : {});
const present = (v: unknown) => v !== undefined && v !== null;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export const V1_ANNOTATIONS = {
  metrics: 'autoscaling.alpha.kubernetes.io/metrics',
  currentMetrics: 'autoscaling.alpha.kubernetes.io/current-metrics',
  conditions: 'autoscaling.alpha.kubernetes.io/conditions',
  behavior: 'autoscaling.alpha.kubernetes.io/behavior',
} as const;

const isCpuUtilization = (m: Obj) =>
  m.type === 'Resource' && obj(m.resource).name === 'cpu' && present(obj(obj(m.resource).target).averageUtilization);

/** A Resource or ContainerResource entry (spec or status) with its source's other fields mapped by `f`. */
function resourceEntry(m: Obj, f: (src: Obj) => Obj): Obj {
  const field = m.type === 'Resource' ? 'resource' : 'containerResource';
  const src = obj(m[field]);
  return {
    type: m.type,
    [field]: { name: src.name, ...(present(src.container) ? { container: src.container } : {}), ...f(src) },
  };
}

/** A v2 MetricSpec in v1's annotation shape (the old v2beta1 fields). */
function metricToV1(m: Obj): Obj {
  const t = (src: Obj) => obj(src.target);
  switch (m.type) {
    case 'Resource':
    case 'ContainerResource':
      return resourceEntry(m, (src) => ({
        ...(present(t(src).averageUtilization) ? { targetAverageUtilization: t(src).averageUtilization } : {}),
        ...(present(t(src).averageValue) ? { targetAverageValue: t(src).averageValue } : {}),
      }));
    case 'Pods': {
      const src = obj(m.pods);
      const metric = obj(src.metric);
      return {
        type: 'Pods',
        pods: {
          metricName: metric.name,
          targetAverageValue: t(src).averageValue,
          ...(present(metric.selector) ? { selector: metric.selector } : {}),
        },
      };
    }
    case 'Object': {
      const src = obj(m.object);
      const metric = obj(src.metric);
      return {
        type: 'Object',
        object: {
          target: src.describedObject,
          metricName: metric.name,
          targetValue: t(src).value,
          ...(present(metric.selector) ? { selector: metric.selector } : {}),
          ...(present(t(src).averageValue) ? { averageValue: t(src).averageValue } : {}),
        },
      };
    }
    case 'External': {
      const src = obj(m.external);
      const metric = obj(src.metric);
      return {
        type: 'External',
        external: {
          metricName: metric.name,
          ...(present(metric.selector) ? { metricSelector: metric.selector } : {}),
          ...(present(t(src).value) ? { targetValue: t(src).value } : {}),
          ...(present(t(src).averageValue) ? { targetAverageValue: t(src).averageValue } : {}),
        },
      };
    }
    default:
      return clone(m);
  }
}

/** The inverse of metricToV1. */
function metricFromV1(m: Obj): Obj {
  switch (m.type) {
    case 'Resource':
    case 'ContainerResource':
      return resourceEntry(m, (src) => {
        const utilization = present(src.targetAverageUtilization);
        return {
          target: {
            type: utilization ? 'Utilization' : 'AverageValue',
            ...(utilization ? { averageUtilization: src.targetAverageUtilization } : {}),
            ...(present(src.targetAverageValue) ? { averageValue: src.targetAverageValue } : {}),
          },
        };
      });
    case 'Pods': {
      const src = obj(m.pods);
      return {
        type: 'Pods',
        pods: {
          metric: { name: src.metricName, ...(present(src.selector) ? { selector: src.selector } : {}) },
          target: { type: 'AverageValue', averageValue: src.targetAverageValue },
        },
      };
    }
    case 'Object': {
      const src = obj(m.object);
      return {
        type: 'Object',
        object: {
          describedObject: src.target,
          metric: { name: src.metricName, ...(present(src.selector) ? { selector: src.selector } : {}) },
          target: present(src.averageValue)
            ? { type: 'AverageValue', averageValue: src.averageValue }
            : { type: 'Value', value: src.targetValue },
        },
      };
    }
    case 'External': {
      const src = obj(m.external);
      return {
        type: 'External',
        external: {
          metric: { name: src.metricName, ...(present(src.metricSelector) ? { selector: src.metricSelector } : {}) },
          target: present(src.targetAverageValue)
            ? { type: 'AverageValue', averageValue: src.targetAverageValue }
            : { type: 'Value', value: src.targetValue },
        },
      };
    }
    default:
      return clone(m);
  }
}

/** A v2 MetricStatus in v1's annotation shape. */
function statusToV1(s: Obj): Obj {
  const cur = (src: Obj) => obj(src.current);
  switch (s.type) {
    case 'Resource':
    case 'ContainerResource':
      return resourceEntry(s, (src) => ({
        ...(present(cur(src).averageUtilization) ? { currentAverageUtilization: cur(src).averageUtilization } : {}),
        currentAverageValue: cur(src).averageValue ?? '0',
      }));
    default:
      return clone(s);
  }
}

function statusFromV1(s: Obj): Obj {
  switch (s.type) {
    case 'Resource':
    case 'ContainerResource':
      return resourceEntry(s, (src) => ({
        current: {
          ...(present(src.currentAverageUtilization) ? { averageUtilization: src.currentAverageUtilization } : {}),
          ...(present(src.currentAverageValue) ? { averageValue: src.currentAverageValue } : {}),
        },
      }));
    default:
      return clone(s);
  }
}

/**
 * spec.behavior as the annotation holds it: json.Marshal of Kubernetes' internal type, which has no
 * JSON tags, so its keys are Go's field names (and it is read back case-insensitively).
 */
function behaviorToGo(b: Obj): Obj {
  const rules = (r: unknown) =>
    isPlainObject(r)
      ? {
          StabilizationWindowSeconds: r.stabilizationWindowSeconds ?? null,
          SelectPolicy: r.selectPolicy ?? null,
          Policies: Array.isArray(r.policies)
            ? r.policies.map((p: unknown) => ({
                Type: obj(p).type,
                Value: obj(p).value,
                PeriodSeconds: obj(p).periodSeconds,
              }))
            : null,
        }
      : null;
  return { ScaleUp: rules(b.scaleUp), ScaleDown: rules(b.scaleDown) };
}

/** Go's case-insensitive field match: any key spelling of a field is that field, in lower camel case. */
function behaviorFromGo(b: unknown): Obj {
  const lower = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(lower);
    if (!isPlainObject(v)) return v;
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k.charAt(0).toLowerCase() + k.slice(1)] = lower(x);
    return out;
  };
  return obj(lower(b));
}

/** How deep an annotation's JSON may nest: its shapes nest about six levels, and what it holds is walked recursively. */
const MAX_ANNOTATION_NESTING = 32;

/** One of the four annotations, decoded; what cannot be read is the client's error (Kubernetes' conversion fails too). */
function parse(annotations: Record<string, unknown>, key: string): unknown {
  const text = annotations[key];
  if (text === undefined) return undefined;
  const bad = (why: string) => new BadRequestError(`metadata.annotations[${key}]: ${why}`);
  if (typeof text !== 'string') throw bad('must be a string of JSON');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (nestingOf(value, MAX_ANNOTATION_NESTING) > MAX_ANNOTATION_NESTING)
    throw bad(`nested more than ${MAX_ANNOTATION_NESTING} levels deep`);
  return value;
}

/**
 * The object's annotations as given: a converter sees request bodies before validation, which then
 * refuses what is not a string.
 */
const annotationsOf = (o: KubeObject) => ({ ...obj(obj(o.metadata).annotations) }) as Record<string, string>;

/** The stored v2 object as autoscaling/v1 shows it. */
export function hpaToV1(o: KubeObject): KubeObject {
  const spec = obj(o.spec);
  const status = obj(o.status);
  const metrics = (Array.isArray(spec.metrics) ? spec.metrics : []) as Obj[];
  const annotations = annotationsOf(o);
  for (const a of Object.values(V1_ANNOTATIONS)) delete annotations[a];
  // The first cpu Resource metric is v1's own field (when it targets a utilization); every other goes to the annotation.
  const cpuIndex = metrics.findIndex((m) => m.type === 'Resource' && obj(m.resource).name === 'cpu');
  const cpu = cpuIndex >= 0 && isCpuUtilization(metrics[cpuIndex] ?? {}) ? metrics[cpuIndex] : undefined;
  const others = metrics.filter((m) => m !== cpu).map(metricToV1);
  if (others.length) annotations[V1_ANNOTATIONS.metrics] = JSON.stringify(others);
  if (isPlainObject(spec.behavior)) annotations[V1_ANNOTATIONS.behavior] = JSON.stringify(behaviorToGo(spec.behavior));
  const current = (Array.isArray(status.currentMetrics) ? status.currentMetrics : []) as Obj[];
  if (current.length) annotations[V1_ANNOTATIONS.currentMetrics] = JSON.stringify(current.map(statusToV1));
  if (Array.isArray(status.conditions) && status.conditions.length)
    annotations[V1_ANNOTATIONS.conditions] = JSON.stringify(status.conditions);
  const cpuStatus = current.filter((s) => s.type === 'Resource' && obj(s.resource).name === 'cpu').at(-1);
  const cpuNow = obj(obj(cpuStatus?.resource).current).averageUtilization;
  const { annotations: _drop, ...meta } = obj(o.metadata);
  return {
    ...o,
    apiVersion: 'autoscaling/v1',
    metadata: { ...meta, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: {
      scaleTargetRef: spec.scaleTargetRef,
      ...(present(spec.minReplicas) ? { minReplicas: spec.minReplicas } : {}),
      maxReplicas: spec.maxReplicas,
      ...(cpu ? { targetCPUUtilizationPercentage: obj(obj(cpu.resource).target).averageUtilization } : {}),
    },
    status: {
      ...(present(status.observedGeneration) ? { observedGeneration: status.observedGeneration } : {}),
      ...(present(status.lastScaleTime) ? { lastScaleTime: status.lastScaleTime } : {}),
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      ...(present(cpuNow) ? { currentCPUUtilizationPercentage: cpuNow } : {}),
    },
  };
}

/**
 * An autoscaling/v1 object as the v2 object it stands for (defaults are applied after, at admission).
 * A body whose metadata, spec or status is not an object is passed on as it is, for validation to refuse.
 */
export function hpaFromV1(o: KubeObject): KubeObject {
  const malformed = (v: unknown) => v !== undefined && v !== null && !isPlainObject(v);
  if (malformed(o.metadata) || malformed(o.spec) || malformed(o.status)) return { ...o, apiVersion: 'autoscaling/v2' };
  const spec = obj(o.spec);
  const status = obj(o.status);
  const annotations = annotationsOf(o);
  const metrics: Obj[] = [];
  const extra = parse(annotations, V1_ANNOTATIONS.metrics);
  if (Array.isArray(extra)) metrics.push(...extra.map((m) => metricFromV1(obj(m))));
  if (present(spec.targetCPUUtilizationPercentage))
    metrics.push({
      type: 'Resource',
      resource: {
        name: 'cpu',
        target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage },
      },
    });
  const behavior = parse(annotations, V1_ANNOTATIONS.behavior);
  const currentAnnotated = parse(annotations, V1_ANNOTATIONS.currentMetrics);
  const currentMetrics = Array.isArray(currentAnnotated)
    ? currentAnnotated.map((s) => statusFromV1(obj(s)))
    : present(status.currentCPUUtilizationPercentage)
      ? [
          {
            type: 'Resource',
            resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } },
          },
        ]
      : undefined;
  const conditions = parse(annotations, V1_ANNOTATIONS.conditions);
  for (const a of Object.values(V1_ANNOTATIONS)) delete annotations[a];
  const { annotations: _drop, ...meta } = obj(o.metadata);
  const { targetCPUUtilizationPercentage: _cpu, ...v2spec } = spec;
  const { currentCPUUtilizationPercentage: _now, ...v2status } = status;
  return {
    ...o,
    apiVersion: 'autoscaling/v2',
    metadata: { ...meta, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: {
      ...v2spec,
      ...(metrics.length ? { metrics } : {}),
      ...(isPlainObject(behavior) ? { behavior: behaviorFromGo(behavior) } : {}),
    },
    ...(o.status === undefined
      ? {}
      : {
          status: {
            ...v2status,
            ...(currentMetrics ? { currentMetrics } : {}),
            ...(Array.isArray(conditions) ? { conditions } : {}),
          },
        }),
  };
}
