import type { Clock } from '../util/clock.js';

/**
 * A token bucket per principal, per warm container: a cheap first line against one caller flooding
 * the API (API Gateway's stage throttling is the global one). With N containers warm a caller may
 * get up to N times the rate; that is accepted to avoid a DynamoDB write per request.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** 0 when the request may go ahead, otherwise the seconds to wait before retrying. */
  take(key: string): number {
    const now = this.clock.now().getTime();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (this.buckets.size >= this.maxKeys && !this.buckets.has(key)) this.buckets.clear();
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }
}
