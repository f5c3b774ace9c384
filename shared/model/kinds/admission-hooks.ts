import { isPlainObject, jsonEqual } from '../json.js';
import type { KubeObject } from '../types.js';

/** Kind-specific admission steps, named by the kinds' declarations (builtin.ts). */

/** Secrets accept `stringData` as a write-only convenience: it is merged into base64 `data`. */
export function foldStringData(o: KubeObject): void {
  // Non-string values stay in stringData for validation to report.
  if (
    o.kind !== 'Secret' ||
    !isPlainObject(o.stringData) ||
    !Object.values(o.stringData).every((v) => typeof v === 'string')
  )
    return;
  const data = isPlainObject(o.data) ? (o.data as Record<string, string>) : {};
  for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  o.data = data;
  delete o.stringData;
}

/**
 * Jobs select their pods by the job's own uid, as Kubernetes generates it (unless manualSelector), and
 * a Job without labels of its own takes its template's, generated ones included (SetDefaults_Job).
 */
export function jobSelector(o: KubeObject, { uid, creating }: { uid: string; creating: boolean }): void {
  // An update generates a selector only where the Job has none (it is immutable once set).
  if (!creating && isPlainObject(o.spec) && o.spec.selector !== undefined) return;
  if (o.kind !== 'Job' || !isPlainObject(o.spec)) return;
  const spec = o.spec as Record<string, unknown>;
  const template = isPlainObject(spec.template) ? spec.template : undefined;
  if (template && !isPlainObject(template.metadata)) template.metadata = {};
  const tm = template && isPlainObject(template.metadata) ? template.metadata : undefined;
  if (spec.selector === undefined && spec.manualSelector !== true) {
    const name = o.metadata.name ?? '';
    spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
    if (tm)
      tm.labels = {
        ...(isPlainObject(tm.labels) ? tm.labels : {}),
        'batch.kubernetes.io/controller-uid': uid,
        'batch.kubernetes.io/job-name': name,
        'controller-uid': uid,
        'job-name': name,
      };
  }
  if (tm?.labels && !Object.keys(o.metadata.labels ?? {}).length) o.metadata.labels = { ...tm.labels };
}

/** apps/v1 carries a DaemonSet's templateGeneration in this annotation (appsv1.DeprecatedTemplateGeneration). */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

/**
 * The DaemonSet strategy's templateGeneration: 1 on create, one more on every template change, kept
 * otherwise; what a client sends for it is overwritten, as PrepareForUpdate copies the old value.
 */
export function daemonSetTemplateGeneration(
  o: KubeObject,
  { creating, previous }: { creating: boolean; previous?: KubeObject },
): void {
  const before = Number(previous?.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? 1) || 1;
  const template = (x: KubeObject | undefined) => (isPlainObject(x?.spec) ? x.spec.template : undefined);
  const generation = creating || !previous ? 1 : jsonEqual(template(o), template(previous)) ? before : before + 1;
  o.metadata.annotations = { ...o.metadata.annotations, [TEMPLATE_GENERATION_ANNOTATION]: String(generation) };
}
