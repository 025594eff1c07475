import { describe, expect, it } from 'vitest';
import { percentile } from './authn.ts';

describe('nearest-rank percentile', () => {
  it('takes the value at rank ceil(p/100 * n)', () => {
    const samples = Array.from({ length: 40 }, (_, i) => i + 1);
    expect(percentile(samples, 95)).toBe(38);
    expect(percentile([5, 1, 3], 50)).toBe(3);
    expect(percentile([7], 95)).toBe(7);
    expect(Number.isNaN(percentile([], 95))).toBe(true);
  });
});
