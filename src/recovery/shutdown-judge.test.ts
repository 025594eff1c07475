import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyBurstSample, judgeInFlight, judgeRouting } from './shutdown-judge.ts';
import type { BurstSample, ShutdownRound } from './shutdown-judge.ts';
import type { LoadSample } from './steady-load.ts';

const SIGN_UP = 'POST /v1/users';

/** A burst request sent at `sentAtMs`, answered at `answeredAtMs` (the SIGTERM goes at 100 ms, Docker confirms at 112 ms). */
const req = (route: BurstSample['route'], sentAtMs: number, answeredAtMs: number, status: number, error?: string) =>
  ({
    route,
    label: SIGN_UP,
    sentAtMs,
    answeredAtMs,
    status,
    expected: status === 201,
    ...(error === undefined ? {} : { error }),
  }) satisfies BurstSample;

const round = (replica: string, burst: BurstSample[], extra: Partial<ShutdownRound> = {}): ShutdownRound => ({
  replica,
  signalStartMs: 100,
  signalEndMs: 112,
  drainMs: 1_630,
  exitCode: 0,
  graceMs: 15_000,
  backAtMs: 4_000,
  burst,
  ...extra,
});

/** Healthy: the sign-ups queue behind scrypt; the later ones are answered during the 1.5 s drain. */
const drained = (replica: string) =>
  round(replica, [
    req('direct', 1, 60, 201),
    req('direct', 1, 190, 201),
    req('direct', 2, 260, 201),
    req('via', 2, 75, 201),
    req('via', 2, 210, 201),
  ]);

describe('classifyBurstSample', () => {
  const r = { signalStartMs: 100, signalEndMs: 112 };
  it('is in flight only when sent before the signal and answered after Docker confirmed it', () => {
    expect(classifyBurstSample(req('direct', 1, 190, 201), r)).toBe('in-flight-served');
    expect(classifyBurstSample(req('direct', 1, 60, 201), r)).toBe('served-before');
    // Answered while the signal was on its way: it may have been answered before the process saw it.
    expect(classifyBurstSample(req('direct', 1, 105, 201), r)).toBe('served-before');
  });
  it('calls no answer or a 5xx after the signal cut, before it a failure of its own, another status no evidence', () => {
    expect(classifyBurstSample(req('direct', 1, 116, 0, 'fetch failed (UND_ERR_SOCKET)'), r)).toBe('cut');
    expect(classifyBurstSample(req('via', 1, 118, 502), r)).toBe('cut');
    expect(classifyBurstSample(req('via', 1, 40, 503), r)).toBe('failed-before');
    expect(classifyBurstSample(req('direct', 1, 300, 429), r)).toBe('no-evidence');
  });
});

describe('judgeInFlight', () => {
  it('passes when every request in flight at each SIGTERM was answered, with the counts and drain times', () => {
    expect(judgeInFlight([drained('orders'), drained('orders-b')], 'lb')).toEqual({
      status: 'passed',
      message:
        'Every request in flight at the SIGTERM was answered (orders: 2 direct + 1 through lb in flight, drained in 1630ms; orders-b: 2 direct + 1 through lb in flight, drained in 1630ms)',
    });
  });

  it('fails when the replica exits at once and the requests in flight are reset (FRAGILE=no-drain)', () => {
    const cut = round(
      'orders',
      [
        req('direct', 1, 60, 201),
        req('direct', 1, 117, 0, 'fetch failed (UND_ERR_SOCKET)'),
        req('direct', 2, 117, 0, 'fetch failed (ECONNRESET)'),
        req('via', 2, 118, 502),
      ],
      { drainMs: 6 },
    );
    expect(judgeInFlight([cut, drained('orders-b')], 'lb')).toEqual({
      status: 'failed',
      message:
        '3 of 3 requests in flight at the SIGTERM to orders were cut (direct POST /v1/users -> fetch failed (UND_ERR_SOCKET); direct POST /v1/users -> fetch failed (ECONNRESET); via POST /v1/users -> 502)',
    });
  });

  it('fails a replica that still runs after its grace period, even when no request was cut', () => {
    const hung = { ...drained('orders'), drainMs: undefined };
    expect(judgeInFlight([hung], 'lb')).toEqual({
      status: 'failed',
      message: 'orders still ran 15000ms after SIGTERM (killed): the shutdown hangs',
    });
  });

  it('is unknown, never passed, when no request was in flight at a SIGTERM on either route', () => {
    const fast = round('orders', [req('direct', 1, 20, 201), req('via', 1, 25, 201)]);
    expect(judgeInFlight([fast], 'lb')).toEqual({
      status: 'unknown',
      message:
        'No request was in flight at the SIGTERM directly to orders, through lb while orders stopped: use slower requests, a larger burst or a shorter signalAfterMs',
    });
    const viaOnlyFast = round('orders', [req('direct', 1, 300, 201), req('via', 1, 25, 201)]);
    expect(judgeInFlight([viaOnlyFast], 'lb').status).toBe('unknown');
    // Refused requests (429) are answered but prove nothing about the shutdown.
    const limited = round('orders', [req('direct', 1, 300, 429), req('via', 1, 300, 429)]);
    expect(judgeInFlight([limited], 'lb').status).toBe('unknown');
    expect(judgeInFlight([], 'lb').status).toBe('unknown');
  });
});

describe('judgeRouting', () => {
  const load = (atMs: number, ok: boolean): LoadSample => ({
    atMs,
    label: 'GET /v1/products',
    status: ok ? 200 : 502,
    ok,
    latencyMs: 4,
  });

  it('passes when every new request through the entry point was served while each replica went away', () => {
    const rounds = [drained('orders')];
    expect(judgeRouting(rounds, [load(50, true), load(300, true), load(2_000, true)], 9_000, 'lb')).toEqual({
      status: 'passed',
      message: 'Every new request through lb was served while a replica went away (orders: 2)',
    });
  });

  it('fails on a new request that failed between the SIGTERM and the return; a failure outside that window is not counted', () => {
    const rounds = [drained('orders')];
    expect(judgeRouting(rounds, [load(50, true), load(300, true), load(350, false)], 9_000, 'lb')).toEqual({
      status: 'failed',
      message:
        '1 of 2 new requests through lb failed while orders was going away (GET /v1/products -> 502); 0 of 1 requests of the same load failed outside those windows',
    });
    expect(judgeRouting(rounds, [load(50, false), load(300, true)], 9_000, 'lb').status).toBe('passed');
  });

  it('is unknown when the same load failed as often outside the windows: not concentrated around the shutdowns', () => {
    // Recorded on the healthy stack under a load average of 29 on 2 cores: orders-b answered 503 (its
    // Postgres connection timed out) while orders was going away, and the load had failed before any SIGTERM.
    const rounds = [drained('orders')];
    const before = [load(10, false), ...Array.from({ length: 20 }, (_, i) => load(20 + i, true))];
    const during = [load(300, false), ...Array.from({ length: 40 }, (_, i) => load(310 + i, true))];
    const judged = judgeRouting(rounds, [...before, ...during], 9_000, 'lb');
    expect(judged.status).toBe('unknown');
    expect(judged.message).toMatch(/1 of 21 requests of the same load failed outside those windows/);
    // Many more failures in the window than outside it: the shutdown's doing.
    const many = [...[300, 301, 302, 303, 304].map((at) => load(at, false)), ...during.slice(1, 20)];
    expect(judgeRouting(rounds, [...before, ...many], 9_000, 'lb').status).toBe('failed');
  });

  it('fails when a replica did not come back, and is unknown without a request in the window', () => {
    const gone = round('orders', [], { backAtMs: undefined, backDetail: 'GET /health/ready -> 503' });
    expect(judgeRouting([gone], [load(300, true)], 9_000, 'lb')).toEqual({
      status: 'failed',
      message: 'orders was not healthy again (GET /health/ready -> 503)',
    });
    expect(judgeRouting([drained('orders')], [load(50, true)], 9_000, 'lb').status).toBe('unknown');
  });
});

describe('judgeInFlight on recorded runs of the reference stack (test/fixtures/recovery)', () => {
  const recorded = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../test/fixtures/recovery/shutdown-rounds.json'), 'utf8'),
  ) as Record<'healthy' | 'no-drain' | 'keep-alive-hang', ShutdownRound[]>;

  it('passes the healthy stack: 8 requests in flight at each SIGTERM, all answered', () => {
    expect(judgeInFlight(recorded.healthy, 'lb')).toEqual({
      status: 'passed',
      message:
        'Every request in flight at the SIGTERM was answered (orders: 4 direct + 4 through lb in flight, drained in 2184ms; orders-b: 4 direct + 4 through lb in flight, drained in 2362ms)',
    });
  });

  it('fails FRAGILE=no-drain on the requests cut at each replica', () => {
    const judged = judgeInFlight(recorded['no-drain'], 'lb');
    expect(judged.status).toBe('failed');
    expect(judged.message).toMatch(/^6 of 8 requests in flight at the SIGTERM to orders were cut \(direct POST/);
    expect(judged.message).toMatch(/; 6 of 8 requests in flight at the SIGTERM to orders-b were cut/);
  });

  it('fails the keep-alive hang on the 503 answered while the server was closing', () => {
    expect(judgeInFlight(recorded['keep-alive-hang'], 'lb')).toEqual({
      status: 'failed',
      message:
        '1 of 24 requests in flight at the SIGTERM to orders were cut (direct POST /v1/users -> 503); 1 of 24 requests in flight at the SIGTERM to orders-b were cut (via POST /v1/users -> 503)',
    });
  });
});
