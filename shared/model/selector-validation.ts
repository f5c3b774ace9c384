import { cause, type StatusCause } from './errors.js';
import { isPlainObject } from './json.js';

const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/**
 * ValidateLabelSelectorRequirement over a structured selector's matchExpressions (`at` is the selector's
 * field path): a known operator, values for In/NotIn and none for Exists/DoesNotExist.
 */
export function selectorRequirementCauses(selector: unknown, at: string): StatusCause[] {
  const sel = isPlainObject(selector) ? selector : {};
  const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  return exprs.flatMap((e: unknown, i): StatusCause[] => {
    const field = `${at}.matchExpressions[${i}]`;
    const op = isPlainObject(e) ? e.operator : undefined;
    const values = isPlainObject(e) && Array.isArray(e.values) ? e.values : [];
    if (!SELECTOR_OPERATORS.includes(op as (typeof SELECTOR_OPERATORS)[number]))
      return [cause.notSupported(`${field}.operator`, op, SELECTOR_OPERATORS)];
    if (!isPlainObject(e) || typeof e.key !== 'string' || e.key === '')
      return [cause.invalid(`${field}.key`, isPlainObject(e) ? (e.key ?? '') : '', 'name part must be non-empty')];
    if ((op === 'In' || op === 'NotIn') && values.length === 0)
      return [
        {
          reason: 'FieldValueRequired',
          message: "Required value: must be specified when `operator` is 'In' or 'NotIn'",
          field: `${field}.values`,
        },
      ];
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0)
      return [cause.forbidden(`${field}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")];
    return [];
  });
}
