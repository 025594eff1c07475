import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigSchema } from '../config/stages/load.ts';
import {
  CAPACITY_REGRESSION_CHECK,
  capacityRegressionOutcome,
  capacityRegressionSpec,
  compareFigure,
  readCapacityFigures,
} from './capacity-regression.ts';
import { planLoadStage } from './load-stage.ts';
import { resolveConfig } from '../config/load-config.ts';
import type { CheckResult } from '../core/check-result.ts';
import { worseHostLoad } from '../runner/host-load.ts';
import type { HostLoad, HostLoadSampler } from '../runner/host-load.ts';
import { runCheck } from '../runner/suite.ts';
import type { PlanContext } from '../runner/suite.ts';
import { recordingContext } from '../../test/support/stage.ts';

/** Recorded load folders of three reference-stack runs (k6 summaries and knee.json; the knee windows left out). */
const RECORDED = join(import.meta.dirname, '../../test/fixtures/load/capacity');
/** CERTIFIED, knee 166.667 req/s, steady p95 22.7 ms. */
const HEALTHY = '20261206-081337-0f43';
/** CERTIFIED later, on the same host: within the noise band of HEALTHY. */
const HEALTHY_LATER = '20261206-084019-d5c3';
/** A degraded stack (load stage failed): knee 76.667 req/s, steady p95 498.9 ms. */
const DEGRADED = '20261206-093801-e87d';

/** The reference stack's load scenarios as they were when these runs were recorded. */
const load = loadConfigSchema.parse({
  script: 'orders-mix.js',
  target: { service: 'orders', port: 8080 },
  scenarios: [
    {
      id: 'baseline',
      ratePerSec: 30,
      phases: [
        { name: 'warmup', durationSec: 4 },
        { name: 'steady', durationSec: 15 },
      ],
    },
    {
      id: 'spike',
      stages: [
        { target: 100, durationSec: 3 },
        { target: 100, durationSec: 4 },
        { target: 20, durationSec: 3 },
      ],
    },
    { id: 'soak-short', ratePerSec: 50, durationSec: 30 },
    {
      id: 'fault-phase',
      ratePerSec: 15,
      fault: { kind: 'latency', link: 'postgres', latencyMs: 1000 },
      phases: [
        { name: 'baseline', durationSec: 6 },
        { name: 'fault', durationSec: 15, fault: true },
        { name: 'recovery', durationSec: 6 },
      ],
    },
  ],
  knee: { fromRatePerSec: 20, toRatePerSec: 200, durationSec: 24 },
});

let reports: string | undefined;
afterEach(async () => {
  if (reports) await rm(reports, { recursive: true, force: true });
  reports = undefined;
});

/** A reports folder holding the recorded runs, each with a certification file of the given verdict and name. */
async function reportsWith(
  runs: readonly { id: string; from: string; verdict: string; name?: string; withoutKnee?: boolean }[],
): Promise<string> {
  reports = await mkdtemp(join(tmpdir(), 'capacity-'));
  for (const run of runs) {
    const dir = join(reports, run.id);
    await mkdir(dir, { recursive: true });
    await cp(join(RECORDED, run.from), join(dir, 'load'), { recursive: true });
    if (run.withoutKnee) await rm(join(dir, 'load', 'knee.json'));
    await writeFile(
      join(dir, 'certification.json'),
      JSON.stringify({ runId: run.id, name: run.name ?? 'reference-stack', verdict: run.verdict }),
    );
  }
  return reports;
}

describe('capacity figures of a recorded run', () => {
  it('reads the knee, each phase p95/p99/error rate (a fault phase p95 and error rate) and leaves out thin p99s', async () => {
    const { figures, missing } = await readCapacityFigures(load, join(RECORDED, HEALTHY));
    const byId = Object.fromEntries(figures.map((f) => [f.id, f.value]));
    expect(byId.knee).toBe(166.667);
    expect(byId['baseline.steady.p95']).toBeCloseTo(22.688, 3);
    expect(byId['baseline.steady.p99']).toBeCloseTo(48.114, 3);
    expect(byId['fault-phase.fault.p95']).toBeCloseTo(3335.488, 3);
    expect(byId['fault-phase.fault.error-rate']).toBeCloseTo(0.686, 3);
    expect(byId['spike.p95']).toBeCloseTo(18.411, 3);
    expect('fault-phase.fault.p99' in byId).toBe(false);
    // 91 requests: a p99 would be the run's slowest request.
    expect(missing).toContainEqual({ id: 'fault-phase.baseline.p99', why: 'only 91 requests (p99 needs 250)' });
  });
});

describe(CAPACITY_REGRESSION_CHECK, () => {
  it('fails a degraded run against the last CERTIFIED run, with both values and the band', async () => {
    const dir = await reportsWith([
      { id: HEALTHY, from: HEALTHY, verdict: 'CERTIFIED' },
      { id: DEGRADED, from: DEGRADED, verdict: 'NOT_CERTIFIED' },
    ]);
    const outcome = await capacityRegressionOutcome(load, 'reference-stack', join(dir, DEGRADED));
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain(`since ${HEALTHY}, the last CERTIFIED run of reference-stack`);
    expect(outcome.message).toContain(
      'knee: 76.667 req/s now, 166.667 req/s in the baseline (band: a drop of at most 25%; limit 125 req/s)',
    );
    expect(outcome.message).toMatch(
      /baseline\.steady\.p95: 498\.946 ms now, 22\.688 ms in the baseline \(band: a rise of at most 100% or 100 ms, whichever is more; limit 122\.688 ms\)/,
    );
    expect(outcome.parameters).toEqual({ baseline: HEALTHY });
  });

  it('passes a healthy run whose figures stay within the band of the baseline', async () => {
    const dir = await reportsWith([
      { id: HEALTHY, from: HEALTHY, verdict: 'CERTIFIED' },
      { id: HEALTHY_LATER, from: HEALTHY_LATER, verdict: 'CERTIFIED' },
    ]);
    const outcome = await capacityRegressionOutcome(load, 'reference-stack', join(dir, HEALTHY_LATER));
    expect(outcome.status).toBe('passed');
    expect(outcome.message).toMatch(/^18 capacity figures within the band of 20261206-081337-0f43/);
    expect(outcome.metrics).toContainEqual({ name: 'baseline.knee', value: 166.667, unit: 'req/s' });
  });

  it('is not applicable, never passed, when no earlier CERTIFIED run of the config exists', async () => {
    const dir = await reportsWith([
      // Not certified, another config, and a later run: none is a baseline.
      { id: '20261206-070000-aaaa', from: HEALTHY, verdict: 'NOT_CERTIFIED' },
      { id: '20261206-071000-bbbb', from: HEALTHY, verdict: 'CERTIFIED', name: 'other' },
      { id: DEGRADED, from: DEGRADED, verdict: 'NOT_CERTIFIED' },
      { id: '20261206-235900-cccc', from: HEALTHY, verdict: 'CERTIFIED' },
    ]);
    const outcome = await capacityRegressionOutcome(load, 'reference-stack', join(dir, DEGRADED));
    expect(outcome).toEqual({
      status: 'not-applicable',
      message: "Not applicable: no earlier CERTIFIED run of reference-stack: this run's figures are the baseline",
    });
  });

  it('names the figures the baseline lacks, and is not applicable when it has none of them', async () => {
    const dir = await reportsWith([
      { id: HEALTHY, from: HEALTHY, verdict: 'CERTIFIED', withoutKnee: true },
      { id: DEGRADED, from: DEGRADED, verdict: 'NOT_CERTIFIED' },
    ]);
    const outcome = await capacityRegressionOutcome(load, 'reference-stack', join(dir, DEGRADED));
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('not in the baseline: knee (no knee.json)');
    const kneeOnly = loadConfigSchema.parse({ ...load, scenarios: [{ id: 'other', ratePerSec: 1, durationSec: 1 }] });
    const none = await capacityRegressionOutcome(kneeOnly, 'reference-stack', join(dir, DEGRADED));
    expect(none.status).toBe('not-applicable');
    expect(none.message).toBe(
      `Not applicable: the baseline run ${HEALTHY} has no figure comparable with this run's: knee (no knee.json)`,
    );
  });

  it('is unknown when this run measured none of the figures', async () => {
    const dir = await reportsWith([{ id: HEALTHY, from: HEALTHY, verdict: 'CERTIFIED' }]);
    await mkdir(join(dir, DEGRADED, 'load'), { recursive: true });
    const outcome = await capacityRegressionOutcome(load, 'reference-stack', join(dir, DEGRADED));
    expect(outcome.status).toBe('unknown');
    expect(outcome.message).toContain('knee (no knee.json); baseline.warmup.p95 (no k6 summary)');
  });

  it('is due in the plan of every configured load stage', () => {
    const planned = planLoadStage({ config: { load } } as unknown as PlanContext);
    expect(planned.map((p) => p.id)).toContain(CAPACITY_REGRESSION_CHECK);
  });
});

describe('the band', () => {
  const band = loadConfigSchema.parse({ ...load }).regression;
  it('defaults to knee -25%, p95/p99 +100% and 100 ms, error rate +0.2', () => {
    expect(band).toEqual({ kneeDrop: 0.25, p95Rise: 1, p99Rise: 1, errorRateRise: 0.2, absoluteFloorMs: 100 });
  });
  it('needs both the ratio and the absolute floor for a latency to regress', () => {
    const p95 = (value: number) => ({ id: 'x.p95', kind: 'p95' as const, value });
    expect(compareFigure(p95(20), p95(119), band).regressed).toBe(false);
    expect(compareFigure(p95(20), p95(121), band).regressed).toBe(true);
    expect(compareFigure(p95(400), p95(799), band).regressed).toBe(false);
    expect(compareFigure(p95(400), p95(801), band).regressed).toBe(true);
  });
  it('rejects a knee drop above 1 naming the key', () => {
    const parsed = loadConfigSchema.safeParse({ ...load, regression: { kneeDrop: 2 } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['regression', 'kneeDrop']);
  });
});

describe('a capacity regression measured on a saturated host (issue 16 point 9)', () => {
  /** The host during the comparison itself: quiet (the k6 runs are over by then). */
  const quiet: HostLoadSampler = { sample: () => ({ loadPerCore: 0.2, cores: 2 }) };
  /** Recorded on this host under `stress-ng --cpu 2` during a load stage: load 1.34-1.78 per core, CPU all busy. */
  const hogged: HostLoad = { cores: 2, maxLoadPerCore: 1.34, busyRatio: 1, samples: 30 };
  const calm: HostLoad = { cores: 2, maxLoadPerCore: 0.6, busyRatio: 0.55, samples: 30 };

  async function judged(measured: HostLoad, byRun?: ReadonlyMap<string, HostLoad>): Promise<CheckResult> {
    const dir = await reportsWith([
      { id: HEALTHY, from: HEALTHY, verdict: 'CERTIFIED' },
      { id: DEGRADED, from: DEGRADED, verdict: 'NOT_CERTIFIED' },
    ]);
    const config = resolveConfig({ name: 'reference-stack', services: { a: { image: 'a:1' } } }, join(dir, 'x.ts'));
    const recorded: CheckResult[] = [];
    const context = recordingContext(config, 'load', join(dir, DEGRADED), recorded, { hostLoad: quiet });
    const windows = byRun ? { byRun, thresholds: config.hostSaturation } : undefined;
    return runCheck(context, capacityRegressionSpec(load.regression, measured), () =>
      capacityRegressionOutcome(load, 'reference-stack', join(dir, DEGRADED), windows),
    );
  }

  it('is failed for the figures measured while the host was calm, though the knee probe saturated it', async () => {
    // The knee probe drives the host to its limit on a small machine; the scenarios ran calm.
    const byRun = new Map([
      ['knee', hogged],
      ...['baseline', 'spike', 'soak-short', 'fault-phase'].map((id): [string, HostLoad] => [id, calm]),
    ]);
    const result = await judged(hogged, byRun);
    expect(result.status, result.message).toBe('failed');
    expect(result.message).toMatch(/regressed beyond the band since .*, measured while the host was calm:\nbaseline\./);
    expect(result.message).toMatch(/measured on a saturated host \(not judged\):\nknee: 76\.667 req\/s now/);
  });

  it('is broken when every regressed figure was measured on a saturated host', async () => {
    const byRun = new Map(
      ['knee', 'baseline', 'spike', 'soak-short', 'fault-phase'].map((id): [string, HostLoad] => [id, hogged]),
    );
    expect((await judged(hogged, byRun)).status).toBe('broken');
  });

  it('is broken (the host’s) when the runs that measured the figures were saturated, though the comparison was quiet', async () => {
    const result = await judged(hogged);
    expect(result.status).toBe('broken');
    expect(result.message).toMatch(/^host saturated during the judgement: CPU 100% busy/);
    expect(result.message).toContain('knee: 76.667 req/s now');
  });

  it('stays failed when the host was calm while the figures were measured', async () => {
    expect((await judged(calm)).status).toBe('failed');
  });

  it('worseHostLoad keeps the higher load, busy and steal share of two windows', () => {
    expect(worseHostLoad(calm, { cores: 2, maxLoadPerCore: 0.1, samples: 1 })).toEqual({
      cores: 2,
      maxLoadPerCore: 0.6,
      busyRatio: 0.55,
      samples: 31,
    });
    expect(worseHostLoad(undefined, hogged)).toBe(hogged);
    expect(worseHostLoad(undefined, undefined)).toBeUndefined();
  });
});
