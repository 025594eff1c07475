import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/index.ts';
import type { CheckResult } from '../core/check-result.ts';
import { checkResultSchema } from '../core/check-result.ts';
import { systemClock } from '../core/clock.ts';
import { createRedactor } from '../core/redact.ts';
import { Teardowns } from '../core/teardown.ts';
import { assertAllowedTarget } from '../runner/blast-radius.ts';
import type { SuiteContext } from '../runner/suite.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { defineExperiment } from './experiment.ts';
import type { ExperimentInput } from './experiment.ts';
import { runExperiment } from './run-experiment.ts';

// A real HTTP API on loopback that accepts HTTP basic (admin, or users it signed up) or an API key,
// keeps records per user, and remembers every request it saw.
const ADMIN = 'Basic ' + Buffer.from('admin:admin-pass').toString('base64');
const API_KEY = 'k-123';
const users = new Map<string, string>();
let signupStatus = 201;
/** Sign-ups beyond this many users are refused (409). */
let maxUsers = Infinity;
const seen: { method: string; path: string; headers: IncomingHttpHeaders }[] = [];
const records: { id: string; owner: string; body: unknown }[] = [];

function caller(headers: IncomingHttpHeaders): string | undefined {
  if (headers['x-api-key'] === API_KEY) return 'robot';
  if (headers.authorization === ADMIN) return 'admin';
  const basic = /^Basic (.+)$/.exec(headers.authorization ?? '')?.[1];
  if (!basic) return undefined;
  const [user, password] = Buffer.from(basic, 'base64').toString('utf8').split(':');
  return user !== undefined && users.get(user) === password ? user : undefined;
}

/** The API's answer to one request: status and JSON body. */
function route(method: string, url: URL, headers: IncomingHttpHeaders, body: string): [number, unknown] {
  if (method === 'POST' && url.pathname === '/users') {
    if (caller(headers) !== 'admin') return [401, { error: 'admin only' }];
    if (signupStatus !== 201) return [signupStatus, { error: 'sign-ups are closed' }];
    if (users.size >= maxUsers) return [409, { error: 'too many users' }];
    const { username, password } = JSON.parse(body) as { username: string; password: string };
    users.set(username, password);
    return [201, { id: username }];
  }
  const who = caller(headers);
  if (!who) return [401, { error: 'who are you?' }];
  if (url.pathname === '/me') return [200, { user: who }];
  if (method === 'POST' && url.pathname === '/items') {
    const id = String(records.length + 1);
    records.push({ id, owner: who, body: JSON.parse(body) as unknown });
    return [201, { id }];
  }
  if (url.pathname === '/items')
    return [200, { items: records.filter((r) => r.owner === who).map((r) => ({ id: r.id, ...(r.body as object) })) }];
  const record = records.find((r) => r.owner === who && `/items/${r.id}` === url.pathname);
  return record ? [200, { id: record.id }] : [404, { error: 'no such item' }];
}

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    seen.push({ method, path: url.pathname, headers: req.headers });
    const [status, json] = route(method, url, req.headers, body);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(json));
  });
});
beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
  records.length = 0;
  users.clear();
  signupStatus = 201;
  maxUsers = Infinity;
});

const auth = {
  target: { service: 'api', port: 8080 },
  principals: {
    admin: { scheme: 'basic', username: 'admin', password: 'admin-pass' },
    robot: { scheme: 'apiKey', header: 'X-Api-Key', key: API_KEY },
  },
  disposable: {
    like: 'admin',
    signupAs: 'admin',
    signup: { path: '/users', body: { username: '{{username}}', password: '{{password}}' } },
    username: 'probe-{{random}}',
  },
} as const;

const ledger = {
  write: {
    path: '/items',
    body: { qty: '{{seq}}' },
    idempotencyHeader: 'Idempotency-Key',
    headers: { 'X-Tenant': 'tenant-{{seq}}' },
  },
  read: { path: '/items/{id}', headers: { 'X-Read': 'read-{{id}}' } },
  list: { path: '/items', headers: { 'X-List': 'all' } },
  fingerprint: ['qty'],
};

const me = {
  kind: 'http',
  name: 'me answers',
  request: { path: '/me', auth: true, headers: { 'X-Trace': 'probe-{{uuid}}' } },
  expect: { status: 200 },
} as const;

/** Runs one experiment against the loopback API (no Toxiproxy: the fault itself never takes effect). */
async function run(chaos: Record<string, unknown>, experiment: Partial<ExperimentInput> = {}): Promise<CheckResult[]> {
  const root = await mkdtemp(join(tmpdir(), 'run-experiment-auth-'));
  const config = resolveConfig(
    {
      name: 'u',
      services: { api: { image: 'a:1', ports: [8080] } },
      auth,
      chaos: { target: { service: 'api', port: 8080 }, settleMs: 300, proofWithinMs: 300, ledger, ...chaos },
    },
    join(root, 'readiness.config.ts'),
  );
  const handle: StackHandle = {
    schemaVersion: 1,
    runId: 'r1',
    stack: 's',
    seed: 7,
    createdAt: new Date(0).toISOString(),
    ownerPid: 1,
    network: 'n',
    logsDir: root,
    services: {
      api: {
        containerId: 'c1',
        containerName: 'readiness-r1-api',
        image: 'a:1',
        endpoint: { host: '127.0.0.1', ports: { '8080': (server.address() as AddressInfo).port }, alias: 'api' },
        startupMs: 1,
      },
    },
    toxiproxy: null,
  };
  const recorded: CheckResult[] = [];
  const context: SuiteContext = {
    config,
    handle,
    redact: createRedactor(),
    stage: 'chaos',
    runDir: root,
    seed: 7,
    clock: systemClock,
    signal: new AbortController().signal,
    reporter: {},
    teardowns: new Teardowns(),
    record: (check) => {
      const parsed = checkResultSchema.parse({ ...check, stage: 'chaos' });
      recorded.push(parsed);
      return Promise.resolve(parsed);
    },
    assertTarget: (t) => assertAllowedTarget(t, handle, []),
  };
  const chaosConfig = config.chaos;
  if (!chaosConfig) throw new Error('chaos is configured above');
  await runExperiment(
    context,
    defineExperiment({
      id: 'db-down',
      title: 'The database is down',
      severity: 'critical',
      fault: { kind: 'down', link: 'db' },
      steadyState: [me],
      during: [{ ...me, samples: 1 }],
      recovery: { withinMs: 500, probes: [me] },
      ledger: { writes: 2, phase: 'around-injection' },
      remediation: 'Degrade gracefully',
      ...experiment,
    }),
    { chaos: chaosConfig, handleFiles: [], runTag: 't', replay: 'r' },
  );
  await context.teardowns.run();
  return recorded;
}

const byId = (results: readonly CheckResult[], id: string) => results.find((r) => r.id === `chaos.db-down.${id}`);
const requests = (method: string, path: RegExp) => seen.filter((s) => s.method === method && path.test(s.path));

describe('runExperiment acts as chaos.as, whatever the scheme (a real loopback API)', () => {
  it('HTTP basic: probes and every ledger write, read and list carry the credentials and their own headers', async () => {
    const results = await run({ as: 'admin' });
    expect(byId(results, 'steady-state')?.status).toBe('passed');
    expect(byId(results, 'ledger')?.status).toBe('passed');
    const probes = requests('GET', /^\/me$/);
    expect(probes.length).toBeGreaterThan(0);
    for (const probe of probes) {
      expect(probe.headers.authorization).toBe(ADMIN);
      expect(probe.headers['x-trace']).toMatch(/^probe-[0-9a-f]{8}-/);
    }
    const writes = requests('POST', /^\/items$/);
    expect(writes.map((w) => w.headers['x-tenant'])).toEqual(['tenant-1', 'tenant-2']);
    expect(writes.every((w) => w.headers.authorization === ADMIN && w.headers['idempotency-key'])).toBe(true);
    const reads = requests('GET', /^\/items\/\d+$/);
    expect(reads.map((r) => r.headers['x-read'])).toEqual(['read-1', 'read-2']);
    expect(reads.every((r) => r.headers.authorization === ADMIN)).toBe(true);
    const lists = requests('GET', /^\/items$/);
    expect(lists.length).toBeGreaterThan(0);
    expect(lists.every((l) => l.headers.authorization === ADMIN && l.headers['x-list'] === 'all')).toBe(true);
  });

  it('an API key in its own header reaches the probes and the ledger', async () => {
    const results = await run({ as: 'robot' });
    expect(byId(results, 'steady-state')?.status).toBe('passed');
    expect(byId(results, 'ledger')?.status).toBe('passed');
    const sent = seen.filter((s) => s.path.startsWith('/me') || s.path.startsWith('/items'));
    expect(sent.length).toBeGreaterThan(4);
    expect(sent.every((s) => s.headers['x-api-key'] === API_KEY && s.headers.authorization === undefined)).toBe(true);
  });

  it("'disposable': the experiment and its ledger each act as a throwaway user signed up for them", async () => {
    const results = await run({ as: 'disposable' });
    expect(byId(results, 'steady-state')?.status).toBe('passed');
    expect(byId(results, 'ledger')?.status).toBe('passed');
    expect(users.size).toBe(2);
    const userOf = (s: (typeof seen)[number]) => caller(s.headers);
    const probeUsers = new Set(requests('GET', /^\/me$/).map(userOf));
    const ledgerUsers = new Set(seen.filter((s) => s.path.startsWith('/items')).map(userOf));
    expect(probeUsers.size).toBe(1);
    expect(ledgerUsers.size).toBe(1);
    expect([...probeUsers, ...ledgerUsers].every((u) => u !== undefined && users.has(u))).toBe(true);
    expect(probeUsers).not.toEqual(ledgerUsers);
  });

  it('a sign-up the system refuses fails the steady state with its answer as evidence (not broken)', async () => {
    signupStatus = 503;
    const results = await run({ as: 'disposable' });
    const steady = byId(results, 'steady-state');
    expect(steady?.status).toBe('failed');
    expect(steady?.message).toMatch(/sign-up of a throwaway user for db-down was refused: POST \/users -> 503/);
    expect(steady?.evidence.find((e) => e.name === 'system evidence')?.content).toMatch(
      /-> 503\n.*sign-ups are closed/,
    );
    expect(byId(results, 'fault-effect')?.status).toBe('unknown');
  });

  it("the ledger's user refused by the system: the ledger check is failed with the answer, the experiment still runs", async () => {
    maxUsers = 1;
    const results = await run({ as: 'disposable' });
    expect(byId(results, 'steady-state')?.status).toBe('passed');
    const ledgerCheck = byId(results, 'ledger');
    expect(ledgerCheck?.status).toBe('failed');
    expect(ledgerCheck?.message).toMatch(/ledger's user could not be signed up or logged in: .*POST \/users -> 409/);
    expect(ledgerCheck?.evidence.find((e) => e.name === 'system evidence')?.content).toMatch(/too many users/);
    expect(requests('POST', /^\/items$/)).toEqual([]);
  });

  it('a probe with auth: true and no chaos.as is a harness problem (broken), never sent without credentials', async () => {
    const results = await run({ ledger: undefined }, { ledger: undefined });
    expect(byId(results, 'steady-state')?.status).toBe('broken');
    expect(byId(results, 'steady-state')?.message).toMatch(/chaos\.as is not set, so GET \/me \(auth: true\)/);
    expect(requests('GET', /^\/me$/)).toEqual([]);
  });
});
