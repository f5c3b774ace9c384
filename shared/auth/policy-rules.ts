import type { PolicyRule } from '../model/rbac.js';
import type { RequestAttributes } from './attributes.js';

/**
 * How one RBAC rule matches one request, and whether one set of rules covers another: Kubernetes'
 * pkg/apis/rbac/v1/evaluation_helpers.go (RuleAllows) and pkg/registry/rbac/validation/policy_comparator.go
 * (Covers, for escalation checks), kept to their semantics: `*` verbs, groups and resources,
 * a star-slash-subresource resource (such as star/scale) matching any resource's scale subresource, resourceNames never matching a request
 * without a name (list, create), and non-resource URLs ending in `*` as prefixes.
 */

/** What a request asks, in RBAC's terms. */
export type RuleRequest =
  | { type: 'resource'; verb: string; group: string; resource: string; subresource?: string; name?: string }
  | { type: 'nonResource'; verb: string; path: string };

/** The request in RBAC's terms (undefined for kumo's own node protocol and bulk apply, which RBAC does not grant). */
export function ruleRequestOf(a: RequestAttributes): RuleRequest | undefined {
  if (a.type === 'nonResource') return { type: 'nonResource', verb: a.verb, path: a.path };
  if (a.type !== 'resource') return undefined;
  return {
    type: 'resource',
    verb: a.verb,
    group: a.group,
    resource: a.resource,
    ...(a.subresource ? { subresource: a.subresource } : {}),
    ...(a.name !== undefined ? { name: a.name } : {}),
  };
}

const has = (set: readonly string[] | undefined, v: string) => (set ?? []).includes(v);

export function ruleAllows(rule: PolicyRule, r: RuleRequest): boolean {
  if (!has(rule.verbs, '*') && !has(rule.verbs, r.verb)) return false;
  if (r.type === 'nonResource') return (rule.nonResourceURLs ?? []).some((u) => urlCovers(u, r.path));
  if (!has(rule.apiGroups, '*') && !has(rule.apiGroups, r.group)) return false;
  const combined = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  const resourceMatches = (rule.resources ?? []).some(
    (res) => res === '*' || res === combined || (!!r.subresource && res === `*/${r.subresource}`),
  );
  if (!resourceMatches) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (r.name !== undefined && names.includes(r.name));
}

function urlCovers(owner: string, path: string): boolean {
  return owner === '*' || owner === path || (owner.endsWith('*') && path.startsWith(owner.replace(/\*+$/, '')));
}

/** BreakdownRule: one rule per group × resource × verb (× name), and per URL × verb. */
export function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? [])
    for (const resource of rule.resources ?? [])
      for (const verb of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length)
          for (const name of names)
            out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
  for (const url of rule.nonResourceURLs ?? [])
    for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

const hasAll = (set: readonly string[] | undefined, want: readonly string[] | undefined) =>
  (want ?? []).every((w) => has(set, w));

function resourcesCover(owner: readonly string[] | undefined, want: readonly string[] | undefined): boolean {
  if (has(owner, '*') || hasAll(owner, want)) return true;
  return (want ?? []).every((path) => {
    if (has(owner, path)) return true;
    const slash = path.indexOf('/');
    return slash >= 0 && has(owner, `*/${path.slice(slash + 1)}`);
  });
}

/** ruleCovers: whether one owner rule grants everything an atomic (broken-down) rule asks. */
function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const subNames = sub.resourceNames ?? [];
  const ownerNames = owner.resourceNames ?? [];
  return (
    (has(owner.verbs, '*') || hasAll(owner.verbs, sub.verbs)) &&
    (has(owner.apiGroups, '*') || hasAll(owner.apiGroups, sub.apiGroups)) &&
    resourcesCover(owner.resources, sub.resources) &&
    (ownerNames.length === 0 || (subNames.length > 0 && hasAll(ownerNames, subNames))) &&
    (sub.nonResourceURLs ?? []).every((u) => (owner.nonResourceURLs ?? []).some((o) => urlCovers(o, u)))
  );
}

/** Covers: the atomic rules of `wanted` that no rule of `owner` grants (empty: `owner` covers all of it). */
export function uncovered(owner: readonly PolicyRule[], wanted: readonly PolicyRule[]): PolicyRule[] {
  return wanted.flatMap(breakdown).filter((sub) => !owner.some((o) => ruleCovers(o, sub)));
}

/**
 * CompactRules then CompactString, as the escalation error lists what is missing: atomic rules of
 * one group, resource and name merged into one with all their verbs, each printed as
 * `{APIGroups:["apps"], Resources:["deployments"], Verbs:["create" "delete"]}`.
 */
export function describeRules(rules: readonly PolicyRule[]): string[] {
  const merged = new Map<string, PolicyRule>();
  const rest: PolicyRule[] = [];
  for (const r of rules) {
    if (r.nonResourceURLs?.length) {
      rest.push(r);
      continue;
    }
    const key = JSON.stringify([r.apiGroups, r.resources, r.resourceNames ?? []]);
    const seen = merged.get(key);
    if (seen) seen.verbs = [...seen.verbs, ...r.verbs.filter((v) => !seen.verbs.includes(v))];
    else merged.set(key, { ...r, verbs: [...r.verbs] });
  }
  const q = (v: readonly string[]) => `[${v.map((s) => JSON.stringify(s)).join(' ')}]`;
  const line = (r: PolicyRule) =>
    `{${[
      r.apiGroups?.length ? `APIGroups:${q(r.apiGroups)}` : '',
      r.resources?.length ? `Resources:${q(r.resources)}` : '',
      r.resourceNames?.length ? `ResourceNames:${q(r.resourceNames)}` : '',
      r.nonResourceURLs?.length ? `NonResourceURLs:${q(r.nonResourceURLs)}` : '',
      `Verbs:${q(r.verbs)}`,
    ]
      .filter(Boolean)
      .join(', ')}}`;
  return [...new Set([...merged.values(), ...rest].map(line))].sort();
}
