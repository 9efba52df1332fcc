import { describe, expect, it } from 'vitest';
import { RateTracker } from '../../src/sdk/rate.js';

describe('RateTracker.sweep', () => {
  it('forgets keys not read since the last sweep, so a returning device primes again', () => {
    const r = new RateTracker();
    r.rate('sda', 100, 0);
    r.rate('sdb', 100, 0);
    r.sweep();
    expect(r.rate('sda', 300, 2000)).toBe(100);
    r.sweep(); // sdb was not read this round
    expect(r.has('sda')).toBe(true);
    expect(r.has('sdb')).toBe(false);
    expect(r.rate('sdb', 500, 4000)).toBeUndefined();
    // A counter going backwards re-primes instead of a negative rate.
    expect(r.rate('sda', 10, 4000)).toBeUndefined();
    expect(r.rate('sda', 30, 5000)).toBe(20);
  });
});
