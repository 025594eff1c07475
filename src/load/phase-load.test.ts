import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRequestSamples } from './k6-samples.ts';
import { statsByPhase } from './phase-load.ts';

const RECORDED = join(import.meta.dirname, '../../test/fixtures/load/knee.samples.ndjson');

describe('readRequestSamples (recorded k6 1.8.1 --out json)', () => {
  it('pairs each request duration with its failure point and places it at the time it was sent', async () => {
    const text = await readFile(RECORDED, 'utf8');
    const points = text
      .split('\n')
      .filter((l) => l.includes('"Point"'))
      .map((l) => JSON.parse(l) as { metric: string; data: { time: string; value: number } });
    const durations = points.filter((p) => p.metric === 'http_req_duration');
    const samples = await readRequestSamples(RECORDED, 'knee');
    expect(samples).toHaveLength(durations.length);
    expect(samples.every((s) => s.durationMs !== undefined && s.failed !== undefined)).toBe(true);
    const first = durations[0];
    expect(first).toBeDefined();
    const end = Date.parse(first?.data.time ?? '');
    expect(samples).toContainEqual({ t: end - (first?.data.value ?? 0), durationMs: first?.data.value, failed: false });
    expect(await readRequestSamples(RECORDED, 'another-scenario')).toEqual([]);
  });
});

describe('statsByPhase', () => {
  const marks: [string, number][] = [
    ['baseline', 0],
    ['fault', 10_000],
    ['recovery', 20_000],
  ];
  const samples = [
    ...Array.from({ length: 100 }, (_, i) => ({ t: i * 100, durationMs: 10 + (i % 10), failed: false })),
    ...Array.from({ length: 100 }, (_, i) => ({ t: 10_000 + i * 100, durationMs: 900, failed: i % 4 === 0 })),
    ...Array.from({ length: 50 }, (_, i) => ({ t: 20_000 + i * 100, durationMs: 20, failed: false })),
    // Sent before the first mark or after the end: in no phase.
    { t: -50, durationMs: 5000, failed: true },
    { t: 25_000, durationMs: 5000, failed: true },
  ];

  it('judges each phase on the requests sent during it, against that phase SLO', () => {
    const phases = statsByPhase(samples, marks, 25_000, {
      baseline: { p95Ms: 200, maxErrorRate: 0.01 },
      fault: { p95Ms: 2000, maxErrorRate: 0.1 },
    });
    expect(phases.map((p) => [p.phase, p.requests, p.ratePerSec, p.p95Ms, p.errorRate])).toEqual([
      ['baseline', 100, 10, 19, 0],
      ['fault', 100, 10, 900, 0.25],
      ['recovery', 50, 10, 20, 0],
    ]);
    expect(phases[0]?.breaches).toEqual([]);
    expect(phases[1]?.breaches).toEqual(['error rate 0.25 >= 0.1']);
    // No SLO for recovery: measured, not judged.
    expect(phases[2]?.breaches).toBeUndefined();
  });

  it('does not judge a phase without requests', () => {
    const [baseline] = statsByPhase([], [['baseline', 0]], 1_000, { baseline: { maxErrorRate: 0.01 } });
    expect(baseline?.requests).toBe(0);
    expect(baseline).not.toHaveProperty('breaches');
  });
});
