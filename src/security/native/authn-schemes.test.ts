import { mkdtemp } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityContext } from '../../../test/support/stage.ts';
import { startLoopbackServer } from '../../../test/support/loopback-server.ts';
import type { LoopbackServer } from '../../../test/support/loopback-server.ts';
import { resolveConfig } from '../../config/load-config.ts';
import type { HostLoadSampler } from '../../runner/host-load.ts';
import type { CheckResult } from '../../core/check-result.ts';
import { runAuthnChecks } from './authn.ts';

/**
 * A small app as non-JWT stacks build one: sign-up, then one of HTTP basic on every request, a form
 * login setting a session cookie, or a JSON login giving an opaque token. Three wrong passwords in a
 * row lock an account (423) unless `lockout` is off.
 */
interface AppState {
  lockout: boolean;
  /** How long every answer is held back (a slow login path). */
  delayMs: number;
  readonly users: Map<string, { password: string; failures: number }>;
  readonly sessions: Map<string, string>;
  readonly seen: string[];
}

const state: AppState = { lockout: true, delayMs: 0, users: new Map(), sessions: new Map(), seen: [] };

/** Checks a password, counting failures; 'locked' once three wrong ones came in a row (when lockout is on). */
function verify(username: string, password: string): 'ok' | 'wrong' | 'locked' {
  const user = state.users.get(username);
  if (!user) return 'wrong';
  if (state.lockout && user.failures >= 3) return 'locked';
  if (user.password !== password) {
    user.failures += 1;
    return 'wrong';
  }
  user.failures = 0;
  return 'ok';
}

type Reply = readonly [status: number, body: unknown, headers?: Record<string, string>];

/** The app's answer to one request. */
function route(method: string, url: string, req: IncomingMessage, body: string): Reply {
  if (method === 'POST' && url === '/users') {
    const { email, password } = JSON.parse(body) as { email: string; password: string };
    state.users.set(email, { password, failures: 0 });
    return [201, { id: `u${state.users.size}` }];
  }
  if (method === 'POST' && url === '/session') {
    const form = new URLSearchParams(body);
    const outcome = verify(form.get('user') ?? '', form.get('pass') ?? '');
    if (outcome === 'locked') return [423, { error: 'locked' }];
    if (outcome === 'wrong') return [401, { error: 'wrong password' }];
    const sid = `s${state.sessions.size + 1}`;
    state.sessions.set(sid, form.get('user') ?? '');
    return [302, {}, { location: '/', 'set-cookie': `sid=${sid}; HttpOnly; Path=/` }];
  }
  if (method === 'POST' && url === '/token') {
    const { email, password } = JSON.parse(body) as { email: string; password: string };
    const outcome = verify(email, password);
    if (outcome === 'locked') return [423, { error: 'locked' }];
    if (outcome === 'wrong') return [401, { error: 'wrong password' }];
    const token = `opaque-${state.sessions.size + 1}`;
    state.sessions.set(token, email);
    return [200, { token }];
  }
  if (url !== '/me') return [404, { error: 'not found' }];
  const authorization = req.headers.authorization ?? '';
  if (authorization.startsWith('Basic ')) {
    const [user = '', pass = ''] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':');
    const outcome = verify(user, pass);
    if (outcome === 'locked') return [423, { error: 'locked' }];
    return outcome === 'ok' ? [200, { email: user }] : [401, { error: 'unauthorized' }];
  }
  const sid = /sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
  if (sid !== undefined && state.sessions.has(sid)) return [200, { email: state.sessions.get(sid) }];
  const bearer = authorization.startsWith('Bearer ') ? authorization.slice(7) : undefined;
  if (bearer !== undefined && state.sessions.has(bearer)) return [200, { email: state.sessions.get(bearer) }];
  return [401, { error: 'unauthorized' }];
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
  req.on('end', () => {
    const url = req.url ?? '';
    const method = req.method ?? '';
    state.seen.push(`${method} ${url} auth=${req.headers.authorization ?? '-'} cookie=${req.headers.cookie ?? '-'}`);
    const [status, value, headers = {}] = route(method, url, req, body);
    setTimeout(() => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
    }, state.delayMs);
  });
}

let server: LoopbackServer;
let baseUrl: string;
let dir: string;

beforeAll(async () => {
  server = await startLoopbackServer(handle);
  baseUrl = server.baseUrl;
  dir = await mkdtemp(join(tmpdir(), 'authn-schemes-'));
});

afterAll(() => server.close());

const signup = { path: '/users', body: { email: '{{username}}', password: '{{password}}' } };

/** The principal throwaway users are made like, per scheme. */
const ALICE = {
  basic: { scheme: 'basic', username: 'alice@example.test', password: 'pw', role: 'customer' },
  cookie: {
    scheme: 'cookie',
    username: 'alice@example.test',
    password: 'pw',
    role: 'customer',
    login: { path: '/session', form: { user: '{{username}}', pass: '{{password}}' } },
  },
  bearer: {
    scheme: 'bearer',
    username: 'alice@example.test',
    password: 'pw',
    role: 'customer',
    login: { path: '/token', body: { email: '{{username}}', password: '{{password}}' } },
    tokenField: 'token',
  },
} as const;

/** Runs the authentication checks as throwaway users like `alice` of `scheme`. */
async function authnResults(
  scheme: keyof typeof ALICE,
  options: { readonly p95Ms?: number; readonly hostLoad?: HostLoadSampler } = {},
): Promise<CheckResult[]> {
  const config = resolveConfig(
    {
      name: 'unit',
      stages: ['boot', 'security'],
      services: { api: { image: 'api:1', ports: [8080] } },
      auth: { principals: { alice: ALICE[scheme] }, disposable: { like: 'alice', signup } },
      security: {
        target: { service: 'api', port: 8080 },
        rulesFile: 'rules.tsv',
        auth: {
          probe: { path: '/me' },
          rejectStatus: 401,
          lockout: { attempts: 3, lockedStatus: 423 },
          // The check's own budget, generous: this test is about what is measured, not how fast.
          latency: { p95Ms: options.p95Ms ?? 60_000, samples: 5, warmup: 0 },
        },
      },
    },
    join(dir, 'readiness.config.ts'),
  );
  const { ctx, recorded } = securityContext(config, dir, baseUrl, options.hostLoad);
  await runAuthnChecks(ctx);
  return recorded;
}

const outcome = (results: readonly CheckResult[], id: string) => {
  const found = results.find((r) => r.id === `security.authn.${id}`);
  if (!found) throw new Error(`security.authn.${id} was not recorded`);
  return { status: found.status, message: found.message ?? '' };
};

const JWT_CHECKS = ['tampered-signature', 'alg-none', 'expired', 'wrong-audience', 'wrong-issuer'];

describe('authentication checks for schemes other than a bearer JWT (issue 14 point 2)', () => {
  it('basic: no-token sends the probe without credentials; JWT checks are not applicable; lockout and latency use the probe', async () => {
    state.lockout = true;
    state.seen.length = 0;
    const results = await authnResults('basic');
    expect(outcome(results, 'no-token')).toEqual({
      status: 'passed',
      message: 'a request without a token rejected with 401',
    });
    // The probe without credentials carried no Authorization header at all.
    expect(state.seen).toContain('GET /me auth=- cookie=-');
    for (const id of JWT_CHECKS) {
      expect(outcome(results, id), id).toEqual({
        status: 'not-applicable',
        message: 'Not applicable: principal "alice" (auth.disposable.like) uses basic auth: no token to forge',
      });
      expect(results.find((r) => r.id === `security.authn.${id}`)?.tags, id).toContain('not-applicable');
    }
    expect(outcome(results, 'refresh-reuse')).toEqual({
      status: 'not-applicable',
      message: 'Not applicable: security.auth.refresh is not configured: no refresh call to reuse a token with',
    });
    expect(outcome(results, 'lockout')).toEqual({ status: 'passed', message: 'locked after 3 failures: 423' });
    const latency = results.find((r) => r.id === 'security.authn.latency');
    expect(latency?.status).toBe('passed');
    expect(latency?.message).toMatch(/^probe p95 \d+ms over 5 samples each/);
    expect(latency?.metrics.map((m) => m.name)).toContain('probe_p95_ms');
    // Every Authorization the stage sent was HTTP basic, never a made-up bearer token.
    expect(state.seen.filter((line) => line.includes('auth=Bearer'))).toEqual([]);
  });

  it('basic without a lockout: the lockout check fails with the right password still accepted', async () => {
    state.lockout = false;
    const results = await authnResults('basic');
    expect(outcome(results, 'lockout')).toEqual({
      status: 'failed',
      message: 'after 3 failed logins the right password got 200, expected 423 (locked)',
    });
    state.lockout = true;
  });

  it('cookie: a form login; no-token sends no cookie; lockout sends wrong passwords to the login', async () => {
    state.seen.length = 0;
    const results = await authnResults('cookie');
    expect(outcome(results, 'no-token').status).toBe('passed');
    for (const id of JWT_CHECKS) {
      expect(outcome(results, id).message, id).toBe(
        'Not applicable: principal "alice" (auth.disposable.like) uses a session cookie: no token to forge',
      );
    }
    expect(outcome(results, 'lockout')).toEqual({ status: 'passed', message: 'locked after 3 failures: 423' });
    expect(state.seen.filter((line) => line.startsWith('POST /session')).length).toBeGreaterThanOrEqual(5);
    expect(state.seen.some((line) => line.startsWith('GET /me') && line.includes('cookie=sid='))).toBe(true);
    expect(outcome(results, 'latency').status).toBe('passed');
  });

  it('bearer with an opaque token: the JWT checks are not applicable once the token is seen not to be a JWT', async () => {
    const results = await authnResults('bearer');
    expect(outcome(results, 'no-token').status).toBe('passed');
    expect(outcome(results, 'tampered-signature')).toEqual({
      status: 'not-applicable',
      message:
        'Not applicable: the credential of principal "alice" (a bearer token) is not a JWT: nothing to tamper with',
    });
    expect(outcome(results, 'alg-none').status).toBe('not-applicable');
    // No security.auth.jwt here: the claim checks say what is missing, as before.
    expect(outcome(results, 'expired')).toEqual({
      status: 'skipped',
      message: 'security.auth.jwt is not configured: no key to sign test tokens with',
    });
    expect(outcome(results, 'refresh-reuse')).toEqual({
      status: 'not-applicable',
      message: 'Not applicable: security.auth.refresh is not configured: no refresh call to reuse a token with',
    });
    expect(outcome(results, 'lockout')).toEqual({ status: 'passed', message: 'locked after 3 failures: 423' });
    expect(outcome(results, 'latency').message).toMatch(/^login p95 \d+ms/);
  });

  it('latency judges timing: over budget on a quiet host it fails, on a saturated host it is the host’s (broken)', async () => {
    state.lockout = true;
    state.delayMs = 30;
    const quiet: HostLoadSampler = { sample: () => ({ loadPerCore: 0.1, cores: 2 }) };
    const busy: HostLoadSampler = { sample: () => ({ loadPerCore: 9, cores: 2 }) };
    try {
      const failed = outcome(await authnResults('basic', { p95Ms: 10, hostLoad: quiet }), 'latency');
      expect(failed.status).toBe('failed');
      expect(failed.message).toMatch(/^probe p95 \d+ms over the 10ms budget/);
      const saturated = outcome(await authnResults('basic', { p95Ms: 10, hostLoad: busy }), 'latency');
      expect(saturated.status).toBe('broken');
      expect(saturated.message).toMatch(/^host saturated during the judgement: .*the failure seen: probe p95/);
    } finally {
      state.delayMs = 0;
    }
  });
});
