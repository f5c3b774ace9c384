import { describe, expect, it } from 'vitest';
import { isQuantity, milliCpu, parseQuantity } from '../../../shared/model/quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['500m', 0.5],
    ['1', 1],
    ['2.5', 2.5],
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['1k', 1000],
    ['1e3', 1000],
    ['1E-3', 0.001],
    ['.5', 0.5],
    ['+1Ki', 1024],
    [2, 2],
  ])('%s → %d', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value);
  });

  it.each(['', 'abc', '1 Gi', '1GiB', '1.2.3', 'Mi', '1mi', '--1', '1Ki2'])('rejects %j', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
    expect(isQuantity(text)).toBe(false);
  });

  it('rounds CPU up to whole millicores', () => {
    expect(milliCpu('100m')).toBe(100);
    expect(milliCpu('0.0001')).toBe(1);
    expect(milliCpu('2')).toBe(2000);
  });
});
