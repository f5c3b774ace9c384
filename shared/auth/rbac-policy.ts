import {
  aggregationSelectorsOf,
  roleRefOf,
  rulesOf,
  subjectsOf,
  type PolicyRule,
  type Subject,
} from '../model/rbac.js';
import { fromStructured, matchesLabels, type StructuredSelector } from '../model/selectors.js';
import type { KubeObject } from '../model/types.js';
import { ruleAllows, type RuleRequest } from './policy-rules.js';

/**
 * Kubernetes' RBAC authorizer (plugin/pkg/auth/authorizer/rbac/rbac.go and the default rule resolver of
 * pkg/registry/rbac/validation/rule.go) over one snapshot of the stored Roles, ClusterRoles and their
 * bindings. ClusterRoleBindings grant everywhere; RoleBindings grant in their own namespace, whether they
 * name a Role of that namespace or a ClusterRole. A binding to a role that does not exist grants nothing.
 * An aggregated ClusterRole (aggregationRule) grants the rules of the ClusterRoles its selectors pick, as
 * the clusterrole-aggregation controller would write them.
 */

/** Who is asking, as RBAC sees a user: a name and groups (Kubernetes' user.Info). */
export interface UserInfo {
  name: string;
  groups: string[];
}

export interface RbacObjects {
  roles: KubeObject[];
  clusterRoles: KubeObject[];
  roleBindings: KubeObject[];
  clusterRoleBindings: KubeObject[];
}

/** One binding that applies to the user, with the subject that matched and the rules it grants. */
interface Grant {
  binding: KubeObject;
  subject: Subject;
  rules: PolicyRule[];
}

export interface RbacDecision {
  allowed: boolean;
  /** `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"`, as the authorizer says it. */
  reason: string;
}

const SA_PREFIX = 'system:serviceaccount:';

/** appliesToUser: a User by name, a Group by membership, a ServiceAccount by its user name. */
function applies(user: UserInfo, s: Subject, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return user.name === s.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      // A RoleBinding's ServiceAccount subject without a namespace means the binding's own.
      const ns = s.namespace || bindingNamespace;
      return ns !== '' && user.name === `${SA_PREFIX}${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

/** describeSubject: `User "alice"`, and a ServiceAccount name first: `ServiceAccount "name/ns"`. */
function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} "${s.name}/${s.namespace || bindingNamespace}"`;
  return `${s.kind} "${s.name}"`;
}

export class RbacPolicy {
  private readonly clusterRoles = new Map<string, KubeObject>();
  private readonly roles = new Map<string, KubeObject>();
  private readonly roleBindings = new Map<string, KubeObject[]>();
  private readonly aggregated = new Map<string, PolicyRule[]>();

  constructor(private readonly objects: RbacObjects) {
    for (const r of objects.clusterRoles) this.clusterRoles.set(r.metadata.name ?? '', r);
    for (const r of objects.roles) this.roles.set(`${r.metadata.namespace}/${r.metadata.name}`, r);
    for (const b of objects.roleBindings) {
      const ns = b.metadata.namespace ?? '';
      this.roleBindings.set(ns, [...(this.roleBindings.get(ns) ?? []), b]);
    }
  }

  /** This policy with these Roles and ClusterRoles added (or in place of stored ones of the same name). */
  with(extra: { roles: KubeObject[]; clusterRoles: KubeObject[] }): RbacPolicy {
    const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    const merged = (stored: KubeObject[], added: KubeObject[]) => {
      const replaced = new Set(added.map(key));
      return [...stored.filter((o) => !replaced.has(key(o))), ...added];
    };
    return new RbacPolicy({
      ...this.objects,
      roles: merged(this.objects.roles, extra.roles),
      clusterRoles: merged(this.objects.clusterRoles, extra.clusterRoles),
    });
  }

  /** Whether any binding grants the request, and which (the first found, ClusterRoleBindings first). */
  authorize(user: UserInfo, r: RuleRequest, namespace: string | undefined): RbacDecision {
    for (const g of this.grants(user, namespace)) {
      if (g.rules.some((rule) => ruleAllows(rule, r))) {
        const ref = roleRefOf(g.binding);
        const ns = g.binding.metadata.namespace ?? '';
        const what = ns
          ? `RoleBinding "${g.binding.metadata.name}/${ns}"`
          : `ClusterRoleBinding "${g.binding.metadata.name}"`;
        return {
          allowed: true,
          reason: `RBAC: allowed by ${what} of ${ref?.kind} "${ref?.name}" to ${describeSubject(g.subject, ns)}`,
        };
      }
    }
    return { allowed: false, reason: '' };
  }

  /** RulesFor: every rule granted to the user in the namespace (cluster-wide ones included). */
  rulesFor(user: UserInfo, namespace: string | undefined): PolicyRule[] {
    return this.grants(user, namespace).flatMap((g) => g.rules);
  }

  /** The rules a binding's roleRef names, as seen from `namespace` (undefined: the role does not exist). */
  roleRefRules(ref: { kind: string; name: string }, namespace: string): PolicyRule[] | undefined {
    if (ref.kind === 'ClusterRole') return this.clusterRoleRules(ref.name);
    const role = this.roles.get(`${namespace}/${ref.name}`);
    return role ? rulesOf(role) : undefined;
  }

  /**
   * A ClusterRole's rules; an aggregated one's are those of the ClusterRoles it selects, themselves
   * resolved (admin selects edit, which aggregates too), as the controller converges to them.
   */
  clusterRoleRules(name: string, visiting = new Set<string>()): PolicyRule[] | undefined {
    const role = this.clusterRoles.get(name);
    if (!role) return undefined;
    const selectors = aggregationSelectorsOf(role);
    if (!selectors) return rulesOf(role);
    const memo = this.aggregated.get(name);
    if (memo) return memo;
    if (visiting.has(name)) return []; // a cycle of aggregations adds nothing more
    visiting.add(name);
    // A selector that does not parse selects nothing (validation refuses them; older stored ones may hold one).
    const parsed = selectors.flatMap((s) => {
      try {
        return [fromStructured(s as StructuredSelector)];
      } catch {
        return [];
      }
    });
    const rules: PolicyRule[] = [];
    const seen = new Set<string>();
    const sources = [...this.clusterRoles.values()]
      .filter((other) => other !== role && parsed.some((sel) => matchesLabels(sel, other.metadata.labels ?? {})))
      .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    for (const other of sources)
      for (const rule of this.clusterRoleRules(other.metadata.name ?? '', visiting) ?? []) {
        const key = JSON.stringify(rule);
        if (!seen.has(key)) {
          seen.add(key);
          rules.push(rule);
        }
      }
    visiting.delete(name);
    // Only a result reached outside any cycle is final: one computed while another role is being
    // resolved may lack that role's rules.
    if (visiting.size === 0) this.aggregated.set(name, rules);
    return rules;
  }

  private grants(user: UserInfo, namespace: string | undefined): Grant[] {
    const out: Grant[] = [];
    const visit = (binding: KubeObject, bindingNamespace: string) => {
      const subject = subjectsOf(binding).find((s) => applies(user, s, bindingNamespace));
      const ref = roleRefOf(binding);
      if (!subject || !ref) return;
      const rules = this.roleRefRules(ref, bindingNamespace);
      if (rules) out.push({ binding, subject, rules });
    };
    for (const b of this.objects.clusterRoleBindings) visit(b, '');
    if (namespace) for (const b of this.roleBindings.get(namespace) ?? []) visit(b, namespace);
    return out;
  }
}
