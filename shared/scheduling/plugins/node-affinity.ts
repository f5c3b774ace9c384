import type { KubeObject } from '../../model/types.js';
import { OK, reject, type FilterPlugin, type ScorePlugin, normalizeToMax } from '../framework.js';
import { podSpec } from '../../model/typed.js';
import type { NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm } from 'kubernetes-types/core/v1.js';

/** nodeSelector, required node affinity (filter) and preferred node affinity (score). */

type Requirement = NodeSelectorRequirement;
type Term = NodeSelectorTerm;

const affinityOf = (pod: KubeObject): NodeAffinity => podSpec(pod).affinity?.nodeAffinity ?? {};

function requirementMatches(r: Requirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** A term matches when all its expressions do; an empty term matches nothing, as in Kubernetes. */
export function termMatches(term: Term, node: KubeObject): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  return (
    exprs.every((r) => requirementMatches(r, labels[r.key])) &&
    fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, node.metadata.name))
  );
}

export const NODE_AFFINITY_MISMATCH = "node(s) didn't match Pod's node affinity/selector";

export const nodeAffinityFilter: FilterPlugin = {
  name: 'NodeAffinity',
  filter({ pod }, { node }) {
    const selector = (pod.spec?.nodeSelector ?? {}) as Record<string, string>;
    const labels = node.metadata.labels ?? {};
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return reject(NODE_AFFINITY_MISMATCH);
    const terms = affinityOf(pod).requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (terms && terms.length > 0 && !terms.some((t) => termMatches(t, node))) return reject(NODE_AFFINITY_MISMATCH);
    return OK;
  },
};

export const nodeAffinityScore: ScorePlugin = {
  name: 'NodeAffinity',
  weight: 2,
  score({ pod }, { node }) {
    return (affinityOf(pod).preferredDuringSchedulingIgnoredDuringExecution ?? []).reduce(
      (sum, p) => sum + (termMatches(p.preference, node) ? p.weight : 0),
      0,
    );
  },
  normalize: (scores) => normalizeToMax(scores),
};
