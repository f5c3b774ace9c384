/** kubelet's crash back-off: 10 s doubling to 5 min, forgotten after the container ran 10 min cleanly. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** A container that ran at least this long starts over at `initialMs`. */
  resetAfterMs: number;
}

export const KUBELET_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

/** The delay before restart number `consecutiveFailures` (1 for the first restart). */
export function backoffDelay(policy: BackoffPolicy, consecutiveFailures: number): number {
  if (consecutiveFailures <= 0) return 0;
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(30, consecutiveFailures - 1));
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}
