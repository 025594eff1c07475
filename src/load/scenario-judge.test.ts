import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigSchema } from '../config/stages/load.ts';
import type { LoadConfig, LoadScenario } from '../config/stages/load.ts';
import { RECORDED } from '../../test/fixtures/load/record/record-k6.ts';
import { buildK6Options } from './k6-options.ts';
import { readMetricSamples } from './k6-samples.ts';
import type { MetricSample } from './k6-samples.ts';
import { readK6Summary } from './k6-summary.ts';
import type { K6Summary } from './k6-summary.ts';
import {
  executorLoads,
  generatorProblems,
  sampledMetrics,
  thresholdChecks,
  unlessGenerator,
} from './scenario-judge.ts';
import type { ThresholdCheck } from './scenario-judge.ts';
import { thresholdCheckSpec } from './load-stage.ts';
import { resolveConfig } from '../config/load-config.ts';
import type { CheckResult } from '../core/check-result.ts';
import type { HostLoad, HostLoadSampler } from '../runner/host-load.ts';
import { runCheck } from '../runner/suite.ts';
import { recordingContext } from '../../test/support/stage.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/load');

/** A fixture recorded by test/fixtures/load/record/record-k6.ts: its config, k6's summary and its samples. */
async function recorded(name: keyof typeof RECORDED): Promise<{
  load: LoadConfig;
  scenario: LoadScenario;
  summary: K6Summary;
  samples: MetricSample[];
}> {
  const load = loadConfigSchema.parse(RECORDED[name]);
  const scenario = load.scenarios[0] ?? expect.fail('no scenario');
  const summary = await readK6Summary(join(FIXTURES, `${name}.summary.json`));
  const samples = await readMetricSamples(
    join(FIXTURES, `${name}.samples.ndjson`),
    sampledMetrics(buildK6Options(load, scenario)),
  );
  return { load, scenario, summary, samples };
}

/** The scenario's threshold checks as the stage records them (generator's health applied). */
function judged(
  load: LoadConfig,
  scenario: LoadScenario,
  summary: K6Summary,
  samples: readonly MetricSample[],
): (ThresholdCheck & { final: ReturnType<typeof unlessGenerator> })[] {
  const problems = generatorProblems(executorLoads(buildK6Options(load, scenario), samples), load, scenario);
  return thresholdChecks(load, scenario, summary, samples).map((c) => ({
    ...c,
    final: unlessGenerator(c.outcome, problems, scenario.id),
  }));
}

const metric = (check: { final: { metrics?: readonly { name: string; value: number }[] } }, name: string): number =>
  check.final.metrics?.find((m) => m.name === name)?.value ?? Number.NaN;

describe('threshold checks need samples (recorded k6 run, phases warmup/steady, name-tagged requests)', () => {
  it('k6 passes thresholds on a typo tag value and on a thin selector; the checks are unknown with the count', async () => {
    const { load, scenario, summary, samples } = await recorded('tagged');
    // What k6 itself said: every threshold held, the typo one with p(95)=0 on no request.
    const lst = summary.thresholds.find((t) => t.selector === 'http_req_duration{phase:steady,name:lst}');
    expect(lst).toMatchObject({ passed: true, observed: 0 });
    const checks = judged(load, scenario, summary, samples);
    const bySelector = (selector: string): (typeof checks)[number] =>
      checks.find((c) => c.selector === selector) ?? expect.fail(`no check on ${selector}`);
    const typo = bySelector('http_req_duration{phase:steady,name:lst}');
    expect(typo.final.status).toBe('unknown');
    expect(typo.final.message).toMatch(/no sample of http_req_duration matched .*name:lst/);
    expect(metric(typo, 'samples')).toBe(0);
    const rare = bySelector('http_req_duration{phase:steady,name:rare}');
    expect(rare.final.status).toBe('unknown');
    expect(rare.final.message).toMatch(/only 12 samples of http_req_duration .* fewer than load\.minSamples \(50\)/);
    expect(metric(rare, 'samples')).toBe(12);
    // Enough samples: k6's verdict stands.
    expect(bySelector('http_req_duration{phase:steady,name:list}').final.status).toBe('passed');
    expect(bySelector('http_req_failed{phase:steady}').final.status).toBe('passed');
  });

  it('the sample floor is configurable', async () => {
    const { load, scenario, summary, samples } = await recorded('tagged');
    const checks = judged({ ...load, minSamples: 10 }, scenario, summary, samples);
    expect(checks.find((c) => c.selector === 'http_req_duration{phase:steady,name:rare}')?.final.status).toBe('passed');
    expect(checks.find((c) => c.selector === 'http_req_duration{phase:steady,name:lst}')?.final.status).toBe('unknown');
  });

  it("a per-tag check reports its own requests' figures (k6's p95 of the selector), not the phase's", async () => {
    const { load, scenario, summary, samples } = await recorded('tagged');
    const list = judged(load, scenario, summary, samples).find(
      (c) => c.selector === 'http_req_duration{phase:steady,name:list}',
    );
    const own = summary.metrics['http_req_duration{phase:steady,name:list}']?.['p(95)'] ?? Number.NaN;
    const phase = summary.metrics['http_req_duration{phase:steady}']?.['p(95)'] ?? Number.NaN;
    expect(own).not.toBeCloseTo(phase, 1);
    expect(list && metric(list, 'p95_ms')).toBeCloseTo(own, 3);
    expect(list && metric(list, 'requests')).toBe(60);
    expect(list && metric(list, 'rps')).toBeCloseTo(60 / 8, 3);
    expect(list && metric(list, 'error_rate')).toBe(0);
    const steady = judged(load, scenario, summary, samples).find(
      (c) => c.selector === 'http_req_duration{phase:steady}',
    );
    expect(steady && metric(steady, 'p95_ms')).toBeCloseTo(phase, 3);
    expect(steady && metric(steady, 'requests')).toBe(201);
  });
});

describe('a saturated generator is neither the system fault nor its merit (recorded k6 runs)', () => {
  it('a run that held its rate has no generator problem', async () => {
    const { load, scenario, samples } = await recorded('tagged');
    const loads = executorLoads(buildK6Options(load, scenario), samples);
    expect(loads).toEqual([
      { executor: 'warmup', seconds: 2, planned: 50, completed: 51, dropped: 0 },
      { executor: 'steady', seconds: 8, planned: 200, completed: 201, dropped: 0 },
    ]);
    expect(generatorProblems(loads, load, scenario)).toEqual([]);
  });

  it('dropped iterations above load.maxDroppedRatio make every check broken, even those k6 passed', async () => {
    const { load, scenario, summary, samples } = await recorded('dropped');
    expect(summary.metrics.dropped_iterations?.count).toBe(54);
    expect(summary.thresholds.filter((t) => !t.passed)).toEqual([]);
    const checks = judged(load, scenario, summary, samples);
    expect(checks.length).toBeGreaterThan(0);
    for (const check of checks) {
      expect(check.final.status).toBe('broken');
      expect(check.final.message).toMatch(
        /k6 dropped 54 of 80 planned iterations \(67\.5%, limit 1%\) of spike at 20\/s: it ran out of VUs \(preAllocatedVUs 1, maxVUs 3\)/,
      );
    }
  });

  it('a run that completed far fewer iterations than planned (none dropped) is broken, not passed', async () => {
    const { load, scenario, summary, samples } = await recorded('cut-off');
    expect(summary.metrics.dropped_iterations).toBeUndefined();
    expect(summary.thresholds.filter((t) => !t.passed)).toEqual([]);
    const checks = judged({ ...load, minSamples: 5 }, scenario, summary, samples);
    expect(checks.length).toBeGreaterThan(0);
    for (const check of checks) {
      expect(check.final.status).toBe('broken');
      expect(check.final.message).toMatch(
        /k6 completed 11 of 30 planned iterations \(36\.667%, at least 90% needed; 0 dropped\) of hang: it did not hold 10\/s/,
      );
    }
  });

  it('the limits are configurable', async () => {
    const { load, scenario, samples } = await recorded('dropped');
    const loads = executorLoads(buildK6Options(load, scenario), samples);
    expect(generatorProblems(loads, { maxDroppedRatio: 0.7, minReachedRatio: 0.3 }, scenario)).toEqual([]);
  });

  it('plans a ramp as the area under it', () => {
    const load = loadConfigSchema.parse({
      script: 'x.js',
      target: { service: 'x', port: 1 },
      scenarios: [
        {
          id: 'spike',
          startRatePerSec: 20,
          stages: [
            { target: 100, durationSec: 3 },
            { target: 100, durationSec: 4 },
            { target: 20, durationSec: 3 },
          ],
        },
      ],
    });
    const scenario = load.scenarios[0] ?? expect.fail('no scenario');
    expect(executorLoads(buildK6Options(load, scenario), [])).toEqual([
      { executor: 'spike', seconds: 10, planned: 760, completed: 0, dropped: 0 },
    ]);
  });
});

describe('threshold checks that judge timing (recorded k6 run "tagged")', () => {
  it('a latency threshold judges timing; an error-rate threshold does not', async () => {
    const { load, scenario, summary, samples } = await recorded('tagged');
    const timing = Object.fromEntries(
      thresholdChecks(load, scenario, summary, samples).map((c) => [c.selector, c.judgesTiming]),
    );
    expect(timing).toMatchObject({
      'http_req_duration{phase:steady,name:list}': true,
      'http_req_failed{phase:steady}': false,
    });
  });
});

describe('a threshold on time, judged over the host load of its own k6 run (issue 16 point 9)', () => {
  /** The host while the summary is judged: quiet, the k6 run being over by then. */
  const quiet: HostLoadSampler = { sample: () => ({ loadPerCore: 0.2, cores: 2 }) };
  /** Recorded on this host under `stress-ng --cpu 2` during a load stage: load 1.34-1.78 per core, CPU all busy. */
  const hogged: HostLoad = { cores: 2, maxLoadPerCore: 1.34, busyRatio: 1, samples: 6 };
  const calm: HostLoad = { cores: 2, maxLoadPerCore: 0.6, busyRatio: 0.55, samples: 6 };

  /** The recorded list p95 threshold of "tagged" (or its error-rate one), as the stage records it, made to fail. */
  async function recordFailed(selector: string, runLoad: HostLoad | undefined): Promise<CheckResult> {
    const { load, scenario, summary, samples } = await recorded('tagged');
    const check = thresholdChecks(load, scenario, summary, samples).find((c) => c.selector === selector);
    if (!check) return expect.fail(`no check on ${selector}`);
    const config = resolveConfig({ name: 'unit', services: { a: { image: 'a:1' } } }, '/tmp/unit/x.ts');
    const context = recordingContext(config, 'load', '/tmp/unit/run', [], { hostLoad: quiet });
    return runCheck(context, thresholdCheckSpec(scenario, check, runLoad), () =>
      Promise.resolve({ ...check.outcome, status: 'failed' as const, message: `${check.expression} failed` }),
    );
  }

  it('is broken (the host’s) when the host was saturated during the run, though it is quiet at the judgement', async () => {
    const result = await recordFailed('http_req_duration{phase:steady,name:list}', hogged);
    expect(result.status).toBe('broken');
    expect(result.message).toMatch(/^host saturated during the judgement: CPU 100% busy/);
  });

  it('stays failed when the run was calm, and an error-rate threshold stays failed even on a saturated run', async () => {
    expect((await recordFailed('http_req_duration{phase:steady,name:list}', calm)).status).toBe('failed');
    expect((await recordFailed('http_req_failed{phase:steady}', hogged)).status).toBe('failed');
  });
});
