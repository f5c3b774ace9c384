import { z } from 'zod';
import { cause, type StatusCause } from '../errors.js';
import { isQuantity } from '../quantity.js';
import { configMapKey, dns1123Label, envVarName, labelValue, qualifiedName } from '../names.js';

/**
 * Small building blocks over zod, so that every schema reports problems the way Kubernetes does:
 * a field path (`spec.template.spec.containers[0].image`) and a reason (`FieldValueRequired`, ...).
 */

type Check = (v: string) => string[];

/** A string checked by one of the name rules; each broken rule becomes a FieldValueInvalid cause. */
export const checkedString = (check: Check) =>
  z.string().superRefine((v, ctx) => {
    for (const message of check(v)) ctx.addIssue({ code: 'custom', message, params: { reason: 'FieldValueInvalid' } });
  });

export const nonNegativeInt = z.number().int('must be an integer').min(0, 'must be greater than or equal to 0');
export const positiveInt = z.number().int('must be an integer').min(1, 'must be greater than 0');
export const port = z
  .number()
  .int('must be an integer')
  .min(1, 'must be between 1 and 65535, inclusive')
  .max(65535, 'must be between 1 and 65535, inclusive');
export const intOrString = z.union([z.number().int('must be an integer'), z.string()]);
/** `25%` or an absolute count, as maxSurge/maxUnavailable take it. */
export const intOrPercent = z.union([
  nonNegativeInt,
  z
    .string()
    .regex(
      /^(\d+)%$/,
      "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%')",
    ),
]);

export const quantity = z.union([z.string(), z.number()]).superRefine((v, ctx) => {
  if (!isQuantity(v))
    ctx.addIssue({
      code: 'custom',
      message: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      params: { reason: 'FieldValueInvalid' },
    });
});

export const labels = z.record(checkedString(qualifiedName), checkedString(labelValue));
export const annotations = z.record(checkedString(qualifiedName), z.string());
export const dnsLabel = checkedString(dns1123Label);
export const envName = checkedString(envVarName);
export const dataKey = checkedString(configMapKey);

/** Objects keep fields we do not model (they pass through untouched); strict field validation is a later concern. */
export const loose = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape);

/** Names in a list must be unique (containers, ports, env, ...). */
export const uniqueBy =
  <T>(key: (item: T) => unknown, field: string) =>
  (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<unknown>();
    items.forEach((item, i) => {
      const k = key(item);
      if (k === undefined) return;
      if (seen.has(k))
        ctx.addIssue({
          code: 'custom',
          message: `Duplicate value: ${JSON.stringify(k)}`,
          path: [i, field],
          params: { reason: 'FieldValueDuplicate' },
        });
      seen.add(k);
    });
  };

/** `spec.containers[0].image` from zod's path array. */
export function fieldPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** Turns zod's issues about `root` into Kubernetes causes. */
export function causesFrom(issues: readonly z.core.$ZodIssue[], root: unknown, prefix = ''): StatusCause[] {
  const out: StatusCause[] = [];
  for (const issue of issues) {
    // A union reports every branch; the first branch's complaint is the useful one.
    if (issue.code === 'invalid_union' && issue.errors.length > 0 && issue.errors[0]) {
      const nested = causesFrom(issue.errors[0], valueAt(root, issue.path), fieldPath(issue.path, prefix));
      out.push(...nested);
      continue;
    }
    const field = fieldPath(issue.path, prefix);
    const input = issue.input ?? valueAt(root, issue.path);
    if (issue.code === 'invalid_type' && input === undefined) {
      out.push(cause.required(field));
    } else if (issue.code === 'invalid_type') {
      out.push(cause.invalid(field, input, `must be of type ${issue.expected}`));
    } else if (issue.code === 'invalid_value') {
      out.push(cause.notSupported(field, input, issue.values.map(String)));
    } else if (issue.code === 'custom' && issue.params?.reason === 'FieldValueDuplicate') {
      out.push({ reason: 'FieldValueDuplicate', message: issue.message, field });
    } else if (issue.code === 'custom' && issue.params?.reason === 'FieldValueForbidden') {
      out.push(cause.forbidden(field, issue.message));
    } else if (issue.code === 'custom' && issue.params?.reason === 'FieldValueRequired') {
      out.push(cause.required(field));
    } else {
      out.push(cause.invalid(field, input, issue.message));
    }
  }
  return out;
}
