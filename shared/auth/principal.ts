/**
 * Who is asking. Users carry a role (Kubernetes' default ClusterRoles of the same names): cluster-admin
 * everywhere, or edit/view in the namespaces they were given. A node may act only as itself (like
 * Kubernetes' Node authorizer + NodeRestriction); a bootstrap principal may only obtain a node credential.
 */
export type Role = 'cluster-admin' | 'edit' | 'view';
export const ROLES: readonly Role[] = ['cluster-admin', 'edit', 'view'];

export type Principal =
  | { type: 'user'; name: string; role: Role; namespaces: string[] }
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
      };
    case 'node':
      return { type: 'node', nodeName: r.name };
    case 'bootstrap':
      return { type: 'bootstrap', name: r.name };
  }
}
