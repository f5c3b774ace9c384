import type { KubeObject } from './types.js';

/** RBAC's objects as the authorizer reads them (rbac.authorization.k8s.io/v1). */

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined;
const record = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** A role's rules, each reduced to its string lists (stored objects passed validation; this only guards types). */
export function rulesOf(role: KubeObject): PolicyRule[] {
  return (Array.isArray(role.rules) ? role.rules : []).map((r) => {
    const o = record(r);
    const rule: PolicyRule = { verbs: strings(o.verbs) ?? [] };
    for (const k of ['apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'] as const) {
      const v = strings(o[k]);
      if (v) rule[k] = v;
    }
    return rule;
  });
}

export function subjectsOf(binding: KubeObject): Subject[] {
  return (Array.isArray(binding.subjects) ? binding.subjects : []).map(record).map((s) => ({
    kind: typeof s.kind === 'string' ? s.kind : '',
    name: typeof s.name === 'string' ? s.name : '',
    ...(typeof s.apiGroup === 'string' ? { apiGroup: s.apiGroup } : {}),
    ...(typeof s.namespace === 'string' && s.namespace ? { namespace: s.namespace } : {}),
  }));
}

export function roleRefOf(binding: KubeObject): RoleRef | undefined {
  const r = record(binding.roleRef);
  if (typeof r.kind !== 'string' || typeof r.name !== 'string') return undefined;
  return { apiGroup: typeof r.apiGroup === 'string' ? r.apiGroup : '', kind: r.kind, name: r.name };
}

/** A ClusterRole's aggregationRule selectors (structured label selectors), if it aggregates. */
export function aggregationSelectorsOf(role: KubeObject): unknown[] | undefined {
  const agg = record(role.aggregationRule);
  return Array.isArray(agg.clusterRoleSelectors) ? agg.clusterRoleSelectors : undefined;
}
