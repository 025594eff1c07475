import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readK6Summary } from './k6-summary.ts';
import { thresholdCheckId } from './scenario-judge.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/load');

describe('parseK6Summary on recorded k6 v1.8.1 --summary-export files', () => {
  it('reads per-phase thresholds of a healthy fault-phase run (phase-windowed SLOs)', async () => {
    const summary = await readK6Summary(join(FIXTURES, 'fault-phase.summary.json'));
    const fault = summary.thresholds.find((t) => t.selector === 'http_req_duration{phase:fault}');
    expect(fault).toMatchObject({ metric: 'http_req_duration', tags: { phase: 'fault' }, aggregation: 'p(95)' });
    expect(fault?.observed).toBeGreaterThan(1000);
    // k6 writes `true` for a crossed threshold: the errors of the recorded fault phase crossed rate<0.2.
    const errors = summary.thresholds.find((t) => t.selector === 'http_req_failed{phase:fault}');
    expect(errors).toMatchObject({ expression: 'rate<0.2', passed: false });
    expect(errors?.observed).toBeCloseTo(0.762, 3);
    const baseline = summary.thresholds.filter((t) => t.tags.phase === 'baseline');
    expect(baseline.length).toBeGreaterThan(0);
    expect(baseline.filter((t) => t.metric !== 'http_reqs').every((t) => t.passed)).toBe(true);
    expect(summary.metrics['http_reqs{phase:fault}']?.count).toBe(181);
  });

  it('sees the fault-phase p95 crossed with FRAGILE=no-timeout', async () => {
    const summary = await readK6Summary(join(FIXTURES, 'fault-phase-no-timeout.summary.json'));
    const p95 = summary.thresholds.find(
      (t) => t.selector === 'http_req_duration{phase:fault}' && t.aggregation === 'p(95)',
    );
    expect(p95?.passed).toBe(false);
    expect(p95?.observed).toBeGreaterThan(2500);
    expect(summary.thresholds.filter((t) => t.tags.phase === 'recovery').every((t) => t.passed)).toBe(true);
  });

  it('keeps per-endpoint sub-metrics and names checks after scenario, metric, tags and aggregation', async () => {
    const summary = await readK6Summary(join(FIXTURES, 'baseline.summary.json'));
    const list = summary.thresholds.find((t) => t.selector === 'http_req_duration{name:list}');
    expect(list).toMatchObject({ expression: 'p(95)<200', passed: true });
    expect(thresholdCheckId('baseline', list ?? expect.fail('no list threshold'))).toBe(
      'load.baseline.http_req_duration.name-list.p95',
    );
    const checks = summary.thresholds.find((t) => t.metric === 'checks');
    expect(checks && thresholdCheckId('baseline', checks)).toBe('load.baseline.checks.rate-min');
  });
});
