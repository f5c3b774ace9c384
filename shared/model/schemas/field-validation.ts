import catalog from './field-catalog.json' with { type: 'json' };

/**
 * Unknown-field handling, as the kube-apiserver does it: fields a kind does not define are dropped,
 * and `fieldValidation` decides what the client hears — Strict: 400 naming every unknown field;
 * Warn (the default when a client does not say): a `Warning` header per field; Ignore: nothing.
 * The field list is Kubernetes' own (field-catalog.json, generated from its OpenAPI via client-node).
 */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

const catalogTypes = catalog.types as Record<string, Record<string, string>>;
const roots = catalog.roots as Record<string, string>;

/** Keys of patch bodies that are directives, not fields (strategic merge patch). */
const isDirective = (key: string) =>
  key.startsWith('$') ||
  key.startsWith('$setElementOrder/') ||
  key.startsWith('$deleteFromPrimitiveList/') ||
  key.startsWith('$retainKeys');

export interface FieldCheck {
  /** The value with unknown fields removed (the input is not modified). */
  pruned: unknown;
  /** Paths of the unknown fields, Kubernetes-style: `spec.template.spec.containers[0].imagee`. */
  unknown: string[];
}

/** Checks a whole object or a patch of one (`kind` picks the schema; kinds without one pass through). */
export function checkFields(kind: string, value: unknown): FieldCheck {
  const root = Object.hasOwn(roots, kind) ? roots[kind] : undefined;
  if (!root) return { pruned: value, unknown: [] };
  const unknown: string[] = [];
  const pruned = walk(root, value, '', unknown);
  return { pruned, unknown };
}

function walk(ref: string, value: unknown, path: string, unknown: string[]): unknown {
  if (ref === '*' || value === null || value === undefined) return value;
  if (ref.startsWith('['))
    return Array.isArray(value) ? value.map((v, i) => walk(ref.slice(1), v, `${path}[${i}]`, unknown)) : value;
  if (ref.startsWith('{'))
    return isObject(value)
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(ref.slice(1), v, `${path}.${k}`, unknown)]))
      : value;
  const fields = Object.hasOwn(catalogTypes, ref) ? catalogTypes[ref] : undefined;
  if (!fields || !isObject(value)) return value; // wrong shapes are the validator's to report
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // Own properties only: a field named like an Object.prototype member ("toString") is unknown, not a function.
    const field = Object.hasOwn(fields, k) ? fields[k] : undefined;
    const at = path ? `${path}.${k}` : k;
    if (field !== undefined) out[k] = walk(field, v, at, unknown);
    else if (isDirective(k)) out[k] = v;
    else unknown.push(at);
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseFieldValidation(v: string | null): FieldValidation | undefined {
  if (v === null || v === '') return undefined;
  return v === 'Strict' || v === 'Warn' || v === 'Ignore' ? v : undefined;
}

/** Kubernetes' Go integer types: a value outside them cannot be decoded by the kube-apiserver. */
export const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 } as const;

export interface SchemaProblem {
  field: string;
  value: unknown;
  detail: string;
}

/**
 * Where each int32/int64 field of the object holds a value that Kubernetes' types cannot hold: a
 * non-integer, a non-number, an int32 out of ±2^31, or an int64 past 2^53, which JSON numbers here
 * cannot carry exactly (storing a rounded value would keep something the client did not send).
 * Kubernetes refuses these when decoding the body; without this a replicas of 2^31 reached the controllers.
 */
export function integerProblems(kind: string, value: unknown): SchemaProblem[] {
  return schemaProblems(kind, value, { types: false });
}

/**
 * integerProblems, and with `types` every field whose JSON type is not the one Kubernetes' OpenAPI
 * gives it (a string, a boolean, a number, an object, a list): what the kube-apiserver's decoder
 * refuses, for kinds that have no hand-written schema to say it.
 */
export function schemaProblems(kind: string, value: unknown, opts: { types: boolean }): SchemaProblem[] {
  const root = Object.hasOwn(roots, kind) ? roots[kind] : undefined;
  const out: SchemaProblem[] = [];
  if (root) check(root, value, '', opts.types, out);
  return out;
}

const SCALARS: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  date: (v) => typeof v === 'string',
  boolean: (v) => typeof v === 'boolean',
  number: (v) => typeof v === 'number',
};
const typeName = (ref: string) => (ref === 'date' ? 'string' : ref);

function check(ref: string, value: unknown, path: string, types: boolean, out: SchemaProblem[]): void {
  if (value === null || value === undefined || ref === '*') return;
  if (ref === 'int32' || ref === 'int64') {
    const problem = integerProblem(ref, value);
    if (problem) out.push({ field: path, value, detail: problem });
    return;
  }
  const scalar = SCALARS[ref];
  if (scalar) {
    if (types && !scalar(value)) out.push({ field: path, value, detail: `must be of type ${typeName(ref)}` });
    return;
  }
  if (ref.startsWith('[')) {
    if (Array.isArray(value)) value.forEach((v, i) => check(ref.slice(1), v, `${path}[${i}]`, types, out));
    else if (types) out.push({ field: path, value, detail: 'must be of type array' });
    return;
  }
  if (ref.startsWith('{')) {
    if (isObject(value))
      for (const [k, v] of Object.entries(value)) check(ref.slice(1), v, `${path}[${k}]`, types, out);
    else if (types) out.push({ field: path, value, detail: 'must be of type object' });
    return;
  }
  const fields = Object.hasOwn(catalogTypes, ref) ? catalogTypes[ref] : undefined;
  if (!fields) return;
  if (!isObject(value)) {
    if (types) out.push({ field: path, value, detail: 'must be of type object' });
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const field = Object.hasOwn(fields, k) ? fields[k] : undefined;
    if (field !== undefined) check(field, v, path ? `${path}.${k}` : k, types, out);
  }
}

function integerProblem(type: 'int32' | 'int64', v: unknown): string | undefined {
  if (typeof v !== 'number') return `must be of type ${type}`;
  if (!Number.isInteger(v)) return 'must be an integer';
  if (type === 'int32' && (v < INT32.min || v > INT32.max))
    return `must be between ${INT32.min} and ${INT32.max}, inclusive (the field is an int32)`;
  if (type === 'int64' && !Number.isSafeInteger(v))
    return `must be between ${Number.MIN_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}, inclusive (larger int64 values cannot be kept exactly)`;
  return undefined;
}
