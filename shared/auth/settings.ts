/** Auth settings, free of imports so config.ts (and with it the agent's bundle) stays small. */
export interface AuthSettings {
  /**
   * `tokens`: every request needs a valid bearer token (AWS, and offline when asked).
   * `dev-loopback`: offline only — a request with no Authorization header from a loopback address acts
   * as cluster-admin (kubectl sends tokens only over https); requests with a token are checked as usual.
   */
  mode: 'tokens' | 'dev-loopback';
  /** How long a warm container trusts a token it has checked (revocation delay). */
  cacheSeconds: number;
  /** How long a warm container authorizes with the RBAC objects it read (another container's change is seen after at most this). */
  rbacCacheSeconds: number;
  /** Per principal, per warm container. */
  rateLimit: { perSecond: number; burst: number };
  /** Larger bodies are refused with 413 before they are parsed (Kubernetes' limit is 3 MiB). */
  maxBodyBytes: number;
}

export const DEFAULT_AUTH: AuthSettings = {
  mode: 'tokens',
  cacheSeconds: 60,
  rbacCacheSeconds: 5,
  rateLimit: { perSecond: 50, burst: 100 },
  maxBodyBytes: 3 * 1024 * 1024,
};
