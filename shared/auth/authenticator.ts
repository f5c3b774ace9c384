import { UnauthorizedError } from '../model/errors.js';
import type { Clock } from '../util/clock.js';
import { principalOf, type Principal } from './principal.js';
import type { TokenStore } from './token-store.js';
import { hashSecret, parseToken, secretMatches } from './tokens.js';

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
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const record = await this.tokens.get(parsed.id);
    if (!record || record.revokedAt || !secretMatches(parsed.secret, record.hash)) return undefined;
    if (record.expiresAt && Date.parse(record.expiresAt) <= now) return undefined;
    return principalOf(record);
  }
}
