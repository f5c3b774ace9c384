import { UnauthorizedError } from '../model/errors.js';
import type { Clock } from '../util/clock.js';
import { principalOf, type Principal } from './principal.js';
import {
  API_AUDIENCES,
  serviceAccountUserName,
  type ServiceAccountTokenClaims,
  type ServiceAccountTokens,
} from './service-account-tokens.js';
import type { TokenStore } from './token-store.js';
import { hashSecret, parseToken, secretMatches } from './tokens.js';

/** ServiceAccount tokens, and whether the account (and pod) a verified token names still exist as it says. */
export interface ServiceAccountAuthentication {
  tokens: ServiceAccountTokens;
  stillBound(claims: ServiceAccountTokenClaims): Promise<boolean>;
}

/** A JWS in compact form (header.payload.signature): what TokenRequest issues; kumo's own tokens start `kumo.`. */
const JWT = /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/;

/**
 * Bearer token → principal. Runs inside the API function (no separate authorizer Lambda, so no
 * second invocation per request) with a short per-container cache: a warm container answers repeat
 * callers without reading DynamoDB. The cost is that a revoked token keeps working on a warm
 * container for at most `cacheMs`.
 */
export class Authenticator {
  private readonly cache = new Map<string, { principal?: Principal; until: number }>();

  constructor(
    private readonly tokens: TokenStore,
    private readonly clock: Clock,
    private readonly cacheMs: number,
    private readonly serviceAccounts?: ServiceAccountAuthentication,
    private readonly maxEntries = 10_000,
  ) {}

  /** The principal the token stands for; UnauthorizedError when it is malformed, unknown, revoked or expired. */
  async authenticate(token: string): Promise<Principal> {
    const now = this.clock.now().getTime();
    const key = hashSecret(token);
    const hit = this.cache.get(key);
    if (hit && hit.until > now) {
      if (!hit.principal) throw new UnauthorizedError();
      return hit.principal;
    }
    const principal = await this.lookup(token, now);
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(key, { principal, until: now + this.cacheMs });
    if (!principal) throw new UnauthorizedError();
    return principal;
  }

  private async lookup(token: string, now: number): Promise<Principal | undefined> {
    if (JWT.test(token)) return this.serviceAccount(token);
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const record = await this.tokens.get(parsed.id);
    if (!record || record.revokedAt || !secretMatches(parsed.secret, record.hash)) return undefined;
    if (record.expiresAt && Date.parse(record.expiresAt) <= now) return undefined;
    return principalOf(record);
  }

  /**
   * A ServiceAccount token: its signature, expiry and audience checked with the key this API holds, then
   * its account (and bound pod) looked up by uid, so deleting either revokes it (within `cacheMs` on a
   * warm container). It acts as `system:serviceaccount:<ns>:<name>` in Kubernetes' groups, with no token
   * role: what RBAC grants it.
   */
  private async serviceAccount(token: string): Promise<Principal | undefined> {
    const claims = await this.serviceAccounts?.tokens.verify(token, API_AUDIENCES);
    if (!claims || !(await this.serviceAccounts?.stillBound(claims))) return undefined;
    return {
      type: 'user',
      name: serviceAccountUserName(claims.namespace, claims.serviceAccount.name),
      role: 'none',
      namespaces: [],
      groups: ['system:serviceaccounts', `system:serviceaccounts:${claims.namespace}`],
    };
  }
}
