import { describe, expect, it } from 'vitest';
import { summarizeLoad } from './steady-load.ts';
import type { LoadSample } from './steady-load.ts';

const sample = (atMs: number, status: number, ok = status === 200, error?: string): LoadSample => ({
  atMs,
  label: 'GET /v1/orders',
  status,
  ok,
  latencyMs: 5,
  ...(error ? { error } : {}),
});

describe('load summary', () => {
  it('counts failures by what was seen, most frequent first', () => {
    const samples = [
      sample(1, 200),
      sample(2, 502),
      sample(3, 0, false, 'fetch failed (ECONNREFUSED)'),
      sample(4, 502),
    ];
    const summary = summarizeLoad(samples);
    expect(summary.total).toBe(4);
    expect(summary.failed).toBe(3);
    expect(summary.failureKinds).toEqual([
      { kind: 'GET /v1/orders -> 502', count: 2 },
      { kind: 'GET /v1/orders -> fetch failed (ECONNREFUSED)', count: 1 },
    ]);
    expect(summary.firstFailureAtMs).toBe(2);
    expect(summary.lastFailureAtMs).toBe(4);
  });

  it('summarizes a window only', () => {
    const summary = summarizeLoad([sample(1, 502), sample(5, 200), sample(9, 502)], 2, 8);
    expect(summary).toEqual({ total: 1, failed: 0, failureKinds: [] });
  });

  it('a 2xx outside the expected statuses is a failure', () => {
    expect(summarizeLoad([sample(1, 201, false)]).failed).toBe(1);
  });
});
