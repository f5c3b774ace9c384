import { isPlainObject } from './json.js';
import { fromStructured, matchesLabels, type StructuredSelector } from './selectors.js';
import type { KubeObject } from './types.js';

/**
 * Whether a PodDisruptionBudget covers a pod (policy/v1): a null selector selects no pods, an empty
 * one every pod of its namespace (the eviction subresource's getPodDisruptionBudgets, and the
 * disruption controller).
 */
export function budgetSelects(pdb: KubeObject, pod: KubeObject): boolean {
  if (pdb.metadata.namespace !== pod.metadata.namespace) return false;
  const sel = (pdb.spec ?? {}).selector;
  if (!isPlainObject(sel)) return false;
  return matchesLabels(fromStructured(sel as StructuredSelector), pod.metadata.labels);
}
