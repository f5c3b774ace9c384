import { describe, expect, it } from 'vitest';
import {
  formatBinaryQuantity,
  formatGoDuration,
  formatScaledQuantity,
  isQuantity,
  milliCpu,
  parseQuantity,
} from '../../../shared/model/quantity.js';

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

describe('canonical quantities and durations, as Go prints them', () => {
  it.each([
    [2217045, -9, '2217045n'],
    [2217000, -9, '2217u'],
    [250, -3, '250m'],
    [1000, -3, '1'],
    [104857600000, -3, '104857600'],
    [100000000, 0, '100M'],
    [0, -9, '0'],
  ] as const)('%d × 10^%d → %s', (v, exp, text) => {
    expect(formatScaledQuantity(v, exp)).toBe(text);
    expect(parseQuantity(text)).toBeCloseTo(v * 10 ** exp);
  });

  it('writes bytes in the largest binary unit that keeps them whole', () => {
    expect(formatBinaryQuantity(15802368)).toBe('15432Ki');
    expect(formatBinaryQuantity(64 * 2 ** 20)).toBe('64Mi');
    expect(formatBinaryQuantity(1000)).toBe('1000');
  });

  it('writes a window as time.Duration.String()', () => {
    expect([15, 15.012, 90.5, 3600, 0.25, 0].map(formatGoDuration)).toEqual([
      '15s',
      '15.012s',
      '1m30.5s',
      '1h0m0s',
      '250ms',
      '0s',
    ]);
  });
});
