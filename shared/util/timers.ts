/**
 * Time as the node agent sees it (kubelet's clock.Clock): the current time and timers it can cancel.
 * The agent never reads the wall clock or calls setTimeout itself, so a test drives its loop through
 * heartbeats, resyncs and back-offs by advancing a manual clock instead of waiting.
 */
export interface Timers {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `f` once `ms` have passed; the returned function cancels it. */
  after(ms: number, f: () => void): () => void;
}

export const systemTimers: Timers = {
  now: () => Date.now(),
  after(ms, f) {
    const t = setTimeout(f, ms);
    return () => clearTimeout(t);
  },
};

/** Resolves after `ms` on `timers`, or at once when `signal` aborts (a stopping agent does not wait out its back-off). */
export function delay(timers: Timers, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = () => {
      cancel();
      resolve();
    };
    const cancel = timers.after(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** An RFC 3339 timestamp at second precision, as Kubernetes writes them. */
export const isoAt = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
