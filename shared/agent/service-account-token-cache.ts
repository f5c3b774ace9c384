import type { PodTokenRequest } from './volumes/projection.js';

/**
 * The node's tokens for its pods' projected volumes, as kubelet's token manager keeps them
 * (pkg/kubelet/token/token_manager.go): one per pod, account, audience and lifetime, asked of the
 * control plane once and again only when it is past 80 % of its life or older than 24 hours; when
 * asking fails, a token that is still valid keeps being served. The volume resync reads through here,
 * so a pod's token file is rewritten only when a new token came.
 */

export interface IssuedToken {
  token: string;
  /** When the token stops being accepted. */
  expiresAt: Date;
}

export type RequestPodToken = (request: PodTokenRequest) => Promise<IssuedToken>;

interface Held extends IssuedToken {
  issuedAt: number;
  podUid: string;
}

const MAX_TTL_MS = 24 * 3600 * 1000;

export class ServiceAccountTokenCache {
  private readonly held = new Map<string, Held>();
  /** One request in flight per key: the pod's volumes ask together at start. */
  private readonly asking = new Map<string, Promise<string>>();

  constructor(
    private readonly request: RequestPodToken,
    private readonly now: () => number,
  ) {}

  async get(req: PodTokenRequest): Promise<string> {
    this.forgetExpired();
    const key = JSON.stringify([
      req.namespace,
      req.serviceAccount,
      req.pod.uid,
      req.audience ?? '',
      req.expirationSeconds,
    ]);
    const held = this.held.get(key);
    if (held && !this.needsRefresh(held)) return held.token;
    let pending = this.asking.get(key);
    if (!pending) {
      pending = this.fetch(key, req, held).finally(() => this.asking.delete(key));
      this.asking.set(key, pending);
    }
    return pending;
  }

  private async fetch(key: string, req: PodTokenRequest, held: Held | undefined): Promise<string> {
    const issuedAt = this.now();
    try {
      const fresh = await this.request(req);
      this.held.set(key, { ...fresh, issuedAt, podUid: req.pod.uid });
      return fresh.token;
    } catch (e) {
      // requiresRefresh, not expired: the old one still serves until the next try.
      if (held && held.expiresAt.getTime() > this.now()) return held.token;
      throw e;
    }
  }

  /** requiresRefresh: past 80 % of its life, or held longer than a day. */
  private needsRefresh(t: Held): boolean {
    const now = this.now();
    const life = t.expiresAt.getTime() - t.issuedAt;
    return now > t.issuedAt + 0.8 * life || now - t.issuedAt > MAX_TTL_MS;
  }

  /** A pod's tokens go with it (kubelet's DeleteServiceAccountToken): one asked for years must not stay. */
  forgetPod(uid: string): void {
    for (const [key, t] of this.held) if (t.podUid === uid) this.held.delete(key);
  }

  /** Tokens past their expiry are of no use to anyone (their pods are gone or have newer ones). */
  private forgetExpired(): void {
    const now = this.now();
    for (const [key, t] of this.held) if (t.expiresAt.getTime() <= now) this.held.delete(key);
  }

  get size(): number {
    return this.held.size;
  }
}
