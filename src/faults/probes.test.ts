import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.ts';
import { metricValue, parsePrometheus } from '../runner/prometheus.ts';
import type { ChaosApi, Probe } from './experiment.ts';
import { MissingBaselineError, judgeHttp, metricKey, readMetricBaselines, runProbe, slug } from './probes.ts';
import type { HttpOutcome } from '../runner/http.ts';

const answer = (status: number, latencyMs: number, json?: unknown, error?: string): HttpOutcome => ({
  status,
  latencyMs,
  body: json === undefined ? '' : JSON.stringify(json),
  json,
  headers: {},
  setCookies: [],
  ...(error ? { error } : {}),
});

describe('HTTP expectations', () => {
  it('passes on the expected status, latency and JSON fields', () => {
    const ready = answer(200, 12, { status: 'ready', checks: { redis: 'degraded' } });
    expect(judgeHttp({ status: 200, maxLatencyMs: 100, json: { 'checks.redis': 'degraded' } }, ready).ok).toBe(true);
    expect(judgeHttp({ json: { status: { oneOf: ['ready', 'degraded'] } } }, ready).ok).toBe(true);
  });

  it('says what was wrong', () => {
    expect(judgeHttp({ status: 503, maxLatencyMs: 1000 }, answer(200, 2500)).detail).toBe(
      '200 in 2500ms: status 200, expected 503; took 2500ms > 1000ms',
    );
    expect(judgeHttp({ status: 'any' }, answer(0, 3000, undefined, 'no answer within 3000ms'))).toEqual({
      ok: false,
      detail: 'no answer (no answer within 3000ms) after 3000ms: status none, expected "any"',
    });
    expect(judgeHttp({ minLatencyMs: 400 }, answer(200, 20)).ok).toBe(false);
  });

  it('makes check-id-safe slugs', () => {
    expect(slug('Every request answers within 2 s (503 is fine)')).toBe('every-request-answers-within-2-s-503-is-fine');
  });
});

// Recorded GET /metrics of the reference orders service.
const METRICS = parsePrometheus(
  readFileSync(join(import.meta.dirname, '../../test/fixtures/chaos/orders-metrics.txt'), 'utf8'),
);

/** Metric reads answered from the recorded page, or failing like an unreachable endpoint. */
const readMetric =
  (failing: boolean) =>
  (name: string, labels?: Readonly<Record<string, string>>): Promise<number | undefined> =>
    failing
      ? Promise.reject(new Error('GET /metrics -> ECONNREFUSED'))
      : Promise.resolve(metricValue(METRICS, name, labels));

const apiReading = (failing: boolean): ChaosApi => ({
  seed: 1,
  random: () => 0.5,
  uuid: () => '00000000-0000-4000-8000-000000000000',
  request: () => Promise.reject(new Error('no HTTP in this test')),
  metric: readMetric(failing),
  fault: { redraw: () => Promise.resolve(), suspend: () => Promise.resolve() },
  clock: systemClock,
  signal: new AbortController().signal,
  log: () => undefined,
});

const rise = (metric: string, labels?: Record<string, string>): Extract<Probe, { kind: 'metric' }> => ({
  kind: 'metric',
  name: `${metric} rises`,
  metric,
  ...(labels ? { labels } : {}),
  expect: { op: '>=', value: 1, sinceFault: true },
});

describe('metric baselines at injection', () => {
  const created = rise('orders_created_total', { status: 'paid' });
  const failedPayments = rise('payments_client_attempts_total', { outcome: 'failure' });

  it('reads each sinceFault series; one not exported yet counts from 0', async () => {
    const baselines = await readMetricBaselines([created, failedPayments], readMetric(false));
    expect(baselines.problems).toEqual([]);
    expect([...baselines.values.values()]).toEqual([2, 0]);
    expect(baselines.lines[1]).toContain('not exported yet, counted from 0');
  });

  it('a read that fails is a problem, never a baseline of 0', async () => {
    const baselines = await readMetricBaselines([created], readMetric(true));
    expect(baselines.values.size).toBe(0);
    expect(baselines.problems).toEqual(['orders_created_total{"status":"paid"}: GET /metrics -> ECONNREFUSED']);
  });

  it('a sinceFault probe without a baseline throws (broken) instead of judging the value from 0', async () => {
    await expect(runProbe(created, apiReading(false), new Map())).rejects.toThrow(MissingBaselineError);
    const judged = await runProbe(created, apiReading(false), new Map([[metricKey(created), 1]]));
    expect(judged).toEqual({
      ok: true,
      detail: 'orders_created_total{"status":"paid"} rose by 1 since the fault (expected >= 1)',
    });
  });
});

describe('judgeHttp: whether a failure rests on the time bound', () => {
  const expect200Fast = { status: 200, maxLatencyMs: 200 } as const;
  it('a slow answer, or none, may be the host’s; a wrong answer on time is the system’s', () => {
    expect(judgeHttp(expect200Fast, answer(200, 450)).timing).toBeUndefined();
    expect(judgeHttp(expect200Fast, answer(0, 3000, undefined, 'timeout')).timing).toBeUndefined();
    expect(judgeHttp(expect200Fast, answer(503, 20))).toMatchObject({ ok: false, timing: false });
  });
});
