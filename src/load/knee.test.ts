import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRequestSamples } from './k6-samples.ts';
import { kneeFromSamples } from './knee.ts';

describe('knee', () => {
  it('reads a recorded k6 --out json excerpt and judges full windows only', async () => {
    const samples = await readRequestSamples(
      join(import.meta.dirname, '../../test/fixtures/load/knee.samples.ndjson'),
      'knee',
    );
    expect(samples.filter((s) => s.durationMs !== undefined).length).toBe(
      samples.filter((s) => s.failed !== undefined).length,
    );
    const result = kneeFromSamples(samples, 3, { p95Ms: 200, maxErrorRate: 0.01 });
    // 7 s of samples: windows 0-3 s and 3-6 s are full, the last second is partial and left out.
    expect(result.windows).toHaveLength(2);
    expect(result.windows[1]?.ratePerSec).toBeGreaterThan(result.windows[0]?.ratePerSec ?? Infinity);
    expect(result.kneeRatePerSec).toBe(result.windows[1]?.ratePerSec);
  });

  it('stops at the first sustained breach (two windows in a row), not at one noisy window', () => {
    const at = (
      sec: number,
      durationMs: number,
      failed = false,
    ): { t: number; durationMs: number; failed: boolean }[] =>
      Array.from({ length: 10 + sec }, (_, i) => ({ t: sec * 1000 + i, durationMs, failed }));
    const samples = [...at(0, 10), ...at(1, 900), ...at(2, 20), ...at(3, 900), ...at(4, 900), ...at(5, 10)].flatMap(
      (s) => [
        { t: s.t, durationMs: s.durationMs },
        { t: s.t, failed: s.failed },
      ],
    );
    const result = kneeFromSamples(samples, 1, { p95Ms: 200 });
    expect(result.windows.map((w) => w.sloHeld)).toEqual([true, false, true, false, false]);
    expect(result.kneeRatePerSec).toBe(12);
    expect(result.firstBreachRatePerSec).toBe(13);
  });
});
