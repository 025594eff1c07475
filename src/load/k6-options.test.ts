import { describe, expect, it } from 'vitest';
import { loadConfigSchema } from '../config/stages/load.ts';
import { buildK6Options, phaseWindows } from './k6-options.ts';

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
