import { fields, first, str, type Field } from './protobuf-wire.js';
import type { FieldType, Scalar, Schema } from '../../model/protobuf-schemas.js';
import { isPlainObject } from '../../model/json.js';

/** Reads a protobuf message by its schema (model/protobuf-schemas.ts) into the object its JSON would be. */

const int32 = (f: Field) => Number(BigInt.asIntN(64, f.int ?? 0n));

/** One field's value, or undefined when Go's omitempty would leave it out. */
function scalar(f: Field, type: Scalar): unknown {
  switch (type) {
    case 'string':
      return str(f) || undefined;
    case 'bytes':
      return f.bytes?.toString('base64');
    case 'int':
      return int32(f) || undefined;
    case 'int?':
      return int32(f);
    case 'bool':
      return f.int === 1n || undefined;
    case 'bool?':
      return f.int === 1n;
  }
}

function value(f: Field, type: Scalar | Schema | 'intOrString'): unknown {
  if (type === 'intOrString') {
    const parts = fields(f.bytes ?? Buffer.alloc(0));
    const isString = first(parts, 1)?.int === 1n;
    const v = isString ? str(first(parts, 3)) : Number(first(parts, 2)?.int ?? 0n);
    return v === '' ? undefined : v;
  }
  if (typeof type === 'string') return scalar(f, type);
  return decodeMessage(fields(f.bytes ?? Buffer.alloc(0)), type);
}

/** A message as a plain object by its schema; a nested message that comes out empty is dropped. */
export function decodeMessage(fs: Field[], schema: Schema): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [n, [name, type]] of Object.entries(schema) as [string, [string, FieldType]][]) {
    const occurrences = fs.filter((f) => f.n === Number(n));
    if (!occurrences.length) continue;
    let v: unknown;
    if (typeof type === 'object' && 'repeated' in type) {
      // An element of a repeated string is written even when empty: `apiGroups: [""]` is the core group.
      const items = occurrences
        .map((f) => (type.repeated === 'string' ? (str(f) ?? '') : value(f, type.repeated)))
        .filter((x) => x !== undefined);
      v = items.length ? items : undefined;
    } else if (typeof type === 'object' && 'map' in type) {
      const entries = occurrences
        .map((f) => fields(f.bytes ?? Buffer.alloc(0)))
        .map((e) => {
          const valueField = first(e, 2);
          return [
            str(first(e, 1)) ?? '',
            valueField
              ? type.map === 'string'
                ? (str(valueField) ?? '')
                : value(valueField, type.map)
              : type.map === 'string'
                ? ''
                : undefined,
          ];
        });
      // A quantity map holds messages: { string: "100m" } stands for "100m".
      v = Object.fromEntries(entries.map(([k, x]) => [k, isQuantity(x) ? x.string : x]));
    } else v = value(occurrences[occurrences.length - 1] as Field, type as Scalar | Schema | 'intOrString');
    if (v !== undefined) out[name] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

const isQuantity = (x: unknown): x is { string: string } =>
  isPlainObject(x) && Object.keys(x).length === 1 && typeof x.string === 'string';
