import { cause, type StatusCause } from '../errors.js';
import { ageColumn, nameColumn, spec, status, text } from '../printers.js';
import { intOrString, LABEL_SELECTOR, OBJECT_META } from '../protobuf-schemas.js';
import type { KubeObject } from '../types.js';
import { selectorRequirementCauses } from '../selector-validation.js';
import { declareKind, type KindDeclaration } from './declaration.js';

/** policy/v1 PodDisruptionBudget: how many of an application's pods voluntary disruptions may take at once. */

export const UNHEALTHY_POD_EVICTION_POLICIES = ['IfHealthyBudget', 'AlwaysAllow'] as const;
const PERCENT = /^(\d+)%$/;

/** appsvalidation.ValidatePositiveIntOrPercent and IsNotMoreThan100Percent. */
function intOrPercentCauses(v: unknown, field: string): StatusCause[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'number') return v < 0 ? [cause.invalid(field, v, 'must be greater than or equal to 0')] : [];
  const m = PERCENT.exec(String(v));
  if (!m)
    return [
      cause.invalid(
        field,
        v,
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%')",
      ),
    ];
  return Number(m[1]) > 100 ? [cause.invalid(field, v, 'must not be greater than 100%')] : [];
}

/** ValidatePodDisruptionBudgetSpec (pkg/apis/policy/validation). */
function pdbCauses(o: KubeObject): StatusCause[] {
  const s = spec(o);
  const out: StatusCause[] = [];
  if (s.minAvailable !== undefined && s.maxUnavailable !== undefined)
    out.push(cause.invalid('spec', s, 'minAvailable and maxUnavailable cannot be both set'));
  out.push(...intOrPercentCauses(s.minAvailable, 'spec.minAvailable'));
  out.push(...intOrPercentCauses(s.maxUnavailable, 'spec.maxUnavailable'));
  // ValidateLabelSelectorRequirement.
  out.push(...selectorRequirementCauses(s.selector, 'spec.selector'));
  const policy = s.unhealthyPodEvictionPolicy;
  if (policy !== undefined && !UNHEALTHY_POD_EVICTION_POLICIES.includes(policy as 'AlwaysAllow'))
    out.push(cause.notSupported('spec.unhealthyPodEvictionPolicy', policy, UNHEALTHY_POD_EVICTION_POLICIES));
  return out;
}

export const POLICY_KINDS: readonly KindDeclaration[] = [
  declareKind('PodDisruptionBudget', 'policy', 'v1', 'poddisruptionbudgets', {
    openApi: 'V1PodDisruptionBudget',
    shortNames: ['pdb'],
    status: true,
    // The disruption controller (shared/controllers/disruption) keeps its status; evictions read it.
    reconciled: true,
    validate: pdbCauses,
    // Kubernetes' PrepareForCreate clears status: its four counts are required fields, so they start at 0.
    initialStatus: () => ({ disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 }),
    // printPodDisruptionBudget.
    columns: [
      nameColumn,
      {
        name: 'Min Available',
        type: 'string',
        description: 'The minimum number of pods that must be available.',
        cell: (o) => (spec(o).minAvailable === undefined ? 'N/A' : text(spec(o).minAvailable)),
      },
      {
        name: 'Max Unavailable',
        type: 'string',
        description: 'The maximum number of pods that may be unavailable.',
        cell: (o) => (spec(o).maxUnavailable === undefined ? 'N/A' : text(spec(o).maxUnavailable)),
      },
      {
        name: 'Allowed Disruptions',
        type: 'integer',
        description: 'How many pods may be disrupted now.',
        cell: (o) => Number(status(o).disruptionsAllowed ?? 0),
      },
      ageColumn,
    ],
    // What `kubectl create poddisruptionbudget` sends (k8s.io/api/policy/v1 generated.proto).
    protobuf: {
      1: ['metadata', OBJECT_META],
      2: [
        'spec',
        {
          1: ['minAvailable', intOrString],
          2: ['selector', LABEL_SELECTOR],
          3: ['maxUnavailable', intOrString],
          4: ['unhealthyPodEvictionPolicy', 'string'],
        },
      ],
    },
  }),
];
