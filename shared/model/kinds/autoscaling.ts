import { cause, type StatusCause } from '../errors.js';
import { isPlainObject } from '../json.js';
import { dns1123Label } from '../names.js';
import { parseQuantity } from '../quantity.js';
import { ageColumn, nameColumn, spec, status, type Column } from '../printers.js';
import type { KubeObject } from '../types.js';
import { declareKind, type KindDeclaration } from './declaration.js';
import { hpaFromV1, hpaToV1 } from './autoscaling-v1.js';
import { PROTOBUF } from '../protobuf-schemas.js';

/**
 * autoscaling/v2 HorizontalPodAutoscaler: the replica count of a scalable workload follows its pods'
 * use. Validation and defaults are Kubernetes 1.32's (pkg/apis/autoscaling/validation, v2/defaults.go);
 * the controller is shared/controllers/autoscaler.
 */

export const METRIC_SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'] as const;
const SOURCE_FIELD: Record<string, string> = {
  Object: 'object',
  Pods: 'pods',
  Resource: 'resource',
  External: 'external',
  ContainerResource: 'containerResource',
};
const SELECT_POLICIES = ['Disabled', 'Max', 'Min'] as const;
const POLICY_TYPES = ['Percent', 'Pods'] as const;
/** Kubernetes' DefaultCPUUtilization. */
export const DEFAULT_CPU_UTILIZATION = 80;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (isPlainObject(v) ? v : {});
const present = (v: unknown) => v !== undefined && v !== null;

/** IsValidPathSegmentName: a name that goes into a URL path. */
function pathSegmentCauses(field: string, v: unknown): StatusCause[] {
  const s = String(v);
  if (s === '.' || s === '..') return [cause.invalid(field, v, `may not be '${s}'`)];
  const out: StatusCause[] = [];
  if (s.includes('/')) out.push(cause.invalid(field, v, "may not contain '/'"));
  if (s.includes('%')) out.push(cause.invalid(field, v, "may not contain '%'"));
  return out;
}

/** ValidateCrossVersionObjectReference (apiVersion is not checked in 1.32). */
function referenceCauses(ref: Obj, at: string): StatusCause[] {
  const out: StatusCause[] = [];
  for (const key of ['kind', 'name'] as const) {
    if (!ref[key]) out.push(cause.required(`${at}.${key}`));
    else out.push(...pathSegmentCauses(`${at}.${key}`, ref[key]));
  }
  return out;
}

function positiveQuantity(v: unknown, field: string): StatusCause[] {
  if (!present(v)) return [];
  const q = parseQuantity(v as string);
  return q !== undefined && q <= 0 ? [cause.invalid(field, v, 'must be positive')] : [];
}

/** validateMetricTarget. */
function targetCauses(target: Obj, at: string): StatusCause[] {
  const out: StatusCause[] = [];
  const t = target.type;
  if (!t)
    out.push({
      reason: 'FieldValueRequired',
      message: 'Required value: must specify a metric target type',
      field: `${at}.type`,
    });
  if (t !== 'Utilization' && t !== 'Value' && t !== 'AverageValue')
    out.push(cause.invalid(`${at}.type`, t ?? '', 'must be either Utilization, Value, or AverageValue'));
  out.push(
    ...positiveQuantity(target.value, `${at}.value`),
    ...positiveQuantity(target.averageValue, `${at}.averageValue`),
  );
  if (present(target.averageUtilization) && Number(target.averageUtilization) < 1)
    out.push(cause.invalid(`${at}.averageUtilization`, target.averageUtilization, 'must be greater than 0'));
  return out;
}

function metricNameCauses(metric: Obj, at: string): StatusCause[] {
  if (!metric.name)
    return [
      { reason: 'FieldValueRequired', message: 'Required value: must specify a metric name', field: `${at}.name` },
    ];
  return pathSegmentCauses(`${at}.name`, metric.name);
}

/** validateMetricSpec and the per-source checks. */
function metricCauses(m: Obj, at: string): StatusCause[] {
  const out: StatusCause[] = [];
  const type = m.type;
  if (!type)
    out.push({
      reason: 'FieldValueRequired',
      message: 'Required value: must specify a metric source type',
      field: `${at}.type`,
    });
  else if (!METRIC_SOURCE_TYPES.includes(type as 'Resource'))
    out.push(cause.notSupported(`${at}.type`, type, METRIC_SOURCE_TYPES));
  const given = Object.entries(SOURCE_FIELD).filter(([, f]) => present(m[f]));
  const wanted = SOURCE_FIELD[String(type)];
  if (wanted && !present(m[wanted]))
    out.push({
      reason: 'FieldValueRequired',
      message: 'Required value: must populate information for the given metric source',
      field: `${at}.${wanted}`,
    });
  for (const [, f] of given)
    if (f !== wanted) out.push(cause.forbidden(`${at}.${f}`, 'must populate the given metric source only'));
  // Only the first source present is checked in depth, in Kubernetes' order.
  const first = ['object', 'external', 'pods', 'resource', 'containerResource'].find((f) => present(m[f]));
  if (!first) return out;
  const src = obj(m[first]);
  const here = `${at}.${first}`;
  const target = obj(src.target);
  switch (first) {
    case 'resource':
    case 'containerResource': {
      if (!src.name)
        out.push({
          reason: 'FieldValueRequired',
          message: 'Required value: must specify a resource name',
          field: `${here}.name`,
        });
      if (first === 'containerResource') {
        if (!src.container)
          out.push({
            reason: 'FieldValueRequired',
            message: 'Required value: must specify a container',
            field: `${here}.container`,
          });
        else
          out.push(
            ...dns1123Label(String(src.container)).map((p) => cause.invalid(`${here}.container`, src.container, p)),
          );
      }
      out.push(...targetCauses(target, `${here}.target`));
      const util = present(target.averageUtilization);
      const value = present(target.averageValue);
      if (!util && !value)
        out.push({
          reason: 'FieldValueRequired',
          message: 'Required value: must set either a target raw value or a target utilization',
          field: `${here}.target.averageUtilization`,
        });
      if (util && value)
        out.push(
          cause.forbidden(
            `${here}.target.averageValue`,
            'may not set both a target raw value and a target utilization',
          ),
        );
      break;
    }
    case 'object':
      out.push(...referenceCauses(obj(src.describedObject), `${here}.describedObject`));
      out.push(...metricNameCauses(obj(src.metric), `${here}.metric`), ...targetCauses(target, `${here}.target`));
      if (!present(target.value) && !present(target.averageValue))
        out.push({
          reason: 'FieldValueRequired',
          message: 'Required value: must set either a target value or averageValue',
          field: `${here}.target.averageValue`,
        });
      break;
    case 'external':
      out.push(...metricNameCauses(obj(src.metric), `${here}.metric`), ...targetCauses(target, `${here}.target`));
      if (!present(target.value) && !present(target.averageValue))
        out.push({
          reason: 'FieldValueRequired',
          message: 'Required value: must set either a target value for metric or a per-pod target',
          field: `${here}.target.averageValue`,
        });
      if (present(target.value) && present(target.averageValue))
        out.push(
          cause.forbidden(`${here}.target.value`, 'may not set both a target value for metric and a per-pod target'),
        );
      break;
    case 'pods':
      out.push(...metricNameCauses(obj(src.metric), `${here}.metric`), ...targetCauses(target, `${here}.target`));
      if (!present(target.averageValue))
        out.push({
          reason: 'FieldValueRequired',
          message: 'Required value: must specify a positive target averageValue',
          field: `${here}.target.averageValue`,
        });
      break;
  }
  return out;
}

/** validateScalingRules for one direction. */
function rulesCauses(rules: Obj, at: string): StatusCause[] {
  const out: StatusCause[] = [];
  const window = rules.stabilizationWindowSeconds;
  if (present(window)) {
    if (Number(window) < 0)
      out.push(cause.invalid(`${at}.stabilizationWindowSeconds`, window, 'must be greater than or equal to zero'));
    if (Number(window) > 3600)
      out.push(cause.invalid(`${at}.stabilizationWindowSeconds`, window, 'must be less than or equal to 3600'));
  }
  if (present(rules.selectPolicy) && !SELECT_POLICIES.includes(rules.selectPolicy as 'Max'))
    out.push(cause.notSupported(`${at}.selectPolicy`, rules.selectPolicy, SELECT_POLICIES));
  const policies = Array.isArray(rules.policies) ? rules.policies : [];
  if (!policies.length)
    out.push({
      reason: 'FieldValueRequired',
      message: 'Required value: must specify at least one Policy',
      field: `${at}.policies`,
    });
  policies.forEach((p: unknown, i) => {
    const pol = obj(p);
    const here = `${at}.policies[${i}]`;
    if (!POLICY_TYPES.includes(pol.type as 'Pods'))
      out.push(cause.notSupported(`${here}.type`, pol.type ?? '', POLICY_TYPES));
    if (!(Number(pol.value) > 0)) out.push(cause.invalid(`${here}.value`, pol.value ?? 0, 'must be greater than zero'));
    const period = Number(pol.periodSeconds ?? 0);
    if (period <= 0)
      out.push(cause.invalid(`${here}.periodSeconds`, pol.periodSeconds ?? 0, 'must be greater than zero'));
    if (period > 1800)
      out.push(cause.invalid(`${here}.periodSeconds`, pol.periodSeconds, 'must be less than or equal to 1800'));
  });
  return out;
}

/** ValidateHorizontalPodAutoscaler (spec; the name is a DNS subdomain, as for every kind by default). */
function hpaCauses(o: KubeObject): StatusCause[] {
  const s = spec(o) as Obj;
  const out: StatusCause[] = [];
  const min = s.minReplicas;
  if (present(min) && Number(min) < 1)
    out.push(cause.invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (Number(s.maxReplicas ?? 0) < 1)
    out.push(cause.invalid('spec.maxReplicas', s.maxReplicas ?? 0, 'must be greater than 0'));
  if (present(min) && Number(s.maxReplicas ?? 0) < Number(min))
    out.push(cause.invalid('spec.maxReplicas', s.maxReplicas ?? 0, 'must be greater than or equal to `minReplicas`'));
  out.push(...referenceCauses(obj(s.scaleTargetRef), 'spec.scaleTargetRef'));
  (Array.isArray(s.metrics) ? s.metrics : []).forEach((m: unknown, i) =>
    out.push(...metricCauses(obj(m), `spec.metrics[${i}]`)),
  );
  const behavior = s.behavior;
  if (isPlainObject(behavior))
    for (const d of ['scaleUp', 'scaleDown'] as const)
      if (isPlainObject(behavior[d])) out.push(...rulesCauses(behavior[d], `spec.behavior.${d}`));
  return out;
}

/** Kubernetes' defaults for one direction of spec.behavior (v2/defaults.go); scaleDown's window is the controller's 300 s. */
export const DEFAULT_SCALE_UP = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};
export const DEFAULT_SCALE_DOWN = {
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

/** SetDefaults_HorizontalPodAutoscaler: minReplicas 1, a CPU target of 80% when no metric is given, behavior completed when given. */
function hpaDefaults(o: KubeObject): void {
  const s = (o.spec ??= {}) as Obj;
  s.minReplicas ??= 1;
  // Only what is absent: a value of the wrong type is validation's to refuse.
  if (s.metrics === undefined || s.metrics === null || (Array.isArray(s.metrics) && !s.metrics.length))
    s.metrics = [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } },
      },
    ];
  if (isPlainObject(s.behavior)) {
    const b = s.behavior;
    const fill = (given: unknown, defaults: Obj) => {
      const g = obj(given);
      return Object.fromEntries(
        Object.entries(defaults).map(([k, v]) => [k, present(g[k]) ? g[k] : JSON.parse(JSON.stringify(v))]),
      );
    };
    const absentOrObject = (v: unknown) => !present(v) || isPlainObject(v);
    if (absentOrObject(b.scaleUp)) b.scaleUp = { ...obj(b.scaleUp), ...fill(b.scaleUp, DEFAULT_SCALE_UP) };
    if (absentOrObject(b.scaleDown)) b.scaleDown = { ...obj(b.scaleDown), ...fill(b.scaleDown, DEFAULT_SCALE_DOWN) };
  }
}

/** printHorizontalPodAutoscaler's Targets cell (formatHPAMetrics, 1.32: the resource name leads, two at most). */
export function formatHpaTargets(o: KubeObject): string {
  const specs = (Array.isArray(spec(o).metrics) ? spec(o).metrics : []) as Obj[];
  if (!specs.length) return '<none>';
  const statuses = (Array.isArray(status(o).currentMetrics) ? status(o).currentMetrics : []) as Obj[];
  const parts = specs.map((m, i) => {
    const cur = obj(statuses[i]);
    switch (m.type) {
      case 'Resource':
      case 'ContainerResource': {
        const field = m.type === 'Resource' ? 'resource' : 'containerResource';
        const src = obj(m[field]);
        const target = obj(src.target);
        const current = obj(obj(cur[field]).current);
        if (present(target.averageValue))
          return `${String(src.name)}: ${present(current.averageValue) ? String(current.averageValue) : '<unknown>'}/${String(target.averageValue)}`;
        const now = present(current.averageUtilization) ? `${String(current.averageUtilization)}%` : '<unknown>';
        const want = present(target.averageUtilization) ? `${String(target.averageUtilization)}%` : '<auto>';
        return `${String(src.name)}: ${now}/${want}`;
      }
      case 'Pods': {
        const current = obj(obj(cur.pods).current);
        return `${present(current.averageValue) ? String(current.averageValue) : '<unknown>'}/${String(obj(obj(m.pods).target).averageValue)}`;
      }
      case 'Object':
      case 'External': {
        const field = m.type === 'Object' ? 'object' : 'external';
        const target = obj(obj(m[field]).target);
        const current = obj(obj(cur[field]).current);
        if (present(target.averageValue))
          return `${present(current.averageValue) ? String(current.averageValue) : '<unknown>'}/${String(target.averageValue)} (avg)`;
        return `${present(current.value) ? String(current.value) : '<unknown>'}/${String(target.value)}`;
      }
      default:
        return '<unknown type>';
    }
  });
  const shown = parts.slice(0, 2).join(', ');
  return parts.length > 2 ? `${shown} + ${parts.length - 2} more...` : shown;
}

const HPA_COLUMNS: Column[] = [
  nameColumn,
  {
    name: 'Reference',
    type: 'string',
    description:
      'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.',
    cell: (o) => `${String(obj(spec(o).scaleTargetRef).kind)}/${String(obj(spec(o).scaleTargetRef).name)}`,
  },
  {
    name: 'Targets',
    type: 'string',
    description: 'metrics contains the specifications for which to use to calculate the desired replica count.',
    cell: formatHpaTargets,
  },
  {
    name: 'MinPods',
    type: 'string',
    description: 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.',
    cell: (o) => (present(spec(o).minReplicas) ? String(spec(o).minReplicas) : '<unset>'),
  },
  {
    name: 'MaxPods',
    type: 'string',
    description: 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.',
    cell: (o) => Number(spec(o).maxReplicas ?? 0),
  },
  {
    name: 'Replicas',
    type: 'string',
    description:
      'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.',
    cell: (o) => Number(status(o).currentReplicas ?? 0),
  },
  ageColumn,
];

export const AUTOSCALING_KINDS: readonly KindDeclaration[] = [
  declareKind('HorizontalPodAutoscaler', 'autoscaling', 'v2', 'horizontalpodautoscalers', {
    openApi: 'V2HorizontalPodAutoscaler',
    shortNames: ['hpa'],
    all: true,
    status: true,
    reconciled: true,
    validate: hpaCauses,
    defaults: hpaDefaults,
    // The strategy's PrepareForCreate clears status; v2's desiredReplicas and currentMetrics are always serialized.
    initialStatus: () => ({ currentMetrics: null, desiredReplicas: 0 }),
    columns: HPA_COLUMNS,
  }),
  // What `kubectl autoscale` creates and older manifests say: a view of the v2 object.
  declareKind('HorizontalPodAutoscaler', 'autoscaling', 'v1', 'horizontalpodautoscalers', {
    openApi: 'V1HorizontalPodAutoscaler',
    shortNames: ['hpa'],
    all: true,
    status: true,
    conversion: { toStored: hpaFromV1, fromStored: hpaToV1 },
    protobuf: PROTOBUF.HorizontalPodAutoscalerV1,
  }),
];
