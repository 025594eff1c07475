import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../core/clock.ts';
import { SecurityHttp, fieldOf, fillTemplate, fromTemplate, retryAfterSeconds } from './http.ts';

describe('request templates', () => {
  it('fills known placeholders everywhere, fresh {uuid}/{random}, leaves others alone', () => {
    const filled = fillTemplate(
      { email: '{username}', nested: ['{password}', { k: 'id={id}' }], q: '{"$gt": ""}', n: 1 },
      {
        username: 'u@example.test',
        password: 'pw',
        id: '42',
      },
    );
    expect(filled).toEqual({ email: 'u@example.test', nested: ['pw', { k: 'id=42' }], q: '{"$gt": ""}', n: 1 });
    const a = fillTemplate('{uuid}', {});
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(fillTemplate('{uuid}', {})).not.toBe(a);
  });

  it('renders a template into a request with a JSON body', () => {
    const request = fromTemplate(
      {
        method: 'POST',
        path: '/v1/orders/{id}',
        headers: { 'idempotency-key': '{uuid}' },
        body: { items: [{ sku: 'TEA' }] },
      },
      { id: '7' },
    );
    expect(request).toMatchObject({ method: 'POST', path: '/v1/orders/7', body: '{"items":[{"sku":"TEA"}]}' });
    expect(request.headers?.['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reads Retry-After as seconds or an HTTP date, and dotted fields', () => {
    expect(retryAfterSeconds('10', 0)).toBe(10);
    expect(retryAfterSeconds('Thu, 01 Jan 1970 00:00:30 GMT', 0)).toBe(30);
    expect(retryAfterSeconds('soon', 0)).toBeUndefined();
    expect(retryAfterSeconds(undefined, 0)).toBeUndefined();
    expect(fieldOf({ data: { id: 3 } }, 'data.id')).toBe(3);
    expect(fieldOf([1], 'x')).toBeUndefined();
  });
});

describe('SecurityHttp against a loopback server', () => {
  const seen: {
    method: string;
    url: string;
    correlation: string | undefined;
    auth: string | undefined;
    apiKey: string | string[] | undefined;
  }[] = [];
  let limitedOnce = false;
  const server = createServer((req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      correlation: req.headers['x-request-id'] as string | undefined,
      auth: req.headers.authorization,
      apiKey: req.headers['x-api-key'],
    });
    if (req.url === '/limited' && !limitedOnce) {
      limitedOnce = true;
      res.writeHead(429, { 'retry-after': '2' }).end('{"error":"rate_limited"}');
      return;
    }
    if (req.url === '/always-limited') {
      res.writeHead(429, { 'retry-after': '1' }).end();
      return;
    }
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  const slept: number[] = [];
  const clock: Clock = {
    now: () => Date.now(),
    monotonicMs: () => performance.now(),
    sleep: (ms) => (slept.push(ms), Promise.resolve()),
  };
  let http: SecurityHttp;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    http = new SecurityHttp({
      baseUrl: `http://127.0.0.1:${port}/`,
      correlationHeader: 'x-request-id',
      timeoutMs: 2_000,
      clock,
      signal: new AbortController().signal,
    });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends a fresh correlation id and the sender's credential headers, and remembers mutating requests", async () => {
    const get = await http.send({ method: 'GET', path: '/a', as: { headers: { authorization: 'Basic dTpw' } } });
    const post = await http.send({ method: 'POST', path: '/b', body: '{}' });
    expect(get.status).toBe(200);
    expect(seen.at(-2)).toMatchObject({ url: '/a', auth: 'Basic dTpw', correlation: get.correlationId });
    expect(post.correlationId).not.toBe(get.correlationId);
    expect(http.mutating).toEqual([{ method: 'POST', path: '/b', status: 201, correlationId: post.correlationId }]);
    expect(http.lastCorrelationId).toBe(post.correlationId);
    // An API key in its own header, and no Authorization header made up for it.
    await http.send({ method: 'GET', path: '/k', as: { headers: { 'x-api-key': 'k1' } } });
    expect(seen.at(-1)).toMatchObject({ url: '/k', auth: undefined, apiKey: 'k1' });
  });

  it('waits out a 429 (Retry-After) and sends again with the same correlation id', async () => {
    const answer = await http.send({ method: 'GET', path: '/limited' });
    expect(answer.status).toBe(200);
    expect(answer.throttled).toBe(1);
    expect(slept).toContain(2_000);
    const tries = seen.filter((s) => s.url === '/limited');
    expect(tries).toHaveLength(2);
    expect(tries[0]?.correlation).toBe(tries[1]?.correlation);
  });

  it('gives the 429 back when asked not to retry, or after three tries', async () => {
    expect((await http.send({ method: 'GET', path: '/always-limited', retryOn429: false })).status).toBe(429);
    const persistent = await http.send({ method: 'GET', path: '/always-limited' });
    expect(persistent.status).toBe(429);
    expect(persistent.throttled).toBe(3);
  });
});
