import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCounterSelector } from '../config/signals.ts';
import type { CounterSelector } from '../config/signals.ts';
import type { FaultWindow } from '../stack/fault-journal.ts';
import { startLoopbackServer } from '../../test/support/loopback-server.ts';
import { CounterSampler } from './counter-sampler.ts';
import { CounterTrack, judgeCounters, readCounters } from './counters.ts';
import type { CounterJudgeInput, CounterScrape } from './counters.ts';
import { combineParts } from './signals-stage.ts';

// Recorded from the reference orders service's GET /metrics (healthy: the limiter only ever used Redis).
const healthy = readFileSync(join(import.meta.dirname, '../../test/fixtures/chaos/orders-metrics.txt'), 'utf8');

// Recorded from orders under FRAGILE=silent-redis-errors (test/fixtures/signals/README.md): right after
// start, after 7 requests to /v1 (each limited in process: Redis answered WRONGTYPE), and after a
// restart of its container and 3 more requests.
const recordedMetrics = (name: string): string =>
  readFileSync(join(import.meta.dirname, `../../test/fixtures/signals/${name}`), 'utf8');
const silentBefore = recordedMetrics('orders-metrics-silent-redis-before.txt');
const silentAfter = recordedMetrics('orders-metrics-silent-redis-after.txt');
const silentRestarted = recordedMetrics('orders-metrics-silent-redis-restarted.txt');

const selector = (text: string): CounterSelector => {
  const parsed = parseCounterSelector(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
};
const MEMORY = selector('rate_limit_decisions_total{backend="memory"}');
const PAYMENT_FAILURES = selector('payments_client_attempts_total{outcome!="success"}');

const scrapeOf = (text: string, atMs: number, selectors: readonly CounterSelector[]): CounterScrape => ({
  ok: true,
  startMs: atMs,
  endMs: atMs + 5,
  readings: readCounters(text, selectors),
});
const failedScrape = (atMs: number, reason: string): CounterScrape => ({
  ok: false,
  startMs: atMs,
  endMs: atMs + 5,
  reason,
});
const input: CounterJudgeInput = {
  service: 'orders',
  stage: 'contract',
  url: 'http://127.0.0.1:32768/metrics',
  faults: [],
  budget: 0,
  evidenceLines: 5,
};
const trackOf = (selectors: readonly CounterSelector[], ...scrapes: CounterScrape[]): CounterTrack => {
  const track = new CounterTrack(selectors);
  for (const s of scrapes) track.add(s);
  return track;
};

describe('readCounters on a recorded exposition', () => {
  it('reads matching series; a declared family with no matching series is none (0), an unknown name is absent', () => {
    const [memory, redis, settled, failures, missing, gauge] = readCounters(healthy, [
      MEMORY,
      selector('rate_limit_decisions_total{backend="redis"}'),
      selector('orders_outbox_settled_total'), // # TYPE line only: nothing settled yet
      PAYMENT_FAILURES,
      selector('rate_limit_fallbacks_total'),
      selector('orders_outbox_pending'),
    ]);
    expect(memory).toEqual({ kind: 'series', values: new Map() });
    expect(redis?.kind === 'series' ? [...redis.values.values()] : redis).toEqual([22]);
    expect(settled).toEqual({ kind: 'series', values: new Map() });
    expect(failures).toEqual({ kind: 'series', values: new Map() });
    expect(missing).toEqual({ kind: 'absent' });
    expect(gauge).toEqual({ kind: 'not-a-counter', type: 'gauge' });
  });

  it("matches != and = like PromQL: a label a series lacks is ''", () => {
    const [all, notPaid, noSuchLabel] = readCounters(healthy, [
      selector('orders_created_total'),
      selector('orders_created_total{status!="paid"}'),
      selector('orders_created_total{region=""}'),
    ]);
    const sizes = [all, notPaid, noSuchLabel].map((r) => (r?.kind === 'series' ? r.values.size : -1));
    expect(sizes).toEqual([1, 0, 1]);
  });
});

describe('judgeCounters', () => {
  it('passes a quiet stage on counters it read at its start and end, and says how many scrapes it judged', () => {
    const track = trackOf([MEMORY], scrapeOf(healthy, 1_000, [MEMORY]), scrapeOf(healthy, 3_000, [MEMORY]));
    const verdict = judgeCounters(track.snapshot(), input);
    expect(verdict.status).toBe('passed');
    expect(verdict.total).toBe(0);
    expect(verdict.increases).toEqual([{ selector: MEMORY.text, increase: 0 }]);
    expect(verdict.message).toContain('0 dependency errors (budget 0)');
    expect(verdict.message).toContain('2 scrapes of http://127.0.0.1:32768/metrics (0 failed), 1 interval judged');
  });

  it('is unknown, never passed, when the endpoint could not be read at the start or end, or a counter is not exposed', () => {
    const refused = 'GET http://127.0.0.1:32768/metrics: fetch failed (ECONNREFUSED)';
    const noStart = trackOf([MEMORY], failedScrape(1_000, refused), scrapeOf(healthy, 3_000, [MEMORY]));
    expect(judgeCounters(noStart.snapshot(), input)).toMatchObject({ status: 'unknown', judgedIntervals: 0 });
    expect(judgeCounters(noStart.snapshot(), input).message).toContain(`start of contract failed (${refused})`);
    const noEnd = trackOf([MEMORY], scrapeOf(healthy, 1_000, [MEMORY]), failedScrape(3_000, refused));
    expect(judgeCounters(noEnd.snapshot(), input).message).toContain(`end of contract failed (${refused})`);
    const typo = selector('rate_limit_decision_total{backend="memory"}');
    const absent = trackOf([typo], scrapeOf(healthy, 1_000, [typo]), scrapeOf(healthy, 3_000, [typo]));
    const verdict = judgeCounters(absent.snapshot(), input);
    expect(verdict.status).toBe('unknown');
    expect(verdict.message).toContain('rate_limit_decision_total is not exposed at all');
  });

  it('bridges a failed scrape in the middle: the counters are cumulative', () => {
    const track = trackOf(
      [MEMORY],
      scrapeOf(healthy, 1_000, [MEMORY]),
      failedScrape(3_000, 'GET …: no answer within 2000ms'),
      scrapeOf(healthy, 5_000, [MEMORY]),
    );
    const verdict = judgeCounters(track.snapshot(), input);
    expect(verdict.status).toBe('passed');
    expect(track.snapshot().intervals.map((i) => [i.fromMs, i.toMs])).toEqual([[1_000, 5_005]]);
    expect(verdict.message).toContain('3 scrapes of http://127.0.0.1:32768/metrics (1 failed)');
  });

  it('judges an interval that overlaps a fault window when no counter moved in it: its quiet part was quiet too', () => {
    const track = trackOf(
      [MEMORY],
      scrapeOf(healthy, 1_000, [MEMORY]),
      scrapeOf(healthy, 3_000, [MEMORY]),
      scrapeOf(healthy, 5_000, [MEMORY]),
    );
    const fault = (startMs: number, endMs: number | null): FaultWindow => ({
      target: 'redis',
      startMs,
      faultEndMs: endMs,
      endMs,
      detail: 'proxy disabled',
    });
    const whole = judgeCounters(track.snapshot(), { ...input, faults: [fault(2_000, null)] });
    expect([whole.status, whole.judgedIntervals, whole.excludedIntervals]).toEqual(['passed', 2, 0]);
  });

  it('stays bounded on a long stage: neighbouring intervals merge, their increases summed', () => {
    const track = new CounterTrack([MEMORY], 8);
    for (let i = 0; i < 100; i += 1) track.add(scrapeOf(healthy, i * 2_000, [MEMORY]));
    const { intervals, scrapes } = track.snapshot();
    expect(intervals.length).toBeLessThanOrEqual(8);
    expect(track.merges).toBeGreaterThan(0);
    expect(scrapes).toBe(100);
    expect([intervals[0]?.fromMs, intervals.at(-1)?.toMs]).toEqual([0, 99 * 2_000 + 5]);
  });
});

describe('judgeCounters on the planted silent-redis-errors defect', () => {
  const selectors = [MEMORY, PAYMENT_FAILURES];
  const fault = (startMs: number, endMs: number | null): FaultWindow => ({
    target: 'redis',
    startMs,
    faultEndMs: endMs,
    endMs,
    detail: 'proxy disabled',
  });

  it('fails on the in-process decisions counted while every answer was a success, with the interval as evidence', () => {
    const track = trackOf(selectors, scrapeOf(silentBefore, 1_000, selectors), scrapeOf(silentAfter, 3_000, selectors));
    const verdict = judgeCounters(track.snapshot(), input);
    expect(verdict.status).toBe('failed');
    expect(verdict.increases).toEqual([
      { selector: MEMORY.text, increase: 7 },
      { selector: PAYMENT_FAILURES.text, increase: 0 },
    ]);
    expect(verdict.message).toContain("orders's dependency error counters rose over budget in contract");
    expect(verdict.evidence).toEqual([
      '1970-01-01T00:00:01.000Z .. 1970-01-01T00:00:03.005Z rate_limit_decisions_total{backend="memory"} +7',
    ]);
    expect(judgeCounters(track.snapshot(), { ...input, budget: 7 }).status).toBe('passed');
  });

  it('counts a restarted process from zero and says so', () => {
    const track = trackOf(
      selectors,
      scrapeOf(silentBefore, 1_000, selectors),
      scrapeOf(silentAfter, 3_000, selectors),
      scrapeOf(silentRestarted, 5_000, selectors),
    );
    const verdict = judgeCounters(track.snapshot(), input);
    expect(verdict.total).toBe(7 + 3);
    expect(verdict.evidence[1]).toBe(
      '1970-01-01T00:00:03.000Z .. 1970-01-01T00:00:05.005Z rate_limit_decisions_total{backend="memory"} +3 (went down: the process restarted; its new value counted from zero)',
    );
    expect(verdict.message).toContain('1 with a counter that went down (restart: counted from zero)');
  });

  it('leaves out an interval that rose while a fault was on; with none left to judge it is unknown', () => {
    const track = trackOf(
      selectors,
      scrapeOf(silentBefore, 1_000, selectors),
      scrapeOf(silentAfter, 3_000, selectors),
      scrapeOf(silentRestarted, 5_000, selectors),
    );
    const partly = judgeCounters(track.snapshot(), { ...input, faults: [fault(2_000, 2_500)] });
    expect([partly.total, partly.judgedIntervals, partly.excludedIntervals]).toEqual([3, 1, 1]);
    const whole = judgeCounters(track.snapshot(), { ...input, faults: [fault(2_000, null)] });
    expect(whole.status).toBe('unknown');
    expect(whole.message).toContain('a counter moved in every interval between scrapes, and each overlapped a fault');
    expect(whole.message).toContain(
      '2 left out as faulted (rose in them: rate_limit_decisions_total{backend="memory"} +10)',
    );
  });
});

describe('combineParts', () => {
  const part = (status: 'passed' | 'failed' | 'unknown', message: string) => ({
    status,
    message,
    metrics: [],
    evidence: [],
  });

  it('fails on any failed part, is unknown on any unread part otherwise, and leads with the deciding part', () => {
    expect(combineParts([part('passed', 'log ok'), part('failed', 'counters rose')])).toEqual({
      status: 'failed',
      message: 'counters rose. log ok',
    });
    expect(combineParts([part('unknown', 'log lost'), part('failed', 'counters rose')]).status).toBe('failed');
    expect(combineParts([part('passed', 'log ok'), part('unknown', 'counters unread')])).toEqual({
      status: 'unknown',
      message: 'counters unread. log ok',
    });
    expect(combineParts([part('passed', 'log ok'), part('passed', 'counters ok')]).status).toBe('passed');
  });
});

describe('CounterSampler', () => {
  it('scrapes a recorded endpoint at start and stop: the increase between them fails the budget', async () => {
    let answers = 0;
    const server = await startLoopbackServer((_req, res) => {
      answers += 1;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(answers === 1 ? silentBefore : silentAfter);
    });
    const sampler = new CounterSampler({
      url: () => `${server.baseUrl}/metrics`,
      selectors: [MEMORY],
      intervalMs: 60_000,
      maxDurationMs: 60_000,
    });
    try {
      await sampler.start();
      const record = (await sampler.stop()).snapshot();
      expect([record.scrapes, record.startRead, record.endRead]).toEqual([2, true, true]);
      const verdict = judgeCounters(record, { ...input, url: `${server.baseUrl}/metrics` });
      expect([verdict.status, verdict.total]).toEqual(['failed', 7]);
    } finally {
      await server.close();
    }
  });

  it('scrapes at start and at stop through HTTP, and records an endpoint that stopped answering', async () => {
    let answers = 0;
    const server = await startLoopbackServer((_req, res) => {
      answers += 1;
      res.writeHead(answers > 1 ? 503 : 200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(answers > 1 ? 'unavailable' : healthy);
    });
    const sampler = new CounterSampler({
      url: () => `${server.baseUrl}/metrics`,
      selectors: [MEMORY],
      intervalMs: 60_000,
      maxDurationMs: 60_000,
    });
    try {
      await sampler.start();
      const record = (await sampler.stop()).snapshot();
      expect([record.scrapes, record.startRead, record.endRead]).toEqual([2, true, false]);
      expect(record.lastFailure).toBe(`GET ${server.baseUrl}/metrics answered 503`);
      expect(judgeCounters(record, input).status).toBe('unknown');
    } finally {
      await server.close();
    }
  });

  it('records an endpoint it cannot resolve (a service the stack does not have) as failed scrapes, so unknown', async () => {
    const sampler = new CounterSampler({
      url: () => {
        throw new Error('Stack "shop" has no service "orders" (known: api)');
      },
      selectors: [MEMORY],
      intervalMs: 60_000,
      maxDurationMs: 60_000,
    });
    await sampler.start();
    const record = (await sampler.stop()).snapshot();
    expect([record.scrapes, record.failedScrapes]).toEqual([2, 2]);
    const verdict = judgeCounters(record, input);
    expect(verdict.status).toBe('unknown');
    expect(verdict.message).toContain('start of contract failed (Stack "shop" has no service "orders" (known: api))');
  });
});
