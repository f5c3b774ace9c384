import { BadRequestError, NotFoundError } from '../model/errors.js';
import type { Clock } from '../util/clock.js';
import { checkNodeName } from '../nodes/protocol.js';
import { ROLES, SYSTEM_MASTERS, type Role, type TokenRecord } from './principal.js';
import type { TokenStore } from './token-store.js';
import { formatToken, hashSecret, newSecret, newTokenId } from './tokens.js';

export interface NewUserToken {
  name: string;
  role: Role;
  /** Required for admin/edit/view; ignored for cluster-admin and none. */
  namespaces?: string[];
  /** Groups the user is in, for RBAC bindings to Group subjects. */
  groups?: string[];
  ttlSeconds?: number;
}

export interface IssuedToken {
  /** Shown once: only its hash is stored. */
  token: string;
  record: TokenRecord;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9@._:-]{0,127}$/;
/** Bootstrap tokens are meant to be short-lived: a day at most. */
const MAX_BOOTSTRAP_TTL_SECONDS = 24 * 3600;

/** Creates, lists and revokes tokens. A node's credential has the id `node:<name>`, so a new one replaces the old. */
export class TokenService {
  constructor(
    private readonly store: TokenStore,
    private readonly clock: Clock,
  ) {}

  async createUserToken(t: NewUserToken): Promise<IssuedToken> {
    if (!USER_NAME.test(t.name))
      throw new BadRequestError(`token name ${JSON.stringify(t.name)} must be 1-128 letters, digits or @._:-`);
    // Kubernetes reserves `system:` (ServiceAccounts are system:serviceaccount:<ns>:<name>; nodes system:node:<name>).
    if (t.name.startsWith('system:'))
      throw new BadRequestError(
        `token name ${JSON.stringify(t.name)} may not start with "system:": those names are Kubernetes'`,
      );
    if (!ROLES.includes(t.role))
      throw new BadRequestError(`role must be one of ${ROLES.join(', ')}, not ${JSON.stringify(t.role)}`);
    const namespaced = t.role !== 'cluster-admin' && t.role !== 'none';
    const namespaces = namespaced ? (t.namespaces ?? []) : [];
    if (namespaced && namespaces.length === 0)
      throw new BadRequestError(`a ${t.role} token needs at least one namespace`);
    const bad = namespaces.find((n) => !DNS_LABEL.test(n));
    if (bad !== undefined) throw new BadRequestError(`namespace ${JSON.stringify(bad)} is not a valid namespace name`);
    const groups = t.groups ?? [];
    const badGroup = groups.find((g) => !USER_NAME.test(g) || g.startsWith('system:'));
    if (badGroup !== undefined)
      throw new BadRequestError(
        `group ${JSON.stringify(badGroup)} must be 1-128 letters, digits or @._:- and not start with "system:" (${SYSTEM_MASTERS} is the cluster-admin role's)`,
      );
    return this.issue(
      { id: newTokenId(), type: 'user', name: t.name, role: t.role, namespaces, ...(groups.length ? { groups } : {}) },
      t.ttlSeconds,
    );
  }

  async createBootstrapToken(name: string, ttlSeconds: number): Promise<IssuedToken> {
    if (!USER_NAME.test(name))
      throw new BadRequestError(`token name ${JSON.stringify(name)} must be 1-128 letters, digits or @._:-`);
    if (!(ttlSeconds > 0 && ttlSeconds <= MAX_BOOTSTRAP_TTL_SECONDS))
      throw new BadRequestError(`a bootstrap token lives between 1 second and ${MAX_BOOTSTRAP_TTL_SECONDS} seconds`);
    return this.issue({ id: newTokenId(), type: 'bootstrap', name }, ttlSeconds);
  }

  /** A node's own credential; issuing a new one revokes the previous one (same record id). */
  async issueNodeCredential(nodeName: string): Promise<IssuedToken> {
    checkNodeName(nodeName);
    return this.issue({ id: `node:${nodeName}`, type: 'node', name: nodeName });
  }

  async list(): Promise<TokenRecord[]> {
    return (await this.store.list()).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.store.revoke(id, this.clock.now().toISOString())))
      throw new NotFoundError({ resource: 'tokens', group: 'kumo', name: id });
  }

  private async issue(r: Omit<TokenRecord, 'hash' | 'createdAt'>, ttlSeconds?: number): Promise<IssuedToken> {
    const secret = newSecret();
    const now = this.clock.now();
    const record: TokenRecord = {
      ...r,
      hash: hashSecret(secret),
      createdAt: now.toISOString(),
      ...(ttlSeconds ? { expiresAt: new Date(now.getTime() + ttlSeconds * 1000).toISOString() } : {}),
    };
    await this.store.put(record);
    return { token: formatToken({ id: r.id, secret }), record };
  }
}
