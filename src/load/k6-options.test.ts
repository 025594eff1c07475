import { describe, expect, it } from 'vitest';
import { loadConfigSchema } from '../config/stages/load.ts';
import { buildK6Options, isAbortOnFail, phaseWindows, withAbortOnFail } from './k6-options.ts';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { K6RunOptions } from './k6-options.ts';
import { readK6Summary } from './k6-summary.ts';
import { generatorProblemsOf, scenarioRunOptions } from './load-stage.ts';

const config = loadConfigSchema.parse({
  script: 'mix.js',
  target: { service: 'api', port: 8080 },
  slo: { p95Ms: 200, p99Ms: 500, maxErrorRate: 0.01 },
  scenarios: [
    { id: 'baseline', ratePerSec: 40, durationSec: 15, thresholds: { 'http_req_duration{name:list}': ['p(95)<200'] } },
    {
      id: 'fault-phase',
      ratePerSec: 15,
      fault: { kind: 'latency', link: 'postgres', latencyMs: 400 },
      phases: [
        { name: 'baseline', durationSec: 6 },
        { name: 'fault', durationSec: 12, fault: true, slo: { p95Ms: 2500 } },
        { name: 'recovery', durationSec: 6 },
      ],
    },
  ],
});

describe('buildK6Options', () => {
  it('turns the SLO into thresholds on the scenario sub-metrics, plus extra ones as given', () => {
    const options = buildK6Options(config, config.scenarios[0] ?? expect.fail());
    expect(options.scenarios.baseline).toMatchObject({ executor: 'constant-arrival-rate', rate: 40, duration: '15s' });
    // The always-true ones only make k6 export the sub-metrics for the report; they are no checks.
    expect(options.thresholds).toEqual({
      'http_reqs{scenario:baseline}': ['count>=0'],
      'http_req_duration{scenario:baseline}': ['max>=0', 'p(95)<200', 'p(99)<500'],
      'http_req_failed{scenario:baseline}': ['rate>=0', 'rate<0.01'],
      'checks{scenario:baseline}': ['rate>=0'],
      'http_req_duration{name:list}': ['p(95)<200'],
    });
  });

  it('runs phases back to back, tagged by phase, each with its own SLO', () => {
    const scenario = config.scenarios[1] ?? expect.fail();
    const options = buildK6Options(config, scenario);
    expect(Object.keys(options.scenarios)).toEqual(['baseline', 'fault', 'recovery']);
    expect(options.scenarios.fault).toMatchObject({ startTime: '6s', duration: '12s', tags: { phase: 'fault' } });
    expect(options.scenarios.recovery).toMatchObject({ startTime: '18s' });
    // The fault phase's SLO replaces the scenario's: latency bound only.
    expect(options.thresholds['http_req_duration{phase:fault}']).toEqual(['max>=0', 'p(95)<2500']);
    expect(options.thresholds['http_req_failed{phase:fault}']).toEqual(['rate>=0']);
    expect(options.thresholds['http_req_failed{phase:recovery}']).toEqual(['rate>=0', 'rate<0.01']);
    expect(phaseWindows(scenario).map((w) => [w.name, w.startSec, w.fault])).toEqual([
      ['baseline', 0, false],
      ['fault', 6, true],
      ['recovery', 18, false],
    ]);
  });
});

describe('abortOnFail under --fail-fast', () => {
  const abort = { threshold: 'p(95)<200', abortOnFail: true, delayAbortEval: '10s' };

  it('turns the chosen thresholds into aborting objects, never an export-only one, without changing the options', () => {
    const options = buildK6Options(config, config.scenarios[0] ?? expect.fail());
    const run = withAbortOnFail(
      options,
      (selector, expression) => expression.startsWith('p(95)') || selector.startsWith('http_reqs'),
    );
    expect(run.thresholds).toEqual({
      'http_reqs{scenario:baseline}': ['count>=0'],
      'http_req_duration{scenario:baseline}': ['max>=0', abort, 'p(99)<500'],
      'http_req_failed{scenario:baseline}': ['rate>=0', 'rate<0.01'],
      'checks{scenario:baseline}': ['rate>=0'],
      'http_req_duration{name:list}': [abort],
    });
    expect(options.thresholds['http_req_duration{name:list}']).toEqual(['p(95)<200']);
    expect(isAbortOnFail(run, 'http_req_duration{name:list}', 'p(95)<200')).toBe(true);
    expect(isAbortOnFail(run, 'http_req_duration{scenario:baseline}', 'p(99)<500')).toBe(false);
  });

  it('aborts on the thresholds whose checks are critical (by severity or by id), and only with --fail-fast', () => {
    const critical = loadConfigSchema.parse({
      ...config,
      scenarios: [
        { id: 'gate', ratePerSec: 5, durationSec: 5, severity: 'critical' },
        { id: 'soft', ratePerSec: 5, durationSec: 5, severity: 'normal' },
      ],
    });
    const [gate, soft] = critical.scenarios;
    if (!gate || !soft) throw new Error('two scenarios');
    const failFast = {
      isCritical: (c: { id: string; severity: string }) =>
        c.severity === 'critical' || c.id === 'load.soft.http_req_failed.rate',
    };
    const gateRun = scenarioRunOptions(critical, gate, failFast);
    expect(gateRun.thresholds['http_req_duration{scenario:gate}']).toEqual([
      'max>=0',
      { threshold: 'p(95)<200', abortOnFail: true, delayAbortEval: '10s' },
      { threshold: 'p(99)<500', abortOnFail: true, delayAbortEval: '10s' },
    ]);
    const softRun = scenarioRunOptions(critical, soft, failFast);
    expect(softRun.thresholds['http_req_duration{scenario:soft}']).toEqual(['max>=0', 'p(95)<200', 'p(99)<500']);
    expect(softRun.thresholds['http_req_failed{scenario:soft}']).toEqual([
      'rate>=0',
      { threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: '10s' },
    ]);
    expect(scenarioRunOptions(critical, gate, undefined)).toEqual(buildK6Options(critical, gate));
  });
});

describe('a k6 run aborted by a threshold (recorded: k6 v1.8.1, 40 s at 20/s planned, p(95)<10 on a 50 ms server)', () => {
  const FIXTURES = join(import.meta.dirname, '../../test/fixtures/load');

  it('k6 ran the object form, exited 99 early, and the summary marks the aborting threshold failed: failed, not broken', async () => {
    const runOptions = JSON.parse(
      await readFile(join(FIXTURES, 'abort-on-fail.k6-options.json'), 'utf8'),
    ) as K6RunOptions;
    const summary = await readK6Summary(join(FIXTURES, 'abort-on-fail.summary.json'));
    const crossed = summary.thresholds.filter((t) => !t.passed);
    expect(crossed.map((t) => [t.selector, t.expression])).toEqual([['http_req_duration{scenario:gate}', 'p(95)<10']]);
    // Cut short: far fewer requests than the 800 planned, which alone would read as a generator problem.
    expect(summary.metrics['http_reqs']?.count).toBeLessThan(400);
    const generator = ['k6 completed 200 of 800 planned iterations'];
    const [p95] = crossed;
    if (!p95) throw new Error('no crossed threshold');
    expect(generatorProblemsOf({ ...p95, outcome: { status: 'failed' } }, runOptions, true, generator)).toEqual([]);
    // A threshold that does not abort, judged on the cut-short load, stays voided by the generator problem.
    const errors = summary.thresholds.find((t) => t.expression === 'rate<0.01');
    if (!errors) throw new Error('no error-rate threshold');
    expect(generatorProblemsOf({ ...errors, outcome: { status: 'passed' } }, runOptions, true, generator)).toEqual(
      generator,
    );
  });
});
