/** Waits `ms` milliseconds (the one place outside the agent's timers that waits on the real clock). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Exponential back-off: `baseMs` doubling per attempt (0 the first retry) up to `maxMs`, with full jitter when asked (AWS's advice for contended writes). */
export function backoffMs(
  attempt: number,
  opts: { baseMs: number; maxMs: number; jitter?: boolean },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(30, attempt));
  return opts.jitter ? random() * ceiling : ceiling;
}

export interface RetryOptions {
  /** Whether to try again after `error` on attempt `attempt` (0 for the first); false rethrows it. */
  retryable: (error: unknown, attempt: number) => boolean;
  /** How long to wait before attempt `attempt` + 1 (no wait when absent: a fresh read is the retry's whole point). */
  delayMs?: (attempt: number) => number;
  wait?: (ms: number) => Promise<void>;
}

/**
 * Runs `f` until it returns, retrying while `retryable` says so: the loop every optimistic
 * read-modify-write (a 409 means "read again and redo"), every contended transaction and every
 * flaky call shares. `f` is given the attempt number, counting from 0.
 */
export async function retrying<T>(f: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await f(attempt);
    } catch (e) {
      if (!opts.retryable(e, attempt)) throw e;
      const ms = opts.delayMs?.(attempt) ?? 0;
      if (ms > 0) await (opts.wait ?? sleep)(ms);
    }
  }
}
