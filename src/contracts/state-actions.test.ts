import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Authenticator } from '../auth/authenticator.ts';
import { fetchAuthSend } from '../auth/transport.ts';
import { authConfigSchema } from '../config/auth.ts';
import { contractProviderSchema } from '../config/stages/contract.ts';
import { exec } from '../core/exec.ts';
import { SystemFailureError } from '../core/errors.ts';
import {
  InteractionAuth,
  applyCredentials,
  credentialHeaderNames,
  principalFields,
  runSteps,
  setUpState,
} from './state-actions.ts';
import type { StepTarget } from './state-actions.ts';

/**
 * A tiny real API on loopback: a JSON login, a sign-up, and orders that accept a bearer token, an
 * API key, a session cookie or HTTP basic; anything else is 401.
 */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly apiKey: string | undefined;
  readonly cookie: string | undefined;
  readonly body: unknown;
}
let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
let logins = 0;
let signups = 0;
const PASSWORDS = new Map([['alice@example.test', 'alice-pw-123']]);

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

const authorised = (req: IncomingMessage): boolean =>
  req.headers.authorization?.startsWith('Bearer token-of-') === true ||
  req.headers.authorization === `Basic ${Buffer.from('bob:bob-pw-456').toString('base64')}` ||
  req.headers['x-api-key'] === 'key-789' ||
  req.headers.cookie === 'sid=s-1';

beforeAll(async () => {
  server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        apiKey: req.headers['x-api-key'] as string | undefined,
        cookie: req.headers.cookie,
        body,
      });
      res.setHeader('content-type', 'application/json');
      if (req.url === '/users') {
        const { email, password } = body as { email: string; password: string };
        signups += 1;
        PASSWORDS.set(email, password);
        res.statusCode = 201;
        res.end(JSON.stringify({ id: `user-${signups}` }));
      } else if (req.url === '/login') {
        const { email, password } = body as { email: string; password: string };
        if (PASSWORDS.get(email) !== password) {
          res.statusCode = 401;
          res.end(JSON.stringify({ error: 'bad credentials' }));
          return;
        }
        logins += 1;
        res.end(JSON.stringify({ accessToken: `token-of-${email}-${logins}`, expiresIn: 300 }));
      } else if (req.url === '/orders' && authorised(req)) {
        res.statusCode = 201;
        res.end(JSON.stringify({ id: 'order-1', items: [{ sku: 'TEA' }] }));
      } else {
        res.statusCode = 401;
        res.end(JSON.stringify({ error: 'unauthorized' }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen.length = 0;
  logins = 0;
});

const login = { path: '/login', body: { email: '{{username}}', password: '{{password}}' } };
/** The top-level `auth` the contract stage takes its principals from: one per scheme. */
const auth = authConfigSchema.parse({
  principals: {
    alice: {
      scheme: 'bearer',
      username: 'alice@example.test',
      password: 'alice-pw-123',
      role: 'customer',
      login,
      expiresInField: 'expiresIn',
    },
    mallory: { scheme: 'bearer', username: 'alice@example.test', password: 'wrong-pw', login },
    bob: { scheme: 'basic', username: 'bob', password: 'bob-pw-456' },
    robot: { scheme: 'apiKey', header: 'X-Api-Key', key: 'key-789' },
    browser: { scheme: 'cookie', username: 'c', password: 'c', login: { path: '/unused' } },
    anonymous: { scheme: 'none' },
  },
  disposable: {
    like: 'alice',
    signup: { path: '/users', body: { email: '{{username}}', password: '{{password}}' } },
  },
});

const provider = contractProviderSchema.parse({
  service: 'api',
  port: 80,
  auth: { defaultPrincipal: 'alice' },
  states: {
    'alice has an order': {
      principal: 'alice',
      vars: { key: 'k-{{uuid}}', echo: '{{params.amountCents}}', who: '{{principals.alice.username}}' },
      steps: [
        {
          kind: 'http',
          method: 'POST',
          path: '/orders',
          as: 'alice',
          headers: { 'idempotency-key': '{{key}}' },
          body: { amountCents: '{{params.amountCents}}' },
          expectStatus: [201],
          capture: { orderId: 'id', sku: 'items.0.sku' },
        },
      ],
    },
  },
});

const secrets: string[] = [];
function authenticator(): Authenticator {
  return new Authenticator(auth, {
    send: fetchAuthSend({
      baseUrl: () => baseUrl,
      timeoutMs: 5_000,
      signal: new AbortController().signal,
    }),
    resolve: (ref) => (typeof ref === 'string' ? ref : ''),
    redact: (...values) => secrets.push(...values),
  });
}

function target(): StepTarget {
  return {
    providerService: 'api',
    providerPort: 80,
    serviceUrl: (service: string, port: number) => {
      if (service !== 'api' || port !== 80) throw new Error(`no endpoint for ${service}:${port}`);
      return baseUrl;
    },
    execIn: (_service: string, command: readonly string[], timeoutMs: number) =>
      exec(command[0] === 'node' ? process.execPath : (command[0] ?? 'false'), command.slice(1), { timeoutMs }),
    requestTimeoutMs: 5_000,
    principals: principalFields(auth),
  };
}

const session = (): InteractionAuth => new InteractionAuth(authenticator(), 'test');

describe('setUpState', () => {
  it('renders variables, calls the API with fresh credentials, captures values and returns them all', async () => {
    const log: string[] = [];
    const vars = await setUpState(
      provider.states['alice has an order']!,
      { amountCents: 650 },
      target(),
      session(),
      (l) => log.push(l),
    );
    expect(vars).toEqual({
      key: expect.stringMatching(/^k-[0-9a-f-]{36}$/),
      echo: 650,
      who: 'alice@example.test',
      orderId: 'order-1',
      sku: 'TEA',
    });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /login', 'POST /orders']);
    expect(seen[0]?.body).toEqual({ email: 'alice@example.test', password: 'alice-pw-123' });
    expect(seen[1]).toMatchObject({
      authorization: 'Bearer token-of-alice@example.test-1',
      body: { amountCents: 650 },
    });
    expect(log).toEqual([
      'as alice: login: POST /login -> 200',
      expect.stringMatching(/^POST \/orders -> 201 \(\d+ms\)$/),
    ]);
    expect(log.join('\n')).not.toContain('alice-pw-123');
  });

  it('fails with the answer when the status is not the expected one', async () => {
    const steps = contractProviderSchema.shape.setup.parse([
      { kind: 'http', method: 'POST', path: '/orders', expectStatus: [201] },
    ]);
    await expect(runSteps(steps, {}, {}, target(), session(), () => undefined)).rejects.toThrow(
      'POST /orders on api answered 401, expected 201: {"error":"unauthorized"}',
    );
  });

  it('fails when a captured path is absent from the response', async () => {
    const steps = contractProviderSchema.shape.setup.parse([
      { kind: 'http', method: 'POST', path: '/orders', as: 'alice', expectStatus: [201], capture: { x: 'nope.id' } },
    ]);
    await expect(runSteps(steps, {}, {}, target(), session(), () => undefined)).rejects.toThrow(
      'cannot capture "x": the response has nothing at "nope.id"',
    );
  });

  it('runs exec steps, captures stdout, and fails on an unexpected exit code', async () => {
    const steps = contractProviderSchema.shape.setup.parse([
      {
        kind: 'exec',
        service: 'db',
        command: ['node', '-e', 'process.stdout.write("{{word}}\\n")'],
        captureStdout: 'out',
      },
    ]);
    expect(await runSteps(steps, { word: 'seeded' }, {}, target(), session(), () => undefined)).toEqual({
      word: 'seeded',
      out: 'seeded',
    });
    const failing = contractProviderSchema.shape.setup.parse([
      { kind: 'exec', service: 'db', command: ['node', '-e', 'process.stderr.write("boom"); process.exit(3)'] },
    ]);
    await expect(runSteps(failing, {}, {}, target(), session(), () => undefined)).rejects.toThrow(
      'exec node in db exited 3, expected 0: boom',
    );
  });
});

describe('credentials of auth.principals in steps', () => {
  it('a step as a principal carries its credentials, whatever the scheme', async () => {
    const steps = contractProviderSchema.shape.setup.parse(
      ['bob', 'robot', 'anonymous'].map((as) => ({
        kind: 'http',
        method: 'POST',
        path: '/orders',
        as,
        expectStatus: [201, 401],
      })),
    );
    await runSteps(steps, {}, {}, target(), session(), () => undefined);
    expect(seen.map((s) => [s.authorization, s.apiKey])).toEqual([
      [`Basic ${Buffer.from('bob:bob-pw-456').toString('base64')}`, undefined],
      [undefined, 'key-789'],
      [undefined, undefined],
    ]);
  });

  it('a login the system refuses rejects with its answer (the system failed, not the harness)', async () => {
    const steps = contractProviderSchema.shape.setup.parse([
      { kind: 'http', method: 'POST', path: '/orders', as: 'mallory', expectStatus: [201] },
    ]);
    const failure = await runSteps(steps, {}, {}, target(), session(), () => undefined).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SystemFailureError);
    expect((failure as SystemFailureError).message).toBe('login of mallory was refused: POST /login -> 401');
    expect((failure as SystemFailureError).evidence).toContain('bad credentials');
  });

  it("'disposable' is one throwaway user per interaction, signed up on first use", async () => {
    const steps = contractProviderSchema.shape.setup.parse([
      { kind: 'http', method: 'POST', path: '/orders', as: 'disposable', expectStatus: [201] },
      { kind: 'http', method: 'POST', path: '/orders', as: 'disposable', expectStatus: [201] },
    ]);
    const shared = new InteractionAuth(authenticator(), 'one');
    const before = signups;
    await runSteps(steps, {}, {}, target(), shared, () => undefined);
    expect(signups - before).toBe(1);
    await runSteps(steps, {}, {}, target(), session(), () => undefined);
    expect(signups - before).toBe(2);
    const orders = seen.filter((s) => s.url === '/orders').map((s) => s.authorization);
    expect(orders[0]).toMatch(/^Bearer token-of-readiness\+[0-9a-f]+@example\.test-\d+$/);
    expect(orders[1]).toBe(orders[0]);
    expect(orders[2]).not.toBe(orders[0]);
  });

  it('obtains a principal once and reuses it across interactions (the authenticator caches)', async () => {
    const shared = authenticator();
    const a = await new InteractionAuth(shared, 'a').credentials('alice');
    const b = await new InteractionAuth(shared, 'b').credentials('alice');
    expect(b.headers).toEqual(a.headers);
    expect(logins).toBe(1);
    expect(secrets).toContain('alice-pw-123');
  });

  it('refuses a principal that auth.principals does not declare, naming the key', async () => {
    await expect(session().credentials('ghost')).rejects.toThrow('auth.principals has no principal "ghost"');
  });
});

describe('the request filter', () => {
  it('replaces only the credential headers the pact sends, for any scheme', () => {
    const request: Record<string, string | undefined> = { authorization: 'Bearer example', accept: 'x' };
    applyCredentials(request, { authorization: 'Basic Ym9i' });
    expect(request).toEqual({ authorization: 'Basic Ym9i', accept: 'x' });
    const bare: Record<string, string | undefined> = { accept: 'x' };
    applyCredentials(bare, { 'x-api-key': 'key-789' });
    expect(bare).toEqual({ accept: 'x' });
  });

  it("with auth.header, swaps that header for the principal's credentials (a cookie for a bearer example)", () => {
    const request: Record<string, string | undefined> = { authorization: 'Bearer example' };
    applyCredentials(request, { cookie: 'sid=s-1' }, 'authorization');
    expect(request).toEqual({ cookie: 'sid=s-1' });
    const without: Record<string, string | undefined> = {};
    applyCredentials(without, { cookie: 'sid=s-1' }, 'authorization');
    expect(without).toEqual({});
  });

  it("knows which headers the configured principals' credentials occupy", () => {
    expect(credentialHeaderNames(auth).sort()).toEqual(['authorization', 'cookie', 'x-api-key']);
  });
});
