import { describe, expect, it } from 'vitest';
import type { HttpExchange } from '../http.ts';
import { burstFigures, judgeBurst, judgeRecovery, statusCounts } from './rate-limit.ts';

function answer(status: number, headers: Record<string, string> = {}): HttpExchange {
  return {
    method: 'GET',
    path: '/v1/items',
    url: 'http://127.0.0.1:8080/v1/items',
    status,
    headers,
    setCookies: [],
    body: '',
    latencyMs: 2,
    correlationId: 'c',
    throttled: 0,
  };
}

const burstOf = (answers: HttpExchange[]) => ({ answers, ...burstFigures(answers) });

describe('burstFigures and statusCounts', () => {
  it('finds the first 429 and counts the admitted answers', () => {
    const answers = [answer(200), answer(200), answer(429, { 'retry-after': '7' }), answer(429), answer(500)];
    const figures = burstFigures(answers);
    expect(figures.limited).toBe(answers[2]);
    expect(figures.admitted).toBe(2);
    expect(statusCounts(answers)).toBe('200x2, 429x2, 500x1');
  });
});

describe('judgeBurst', () => {
  it('passes a 429 with Retry-After after no more than the limit', () => {
    const outcome = judgeBurst(burstOf([answer(200), answer(200), answer(429, { 'retry-after': '7' })]), 2, 0);
    expect(outcome).toEqual({
      status: 'passed',
      message: '3 requests in a burst: 200x2, 429x1; Retry-After 7s',
      metrics: [{ name: 'admitted_before_429', value: 2, unit: 'count' }],
    });
  });

  it('fails a burst that was never limited', () => {
    expect(judgeBurst(burstOf([answer(200), answer(200), answer(200)]), 2, 0).message).toBe(
      'no 429 after 3 requests (limit 2): 3 requests in a burst: 200x3',
    );
  });

  it('fails a 429 without a usable Retry-After', () => {
    const outcome = judgeBurst(burstOf([answer(200), answer(429)]), 2, 0);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toBe('429 without a usable Retry-After (absent): 2 requests in a burst: 200x1, 429x1');
  });

  it('fails more admitted requests than the limit', () => {
    const outcome = judgeBurst(
      burstOf([answer(200), answer(200), answer(200), answer(429, { 'retry-after': '1' })]),
      2,
      0,
    );
    expect(outcome).toMatchObject({ status: 'failed' });
    expect(outcome.message).toMatch(/^3 requests admitted, more than the limit of 2/);
  });
});

describe('judgeRecovery', () => {
  it('passes a client served again, with the time it took', () => {
    expect(judgeRecovery({ ok: true, last: answer(200) }, 1200, 1000)).toEqual({
      status: 'passed',
      message: 'served again 1200ms after the burst (window 1000ms)',
      metrics: [{ name: 'served_again_after_ms', value: 1200, unit: 'ms' }],
    });
  });

  it('fails a client still refused, saying its last status or that nothing answered', () => {
    expect(judgeRecovery({ ok: false, last: answer(429) }, 6000, 1000).message).toBe(
      'still 429 6000ms after the burst (window 1000ms)',
    );
    expect(judgeRecovery({ ok: false }, 6000, 1000).message).toBe(
      'still no answer 6000ms after the burst (window 1000ms)',
    );
  });
});
