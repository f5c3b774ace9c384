import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextResourceVersion } from '../../../shared/store/resource-version.js';

describe('nextResourceVersion', () => {
  it('is strictly increasing per object, whatever the clock does (including going backwards)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }), { minLength: 1, maxLength: 50 }),
        (clockReadings) => {
          let rv: number | undefined;
          for (const now of clockReadings) {
            const next = nextResourceVersion(rv, now);
            if (rv !== undefined) expect(next).toBeGreaterThan(rv);
            expect(Number.isSafeInteger(next)).toBe(true);
            rv = next;
          }
        },
      ),
    );
  });

  it('follows the clock when it moves forward', () => {
    expect(nextResourceVersion(undefined, 1000)).toBe(1_000_000);
    expect(nextResourceVersion(1_000_000, 2000)).toBe(2_000_000);
    expect(nextResourceVersion(5_000_000, 2000)).toBe(5_000_001);
  });
});
