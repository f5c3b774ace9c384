import { BadRequestError } from '../model/errors.js';
import { clone, isPlainObject, jsonEqual } from '../model/json.js';

/**
 * Strategic merge patch for the built-in kinds, as `kubectl apply` and `kubectl patch` send it:
 * lists of objects merge by their merge key (containers by `name`, container ports by
 * `containerPort`, …) instead of being replaced, with the directives `$patch` (replace, delete,
 * merge), `$setElementOrder/<list>`, `$retainKeys` and `$deleteFromPrimitiveList/<list>`.
 */

/** Merge keys of the lists Kubernetes' API types mark `patchStrategy:"merge"` (by field name). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  ownerReferences: 'uid',
  conditions: 'type',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  taints: 'key',
  addresses: 'type',
  // `ports` is keyed by containerPort in a container and by port in a Service: decided per item below.
  ports: '',
};
/** Lists of strings merged as sets. */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

const portKey = (item: Record<string, unknown>) => ('containerPort' in item ? 'containerPort' : 'port');

function keyOf(field: string, item: unknown): unknown {
  if (!isPlainObject(item)) return undefined;
  const k = MERGE_KEYS[field] || portKey(item);
  return item[k];
}

function mergeList(field: string, original: unknown[], patch: unknown[]): unknown[] {
  if (MERGED_PRIMITIVE_LISTS.has(field))
    return [...original, ...patch.filter((p) => !original.some((o) => jsonEqual(o, p)))];
  if (!(field in MERGE_KEYS) || !patch.every(isPlainObject)) return clone(patch);
  if (patch.some((p) => (p as Record<string, unknown>).$patch === 'replace'))
    return patch.filter((p) => (p as Record<string, unknown>).$patch !== 'replace').map((p) => clone(p));
  const out = original.map((o) => clone(o));
  for (const item of patch as Record<string, unknown>[]) {
    const key = keyOf(field, item);
    const at = out.findIndex((o) => keyOf(field, o) === key && key !== undefined);
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) out[at] = strategicMerge(out[at], item);
    else out.push(strategicMerge({}, item));
  }
  return out;
}

/** Orders a merged list as `$setElementOrder` says; items it does not name keep their place after. */
function applyOrder(field: string, list: unknown[], order: unknown[]): unknown[] {
  const keyed = order.map((o) => (isPlainObject(o) ? keyOf(field, o) : o));
  const rank = (x: unknown) => {
    const i = keyed.findIndex((k) => jsonEqual(k, isPlainObject(x) ? keyOf(field, x) : x));
    return i < 0 ? keyed.length : i;
  };
  return [...list].sort((a, b) => rank(a) - rank(b));
}

export function strategicMerge(original: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, unknown> = isPlainObject(original) ? clone(original) : {};
  const orders: [string, unknown[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch') continue;
    if (k === '$retainKeys') {
      if (!Array.isArray(v)) throw new BadRequestError('$retainKeys must be a list of field names');
      for (const existing of Object.keys(out)) if (!v.includes(existing) && !(existing in patch)) delete out[existing];
      continue;
    }
    if (k.startsWith('$setElementOrder/')) {
      if (Array.isArray(v)) orders.push([k.slice('$setElementOrder/'.length), v]);
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v))
        out[field] = (out[field] as unknown[]).filter((x) => !v.some((d) => jsonEqual(d, x)));
      continue;
    }
    if (k.startsWith('$')) throw new BadRequestError(`unknown strategic merge patch directive ${k}`);
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = mergeList(k, Array.isArray(out[k]) ? (out[k] as unknown[]) : [], v);
    else if (isPlainObject(v)) {
      const merged = strategicMerge(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  for (const [field, order] of orders)
    if (Array.isArray(out[field])) out[field] = applyOrder(field, out[field] as unknown[], order);
  return out;
}
