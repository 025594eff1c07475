import { describe, expect, it } from 'vitest';
import { judgeZeroDowntime } from './rolling-judge.ts';
import { summarizeLoad } from './steady-load.ts';
import type { LoadSample } from './steady-load.ts';

const sample = (atMs: number, ok: boolean): LoadSample => ({
  atMs,
  label: 'GET /v1/products',
  ok,
  status: ok ? 200 : 502,
  latencyMs: 3,
});

const base = {
  via: 'lb',
  replicas: 2,
  restarted: ['orders', 'orders-b'],
  problems: [],
  writes: 0,
  writeFailures: 0,
  lost: [],
  maxFailedRequests: 0,
};

describe('judgeZeroDowntime', () => {
  it('passes when every replica restarted and no request failed', () => {
    const summary = summarizeLoad([sample(1, true), sample(2, true)]);
    expect(judgeZeroDowntime({ ...base, summary })).toEqual({
      status: 'passed',
      message: '2 requests through lb, 0 failed, while orders, orders-b restarted one at a time',
    });
  });

  it('is unknown when no request went through the entry point: zero failures of zero requests prove nothing', () => {
    expect(judgeZeroDowntime({ ...base, summary: summarizeLoad([]) }).status).toBe('unknown');
  });

  it('fails on a failed request or a lost write, and on a replica that did not come back', () => {
    const summary = summarizeLoad([sample(1, true), sample(2, false)]);
    expect(judgeZeroDowntime({ ...base, summary }).message).toBe(
      '1 of 2 requests failed through lb (at most 0 allowed): 1 x GET /v1/products -> 502',
    );
    expect(
      judgeZeroDowntime({ ...base, summary: summarizeLoad([sample(1, true)]), lost: ['write #3 is gone'] }).status,
    ).toBe('failed');
    expect(
      judgeZeroDowntime({
        ...base,
        summary: summarizeLoad([sample(1, true)]),
        restarted: ['orders'],
        problems: ['orders-b not healthy within 30000ms of its restart'],
      }).status,
    ).toBe('failed');
  });
});
