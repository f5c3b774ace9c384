import { cause, type StatusCause } from '../errors.js';
import { isPlainObject } from '../json.js';
import { templateSupportProblems } from '../pod-support.js';
import { DEFAULTERS } from '../defaults.js';
import { COLUMNS } from '../printers.js';
import { statefulSetSchema } from '../schemas/workload-schemas.js';
import type { KubeObject } from '../types.js';
import { declareKind, scaleSub, type KindDeclaration } from './declaration.js';

/** apps/v1 StatefulSet and the ControllerRevisions that keep its template history. */

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
  if (spec.selector == null) out.push(cause.required('spec.selector'));
  const template = isPlainObject(spec.template) ? spec.template : {};
  const podSpec = isPlainObject(template.spec) ? template.spec : {};
  if (podSpec.activeDeadlineSeconds != null)
    out.push(
      cause.forbidden(
        'spec.template.spec.activeDeadlineSeconds',
        'activeDeadlineSeconds in StatefulSet is not Supported',
      ),
    );
  // The fidelity rule: a claim template is a promise of storage, and kumo has no claims to keep it yet.
  if (Array.isArray(spec.volumeClaimTemplates) && spec.volumeClaimTemplates.length)
    out.push(
      cause.forbidden(
        'spec.volumeClaimTemplates',
        'kumo does not serve PersistentVolumeClaims yet, so no claim can be made for these pods; mount an emptyDir or hostPath volume instead',
      ),
    );
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
  declareKind('ControllerRevision', 'apps', 'v1', 'controllerrevisions', {
    openApi: 'V1ControllerRevision',
    validate: revisionCauses,
    columns: COLUMNS.ControllerRevision,
  }),
];
