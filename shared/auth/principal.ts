/**
 * Who is asking. Users carry a role (Kubernetes' default ClusterRoles of the same names): cluster-admin
 * everywhere, or admin/edit/view in the namespaces they were given, or `none` (only what RBAC bindings
 * to their name and groups grant). A node may act only as itself (like Kubernetes' Node authorizer +
 * NodeRestriction); a bootstrap principal may only obtain a node credential.
 */
export type Role = 'cluster-admin' | 'admin' | 'edit' | 'view' | 'none';
export const ROLES: readonly Role[] = ['cluster-admin', 'admin', 'edit', 'view', 'none'];

export type Principal =
  | { type: 'user'; name: string; role: Role; namespaces: string[]; groups?: string[] }
  | { type: 'node'; nodeName: string }
  | { type: 'bootstrap'; name: string };

/** Kubernetes-style user names, for messages and audit: `system:node:<name>`. A caller without valid credentials never becomes a principal (401). */
export function userName(p: Principal): string {
  switch (p.type) {
    case 'user':
      return p.name;
    case 'node':
      return `system:node:${p.nodeName}`;
    case 'bootstrap':
      return `system:bootstrap:${p.name}`;
  }
}

/** What is stored for a token: never the token itself, only its secret's hash. */
export interface TokenRecord {
  id: string;
  hash: string;
  type: 'user' | 'node' | 'bootstrap';
  /** User name, node name, or the bootstrap token's label. */
  name: string;
  role?: Role;
  namespaces?: string[];
  /** A user's groups, for RBAC bindings to Group subjects. */
  groups?: string[];
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
}

export function principalOf(r: TokenRecord): Principal {
  switch (r.type) {
    case 'user':
      return {
        type: 'user',
        name: r.name,
        role: r.role ?? 'view',
        namespaces: r.role === 'cluster-admin' ? [] : (r.namespaces ?? []),
        ...(r.groups?.length ? { groups: r.groups } : {}),
      };
    case 'node':
      return { type: 'node', nodeName: r.name };
    case 'bootstrap':
      return { type: 'bootstrap', name: r.name };
  }
}

/** user.SystemPrivilegedGroup: Kubernetes' superusers, who may also grant anything (no escalation check). */
export const SYSTEM_MASTERS = 'system:masters';
export const SYSTEM_AUTHENTICATED = 'system:authenticated';

/**
 * The principal as Kubernetes' user.Info: the name RBAC subjects and messages use, and the groups
 * Kubernetes' authenticators add (every authenticated caller is in system:authenticated; nodes in
 * system:nodes; a cluster-admin token stands for a member of system:masters, as kubeadm's admin.conf does).
 */
export function userInfoOf(p: Principal): { name: string; groups: string[] } {
  switch (p.type) {
    case 'user':
      return {
        name: p.name,
        groups: [...(p.groups ?? []), ...(p.role === 'cluster-admin' ? [SYSTEM_MASTERS] : []), SYSTEM_AUTHENTICATED],
      };
    case 'node':
      return { name: userName(p), groups: ['system:nodes', SYSTEM_AUTHENTICATED] };
    case 'bootstrap':
      return { name: userName(p), groups: ['system:bootstrappers', SYSTEM_AUTHENTICATED] };
  }
}
