import { describe, expect, it } from 'vitest';
import { judgeHttp, slug } from './probes.ts';
import type { HttpOutcome } from '../runner/http.ts';

const answer = (status: number, latencyMs: number, json?: unknown, error?: string): HttpOutcome => ({
  status,
  latencyMs,
  body: json === undefined ? '' : JSON.stringify(json),
  json,
  headers: {},
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
