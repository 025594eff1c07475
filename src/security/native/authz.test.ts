import { describe, expect, it } from 'vitest';
import type { HttpExchange } from '../http.ts';
import { judgeObjectAccess, judgeRbac } from './authz.ts';

function exchange(method: HttpExchange['method'], path: string, status: number, body = ''): HttpExchange {
  return {
    method,
    path,
    url: `http://127.0.0.1:8080${path}`,
    status,
    headers: {},
    setCookies: [],
    body,
    latencyMs: 1,
    correlationId: 'c',
    throttled: 0,
  };
}

describe('judgeRbac', () => {
  const admin = { method: 'DELETE', path: '/v1/users/1' } as const;

  it('passes a matrix whose every cell got an expected status', () => {
    const outcome = judgeRbac([
      { role: 'admin', request: admin, status: 204, expected: [204] },
      { role: 'anonymous', request: admin, status: 401, expected: [401] },
    ]);
    expect(outcome.status).toBe('passed');
    expect(outcome.message).toBe('2 role x route cells as expected');
  });

  it('fails on a wrong cell, naming it and marking it in the matrix', () => {
    const outcome = judgeRbac([
      { role: 'admin', request: admin, status: 204, expected: [204] },
      { role: 'user', request: admin, status: 204, expected: [403, 404] },
    ]);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toBe('1/2 cells wrong: user DELETE /v1/users/1 -> 204, expected 403|404');
    expect(outcome.evidence?.[0]?.content.split('\n')[1]).toBe(
      'user       DELETE /v1/users/1 -> 204 (expected 403|404)  <-- wrong',
    );
  });
});

describe('judgeObjectAccess', () => {
  const object = { name: 'order', owner: 'alice', other: 'bob', deniedStatus: [403, 404] };
  const created = exchange('POST', '/v1/orders', 201);
  const own = exchange('GET', '/v1/orders/7', 200);

  it('passes a foreign read refused with a denied status', () => {
    const outcome = judgeObjectAccess(object, { created, id: 7, own, foreign: exchange('GET', '/v1/orders/7', 404) });
    expect(outcome).toMatchObject({ status: 'passed', message: "bob got 404 for alice's order" });
  });

  it('fails a foreign read that is served, or refused with another status', () => {
    const served = judgeObjectAccess(object, { created, id: 7, own, foreign: exchange('GET', '/v1/orders/7', 200) });
    expect(served.status).toBe('failed');
    expect(served.message).toContain('(broken object-level authorization)');
    const other = judgeObjectAccess(object, { created, id: 7, own, foreign: exchange('GET', '/v1/orders/7', 500) });
    expect(other).toMatchObject({ status: 'failed', message: 'bob got 500, expected 403 or 404' });
  });

  it('is broken when the owner cannot read its own object (the read request is wrong)', () => {
    const outcome = judgeObjectAccess(object, {
      created,
      id: 7,
      own: exchange('GET', '/v1/orders/7', 404),
      foreign: exchange('GET', '/v1/orders/7', 404),
    });
    expect(outcome.status).toBe('broken');
  });
});
