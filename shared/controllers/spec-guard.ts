import type { KubeObject } from '../model/types.js';
import { integerProblems } from '../model/schemas/field-validation.js';
import type { ControllerDeps } from './types.js';

/**
 * A controller never acts on a spec the API would refuse today: an object stored before a bound was
 * enforced (a Deployment with `replicas: 2147483648` made the controllers create pods without end)
 * is left alone, with a Warning Event that names the field, until a valid spec replaces it.
 */
export function refusesSpec(deps: ControllerDeps, obj: KubeObject): boolean {
  const problems = integerProblems(obj.kind ?? '', obj).filter((p) => p.field.startsWith('spec.'));
  if (!problems.length) return false;
  const detail = problems.map((p) => `${p.field}: Invalid value: ${JSON.stringify(p.value)}: ${p.detail}`).join('; ');
  deps.events.record(obj, 'Warning', 'InvalidSpec', `not reconciled, the spec is invalid: ${detail}`);
  return true;
}
