import { isPlainObject, jsonEqual } from '../model/json.js';
import { cause, StatusError, type StatusCause } from '../model/errors.js';
import type { KubeObject } from '../model/types.js';

/**
 * Field ownership for server-side apply: each apply records, per field manager, the set of fields
 * its configuration sets (the FieldsV1 form: `f:<field>`, `k:{"name":"web"}` for keyed list items).
 * A later apply by another manager that would change one of those fields is a conflict unless forced.
 */

const LIST_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  conditions: 'type',
};

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
}

const IGNORED_TOP = new Set(['apiVersion', 'kind', 'status']);
const IGNORED_META = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
]);

export function fieldsOf(value: unknown, parentField = '', top = true): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isPlainObject(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    if (top && IGNORED_TOP.has(k)) continue;
    if (parentField === 'metadata' && IGNORED_META.has(k)) continue;
    if (Array.isArray(v)) {
      const key = Object.hasOwn(LIST_KEYS, k) ? LIST_KEYS[k] : undefined; // own keys only: user fields may be named "constructor"
      if (
        key &&
        v.every(
          (i) =>
            isPlainObject(i) &&
            (i as Record<string, unknown>)[k === 'ports' && !('containerPort' in (i as object)) ? 'port' : key] !==
              undefined,
        )
      ) {
        const items: Record<string, unknown> = {};
        for (const item of v as Record<string, unknown>[]) {
          const kk = k === 'ports' && !('containerPort' in item) ? 'port' : key;
          items[`k:${JSON.stringify({ [kk]: item[kk] })}`] = { '.': {}, ...fieldsOf(item, k, false) };
        }
        out[`f:${k}`] = items;
      } else out[`f:${k}`] = {};
    } else if (isPlainObject(v) && Object.keys(v).length > 0) {
      const children = fieldsOf(v, k, false);
      // metadata holding only identity fields (name, namespace) owns nothing.
      if (k === 'metadata' && Object.keys(children).length === 0) continue;
      out[`f:${k}`] = { ...(parentField === 'metadata' || k === 'metadata' ? {} : { '.': {} }), ...children };
    } else out[`f:${k}`] = {};
  }
  return out;
}

/** Leaf paths of a FieldsV1 tree, e.g. `f:spec/f:replicas`. */
function leaves(fields: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (k === '.') continue;
    const path = prefix ? `${prefix}/${k}` : k;
    const children = isPlainObject(v) ? Object.keys(v).filter((c) => c !== '.') : [];
    if (children.length === 0) out.push(path);
    else out.push(...leaves(v as Record<string, unknown>, path));
  }
  return out;
}

/** The value at a FieldsV1 path in an object (keyed list items found by their key). */
function valueAt(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const part of path.split('/')) {
    if (part.startsWith('f:')) cur = isPlainObject(cur) ? cur[part.slice(2)] : undefined;
    else if (part.startsWith('k:')) {
      const key = JSON.parse(part.slice(2)) as Record<string, unknown>;
      cur = Array.isArray(cur)
        ? cur.find((i) => isPlainObject(i) && Object.entries(key).every(([kk, vv]) => i[kk] === vv))
        : undefined;
    }
  }
  return cur;
}

/** Conflicts for `manager` applying `applied` onto `live`, given who owns what. */
export function applyConflicts(live: KubeObject, applied: KubeObject, manager: string): StatusCause[] {
  const entries = (live.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const mine = new Set(leaves(fieldsOf(applied)));
  const causes: StatusCause[] = [];
  for (const e of entries) {
    if (e.manager === manager || e.operation !== 'Apply') continue;
    for (const path of leaves(e.fieldsV1)) {
      if (!mine.has(path)) continue;
      if (!jsonEqual(valueAt(live, path), valueAt(applied, path))) {
        const field =
          '.' +
          path
            .replace(/f:/g, '')
            .replace(/\/k:(\{[^}]*\})/g, '[$1]')
            .replace(/\//g, '.');
        causes.push({
          ...cause.invalid(field, valueAt(applied, path), `conflict with "${e.manager}"`),
          reason: 'FieldManagerConflict',
          message: `conflict with "${e.manager}"`,
        });
      }
    }
  }
  return causes;
}

export function conflictError(kind: string, name: string, causes: StatusCause[]) {
  return new StatusError(
    409,
    'Conflict',
    `Apply failed with ${causes.length} conflict${causes.length === 1 ? '' : 's'}: ${causes.map((c) => `${c.message}: ${c.field}`).join(', ')}`,
    { name, kind, causes },
  );
}

/** Records that `manager` applied `applied`, replacing its earlier record. */
export function recordApply(
  entries: ManagedFieldsEntry[] | undefined,
  manager: string,
  applied: KubeObject,
  apiVersion: string,
  time: string,
): ManagedFieldsEntry[] {
  const others = (entries ?? []).filter((e) => !(e.manager === manager && e.operation === 'Apply'));
  return [
    ...others,
    { manager, operation: 'Apply', apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: fieldsOf(applied) },
  ];
}
