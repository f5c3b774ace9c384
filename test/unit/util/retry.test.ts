import { describe, expect, it } from 'vitest';
import { backoffMs, retrying } from '../../../shared/util/retry.js';

describe('retrying', () => {
  it('tries again while the error is retryable, waiting the delay between, and returns the first success', async () => {
    const waited: number[] = [];
    const seen: number[] = [];
    const out = await retrying(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 2) throw new Error('conflict');
        return 'done';
      },
      {
        retryable: (e) => String(e).includes('conflict'),
        delayMs: (n) => 10 * (n + 1),
        wait: async (ms) => void waited.push(ms),
      },
    );
    expect(out).toBe('done');
    expect(seen).toEqual([0, 1, 2]);
    expect(waited).toEqual([10, 20]);
  });

  it('rethrows an error that is not retryable, or when attempts run out', async () => {
    await expect(retrying(() => Promise.reject(new Error('bad')), { retryable: () => false })).rejects.toThrow('bad');
    let calls = 0;
    await expect(
      retrying(() => Promise.reject(new Error(`try ${calls++}`)), { retryable: (_e, n) => n < 3 }),
    ).rejects.toThrow('try 3');
    expect(calls).toBe(4);
  });

  it('backs off exponentially up to a ceiling, with full jitter when asked', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, { baseMs: 100, maxMs: 1000 }))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffMs(3, { baseMs: 100, maxMs: 1000, jitter: true }, () => 0.5)).toBe(400);
  });
});
