import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigSchema } from '../config/stages/load.ts';
import { readRequestSamples, readShardSamples } from './k6-samples.ts';
import { kneeFigures, kneeFromSamples, readKneeFigures, writeKneeFigures } from './knee.ts';
import { kneeCheckSpec, kneeFloorOutcome } from './load-stage.ts';

const kneeOf = (extra: Record<string, unknown> = {}): NonNullable<ReturnType<typeof loadConfigSchema.parse>['knee']> =>
  loadConfigSchema.parse({
    script: 'x.js',
    target: { service: 'x', port: 1 },
    scenarios: [{ id: 'x', ratePerSec: 1, durationSec: 1 }],
    knee: { fromRatePerSec: 20, toRatePerSec: 200, durationSec: 24, windowSec: 3, ...extra },
  }).knee ?? expect.fail('no knee');

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

  it('without floorRatePerSec the knee is a figure in knee.json, not a check counted in the pass rate', async () => {
    const knee = kneeOf();
    expect(kneeCheckSpec(knee)).toBeUndefined();
    const samples = await readRequestSamples(
      join(import.meta.dirname, '../../test/fixtures/load/knee.samples.ndjson'),
      'knee',
    );
    const slo = { p95Ms: 200, maxErrorRate: 0.01 };
    const figures = kneeFigures(kneeFromSamples(samples, 3, slo), knee, slo);
    expect(() => kneeFloorOutcome(figures, [])).toThrow(/a figure, not a check/);
    const dir = await mkdtemp(join(tmpdir(), 'knee-'));
    try {
      await writeKneeFigures(join(dir, 'knee.json'), figures);
      const read = await readKneeFigures(join(dir, 'knee.json'));
      expect(read).toMatchObject({ schemaVersion: 1, status: 'measured', fromRatePerSec: 20, toRatePerSec: 200 });
      expect(read.floorRatePerSec).toBeUndefined();
      expect(read.windows).toHaveLength(2);
      expect(read.kneeRatePerSec).toBe(read.windows[1]?.ratePerSec);
      expect(read.maxReachedRatePerSec).toBe(read.windows[1]?.ratePerSec);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with floorRatePerSec the knee stays a critical check that fails below the floor', async () => {
    const samples = await readRequestSamples(
      join(import.meta.dirname, '../../test/fixtures/load/knee.samples.ndjson'),
      'knee',
    );
    const slo = { p95Ms: 200, maxErrorRate: 0.01 };
    const result = kneeFromSamples(samples, 3, slo);
    const knee = result.kneeRatePerSec ?? expect.fail('no knee');
    expect(kneeCheckSpec(kneeOf({ floorRatePerSec: 10 }))).toMatchObject({ id: 'load.knee', severity: 'critical' });
    const low = kneeFigures(result, kneeOf({ floorRatePerSec: Math.floor(knee) }), slo);
    expect(kneeFloorOutcome(low, []).status).toBe('passed');
    const high = kneeFigures(result, kneeOf({ floorRatePerSec: Math.ceil(knee) + 1 }), slo);
    expect(kneeFloorOutcome(high, [])).toMatchObject({ status: 'failed', message: expect.stringMatching(/floor/) });
    expect(
      kneeFloorOutcome(kneeFigures(kneeFromSamples([], 3, slo), kneeOf({ floorRatePerSec: 1 }), slo), []).status,
    ).toBe('unknown');
  });
});

describe('the knee probe as several k6 runners (load.runners)', () => {
  const SHARDS = [1, 2].map((i) =>
    join(import.meta.dirname, `../../test/fixtures/load/sharded.runner-${i}.samples.ndjson`),
  );

  it('judges its windows on the requests of every runner: each window counts both runners', async () => {
    const [one, two] = await Promise.all(SHARDS.map((file) => readRequestSamples(file, 'steady')));
    const both = await readShardSamples(SHARDS, 'steady');
    expect(one?.length).toBeGreaterThan(0);
    expect(two?.length).toBeGreaterThan(0);
    expect(both).toHaveLength((one?.length ?? 0) + (two?.length ?? 0));
    const slo = { p95Ms: 10_000, maxErrorRate: 1 };
    const merged = kneeFromSamples(both, 3, slo).windows;
    const alone = kneeFromSamples(one ?? [], 3, slo).windows;
    expect(merged.length).toBeGreaterThan(0);
    // The runners ran the same time span: every merged window holds more requests than runner 1's alone.
    for (const [i, window] of merged.entries())
      expect(window.requests).toBeGreaterThan(alone[i]?.requests ?? Number.POSITIVE_INFINITY);
  });
});
