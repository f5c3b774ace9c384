import { cause, type StatusCause } from '../errors.js';
import { isPlainObject } from '../json.js';
import { templateSupportProblems } from '../pod-support.js';
import { DEFAULTERS } from '../defaults.js';
import { COLUMNS } from '../printers.js';
import { daemonSetSchema, statefulSetSchema } from '../schemas/workload-schemas.js';
import { daemonSetTemplateGeneration } from './admission-hooks.js';
import type { KubeObject } from '../types.js';
import { claimSpecCauses } from './storage.js';
import { declareKind, scaleSub, type KindDeclaration } from './declaration.js';

/** apps/v1 StatefulSet and the ControllerRevisions that keep its template history. */

/** A workload of `kind` needs a selector, and its pods may not have a deadline (they run until replaced). */
function selectorAndDeadlineCauses(spec: Record<string, unknown>, kind: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (spec.selector == null) out.push(cause.required('spec.selector'));
  const template = isPlainObject(spec.template) ? spec.template : {};
  const podSpec = isPlainObject(template.spec) ? template.spec : {};
  if (podSpec.activeDeadlineSeconds != null)
    out.push(
      cause.forbidden('spec.template.spec.activeDeadlineSeconds', `activeDeadlineSeconds in ${kind} is not Supported`),
    );
  return out;
}

/** ValidateStatefulSetSpec's checks worded as Kubernetes words them (the shapes are statefulSetSchema's). */
function statefulSetCauses(o: KubeObject): StatusCause[] {
  const spec = isPlainObject(o.spec) ? o.spec : {};
  const out: StatusCause[] = [];
  const policy = spec.podManagementPolicy;
  if (policy === '' || policy === undefined) out.push(cause.required('spec.podManagementPolicy'));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel')
    out.push(cause.invalid('spec.podManagementPolicy', policy, "must be 'OrderedReady' or 'Parallel'"));
  const strategy = isPlainObject(spec.updateStrategy) ? spec.updateStrategy : {};
  if (strategy.type === '' || strategy.type === undefined) out.push(cause.required('spec.updateStrategy'));
  else if (strategy.type === 'OnDelete') {
    if (strategy.rollingUpdate != null)
      out.push(
        cause.invalid(
          'spec.updateStrategy.rollingUpdate',
          strategy.rollingUpdate,
          "only allowed for updateStrategy 'RollingUpdate'",
        ),
      );
  } else if (strategy.type !== 'RollingUpdate')
    out.push(cause.invalid('spec.updateStrategy', strategy, "must be 'RollingUpdate' or 'OnDelete'"));
  const maxUnavailable = isPlainObject(strategy.rollingUpdate) ? strategy.rollingUpdate.maxUnavailable : undefined;
  if (maxUnavailable === 0 || maxUnavailable === '0%')
    out.push(cause.invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', maxUnavailable, 'cannot be 0'));
  const percent = typeof maxUnavailable === 'string' ? /^(\d+)%$/.exec(maxUnavailable) : null;
  if (percent && Number(percent[1]) > 100)
    out.push(
      cause.invalid(
        'spec.updateStrategy.rollingUpdate.maxUnavailable',
        maxUnavailable,
        'must not be greater than 100%',
      ),
    );
  out.push(...selectorAndDeadlineCauses(spec, 'StatefulSet'));
  // Each claim template is a claim in the making: validated as one (ValidatePersistentVolumeClaimTemplate).
  (Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []).forEach((t: unknown, i) => {
    const at = `spec.volumeClaimTemplates[${i}]`;
    const template = isPlainObject(t) ? t : {};
    const meta = isPlainObject(template.metadata) ? template.metadata : {};
    if (typeof meta.name !== 'string' || !meta.name) out.push(cause.required(`${at}.metadata.name`));
    out.push(...claimSpecCauses(isPlainObject(template.spec) ? template.spec : {}, `${at}.spec`));
  });
  return [...out, ...templateSupportProblems(o)];
}

/** The number a valid int-or-percent stands for (getIntOrPercentValue): a percent's digits, else the integer. */
const intOrPercentValue = (v: unknown) =>
  typeof v === 'number' ? v : typeof v === 'string' && /^\d+%$/.test(v) ? Number(v.slice(0, -1)) : 0;

/** ValidateDaemonSetSpec's strategy rules and template restrictions, worded as Kubernetes words them. */
function daemonSetCauses(o: KubeObject): StatusCause[] {
  const spec = isPlainObject(o.spec) ? o.spec : {};
  const out: StatusCause[] = [];
  const strategy = isPlainObject(spec.updateStrategy) ? spec.updateStrategy : {};
  const at = 'spec.updateStrategy.rollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = strategy.rollingUpdate;
    if (!isPlainObject(ru)) out.push({ reason: 'FieldValueRequired', message: 'Required value', field: at });
    else {
      for (const f of ['maxUnavailable', 'maxSurge'] as const) {
        const m = typeof ru[f] === 'string' ? /^(\d+)%$/.exec(ru[f]) : null;
        if (m && Number(m[1]) > 100) out.push(cause.invalid(`${at}.${f}`, ru[f], 'must not be greater than 100%'));
      }
      const unavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const surge = intOrPercentValue(ru.maxSurge) !== 0;
      if (unavailable && surge)
        out.push(cause.invalid(`${at}.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
      if (!unavailable && !surge)
        out.push({
          reason: 'FieldValueRequired',
          message: 'Required value: cannot be 0 when maxSurge is 0',
          field: `${at}.maxUnavailable`,
        });
    }
  } else if (strategy.type !== 'OnDelete')
    out.push(cause.notSupported('spec.updateStrategy', strategy, ['RollingUpdate', 'OnDelete']));
  out.push(...selectorAndDeadlineCauses(spec, 'DaemonSet'));
  return [...out, ...templateSupportProblems(o)];
}

/** ValidateControllerRevision: data is mandatory, the revision number non-negative. */
function revisionCauses(o: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  if (o.data == null)
    out.push({ reason: 'FieldValueRequired', message: 'Required value: data is mandatory', field: 'data' });
  if (typeof o.revision === 'number' && o.revision < 0)
    out.push(cause.invalid('revision', o.revision, 'must be greater than or equal to 0'));
  return out;
}

export const APPS_KINDS: readonly KindDeclaration[] = [
  declareKind('StatefulSet', 'apps', 'v1', 'statefulsets', {
    reconciled: true,
    openApi: 'V1StatefulSet',
    shortNames: ['sts'],
    all: true,
    status: true,
    extra: [scaleSub],
    // ValidateStatefulSetName: a DNS label, since each pod's hostname is `<name>-<ordinal>`.
    nameIsLabel: true,
    schema: statefulSetSchema,
    validate: statefulSetCauses,
    defaults: DEFAULTERS.StatefulSet,
    initialStatus: () => ({ replicas: 0, availableReplicas: 0 }),
    columns: COLUMNS.StatefulSet,
  }),
  declareKind('DaemonSet', 'apps', 'v1', 'daemonsets', {
    reconciled: true,
    openApi: 'V1DaemonSet',
    shortNames: ['ds'],
    all: true,
    status: true,
    schema: daemonSetSchema,
    validate: daemonSetCauses,
    defaults: DEFAULTERS.DaemonSet,
    admit: daemonSetTemplateGeneration,
    // PrepareForCreate clears status; its four required counts start at 0.
    initialStatus: () => ({
      currentNumberScheduled: 0,
      numberMisscheduled: 0,
      desiredNumberScheduled: 0,
      numberReady: 0,
    }),
    columns: COLUMNS.DaemonSet,
  }),
  declareKind('ControllerRevision', 'apps', 'v1', 'controllerrevisions', {
    openApi: 'V1ControllerRevision',
    validate: revisionCauses,
    columns: COLUMNS.ControllerRevision,
  }),
];
