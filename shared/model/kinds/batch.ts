import { scheduleProblem, timeZoneProblem } from '../cron-schedule.js';
import { DEFAULTERS } from '../defaults.js';
import { cause, type StatusCause } from '../errors.js';
import { isPlainObject } from '../json.js';
import { podSupportProblems } from '../pod-support.js';
import { COLUMNS } from '../printers.js';
import { PROTOBUF } from '../protobuf-schemas.js';
import { cronJobSchema } from '../schemas/workload-schemas.js';
import type { KubeObject } from '../types.js';
import { declareKind, type KindDeclaration } from './declaration.js';

/** batch/v1 CronJob: Jobs made from a template on a cron schedule. */

export const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'] as const;
/** A CronJob's Jobs are named `<name>-<minutes since the epoch>`: 52 characters leave room in a DNS label. */
const MAX_NAME = 52;

/** validateCronJobSpec's checks worded as Kubernetes words them (the shapes are cronJobSchema's). */
function cronJobCauses(o: KubeObject): StatusCause[] {
  const spec = isPlainObject(o.spec) ? o.spec : {};
  const out: StatusCause[] = [];
  if (spec.schedule === '') out.push(cause.required('spec.schedule'));
  else if (typeof spec.schedule === 'string') {
    const problem = scheduleProblem(spec.schedule);
    if (problem) out.push(cause.invalid('spec.schedule', spec.schedule, problem));
  }
  if (typeof spec.timeZone === 'string') {
    const problem = timeZoneProblem(spec.timeZone);
    if (problem) out.push(cause.invalid('spec.timeZone', spec.timeZone, problem));
  }
  const policy = spec.concurrencyPolicy;
  if (policy === '') out.push(cause.required('spec.concurrencyPolicy'));
  else if (!CONCURRENCY_POLICIES.includes(policy as (typeof CONCURRENCY_POLICIES)[number]))
    out.push(cause.notSupported('spec.concurrencyPolicy', policy, CONCURRENCY_POLICIES));
  const template = isPlainObject(spec.jobTemplate) ? spec.jobTemplate : {};
  const jobSpec = isPlainObject(template.spec) ? template.spec : {};
  if (jobSpec.selector != null)
    out.push(cause.invalid('spec.jobTemplate.spec.selector', jobSpec.selector, '`selector` will be auto-generated'));
  if (jobSpec.manualSelector === true)
    out.push(cause.notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  const pod = isPlainObject(jobSpec.template) ? jobSpec.template.spec : undefined;
  return [...out, ...podSupportProblems(pod, 'spec.jobTemplate.spec.template.spec')];
}

/** TZ in a schedule is what the timeZone field replaced: refused on create, kept on update only where it was. */
export const TZ_IN_SCHEDULE = 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead';

/** ValidateCronJobCreate beyond the spec: the name's length and no TZ in the schedule. */
function cronJobCreateCauses(o: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const name = o.metadata.name ?? '';
  if (name.length > MAX_NAME)
    out.push(cause.invalid('metadata.name', name, `must be no more than ${MAX_NAME} characters`));
  const schedule = isPlainObject(o.spec) ? o.spec.schedule : undefined;
  if (typeof schedule === 'string' && schedule.includes('TZ'))
    out.push(cause.invalid('spec.schedule', schedule, TZ_IN_SCHEDULE));
  return out;
}

export const BATCH_KINDS: readonly KindDeclaration[] = [
  declareKind('CronJob', 'batch', 'v1', 'cronjobs', {
    reconciled: true,
    openApi: 'V1CronJob',
    shortNames: ['cj'],
    all: true,
    status: true,
    schema: cronJobSchema,
    validate: cronJobCauses,
    validateCreate: cronJobCreateCauses,
    defaults: DEFAULTERS.CronJob,
    initialStatus: () => ({}),
    columns: COLUMNS.CronJob,
    protobuf: PROTOBUF.CronJob,
  }),
];
