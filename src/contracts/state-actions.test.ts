import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { contractProviderSchema } from '../config/stages/contract.ts';
import { exec } from '../core/exec.ts';
import { Credentials, runSteps, setUpState } from './state-actions.ts';
import type { StepTarget } from './state-actions.ts';

/** A tiny real API on loopback: login, orders (auth required), and an endpoint that always fails. */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly body: unknown;
}
let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
let logins = 0;

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      res.setHeader('content-type', 'application/json');
      if (req.url === '/login') {
        logins += 1;
        const { email } = body as { email: string };
        res.end(JSON.stringify({ accessToken: `token-of-${email}-${logins}`, expiresIn: 300 }));
      } else if (req.url === '/orders' && req.headers.authorization?.startsWith('Bearer token-of-')) {
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

const provider = contractProviderSchema.parse({
  service: 'api',
  port: 80,
  principals: { alice: { email: 'alice@example.test', password: 'alice-pw-123' } },
  auth: {
    login: {
      method: 'POST',
      path: '/login',
      body: { email: '{{principal.email}}', password: '{{principal.password}}' },
    },
    expiresInPath: 'expiresIn',
    defaultPrincipal: 'alice',
    maxAgeMs: 10_000,
  },
  states: {
    'alice has an order': {
      principal: 'alice',
      vars: { key: 'k-{{uuid}}', echo: '{{params.amountCents}}' },
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

function target(now: () => number = Date.now): StepTarget {
  const base = {
    providerService: 'api',
    providerPort: 80,
    serviceUrl: (service: string, port: number) => {
      if (service !== 'api' || port !== 80) throw new Error(`no endpoint for ${service}:${port}`);
      return baseUrl;
    },
    execIn: (_service: string, command: readonly string[], timeoutMs: number) =>
      exec(command[0] === 'node' ? process.execPath : (command[0] ?? 'false'), command.slice(1), { timeoutMs }),
    requestTimeoutMs: 5_000,
    principals: provider.principals,
  };
  return { ...base, credentials: new Credentials(provider.auth!, base, now) };
}

describe('setUpState', () => {
  it('renders variables, calls the API with fresh credentials, captures values and returns them all', async () => {
    const log: string[] = [];
    const vars = await setUpState(provider.states['alice has an order']!, { amountCents: 650 }, target(), (l) =>
      log.push(l),
    );
    expect(vars).toEqual({
      key: expect.stringMatching(/^k-[0-9a-f-]{36}$/),
      echo: 650,
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
      expect.stringMatching(/^login as alice: POST \/login -> 200 \(\d+ms\)$/),
      expect.stringMatching(/^POST \/orders -> 201 \(\d+ms\)$/),
    ]);
    expect(log.join('\n')).not.toContain('alice-pw-123');
  });

  it('fails with the answer when the status is not the expected one', async () => {
    const steps = contractProviderSchema.shape.setup.parse([
      { kind: 'http', method: 'POST', path: '/orders', expectStatus: [201] },
    ]);
    await expect(runSteps(steps, {}, {}, target(), () => undefined)).rejects.toThrow(
      'POST /orders on api answered 401, expected 201: {"error":"unauthorized"}',
    );
  });

  it('fails when a captured path is absent from the response', async () => {
    const steps = contractProviderSchema.shape.setup.parse([
      { kind: 'http', method: 'POST', path: '/orders', as: 'alice', expectStatus: [201], capture: { x: 'nope.id' } },
    ]);
    await expect(runSteps(steps, {}, {}, target(), () => undefined)).rejects.toThrow(
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
    expect(await runSteps(steps, { word: 'seeded' }, {}, target(), () => undefined)).toEqual({
      word: 'seeded',
      out: 'seeded',
    });
    const failing = contractProviderSchema.shape.setup.parse([
      { kind: 'exec', service: 'db', command: ['node', '-e', 'process.stderr.write("boom"); process.exit(3)'] },
    ]);
    await expect(runSteps(failing, {}, {}, target(), () => undefined)).rejects.toThrow(
      'exec node in db exited 3, expected 0: boom',
    );
  });
});

describe('Credentials', () => {
  it('logs in once, reuses the token, and logs in again once it is older than maxAgeMs', async () => {
    let now = 1_000_000;
    const credentials = target(() => now).credentials!;
    expect(await credentials.header('alice')).toBe('Bearer token-of-alice@example.test-1');
    now += 9_000;
    expect(await credentials.header('alice')).toBe('Bearer token-of-alice@example.test-1');
    now += 2_000;
    expect(await credentials.header('alice')).toBe('Bearer token-of-alice@example.test-2');
    expect(logins).toBe(2);
  });

  it('refuses an unknown principal', async () => {
    await expect(target().credentials!.header('mallory')).rejects.toThrow('unknown principal "mallory"');
  });
});
