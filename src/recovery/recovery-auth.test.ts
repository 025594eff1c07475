import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stageAuthenticator } from '../auth/stage.ts';
import { resolveConfig } from '../config/index.ts';
import type { CheckResult } from '../core/check-result.ts';
import { checkResultSchema } from '../core/check-result.ts';
import { systemClock } from '../core/clock.ts';
import { createRedactor } from '../core/redact.ts';
import { Teardowns } from '../core/teardown.ts';
import { actAs } from '../auth/act-as.ts';
import { assertAllowedTarget } from '../runner/blast-radius.ts';
import type { SuiteContext } from '../runner/suite.ts';
import { WriteLedger } from '../runner/write-ledger.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { ApiClient } from './drill-io.ts';
import { runRecoveryStage } from './recovery-stage.ts';

// A real HTTP API on loopback: HTTP basic for admin, an API key for robot, sign-ups that can be closed.
const ADMIN = 'Basic ' + Buffer.from('admin:admin-pass').toString('base64');
const seen: { method: string; path: string; headers: IncomingHttpHeaders }[] = [];
const records: string[] = [];
let signupStatus = 201;

/** The API's answer to one request: status and JSON body. */
function route(method: string, path: string, headers: IncomingHttpHeaders): [number, unknown] {
  if (path === '/users') return [signupStatus, signupStatus === 201 ? { id: 'u1' } : { error: 'closed' }];
  if (headers.authorization !== ADMIN && headers['x-api-key'] !== 'k-1') return [401, { error: 'who are you?' }];
  if (method === 'POST' && path === '/items') {
    records.push(String(records.length + 1));
    return [201, { id: records.at(-1) }];
  }
  if (path === '/items') return [200, { items: records.map((id) => ({ id, qty: Number(id) })) }];
  return records.some((id) => path === `/items/${id}`) ? [200, {}] : [404, {}];
}

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const method = req.method ?? 'GET';
    seen.push({ method, path, headers: req.headers });
    const [status, json] = route(method, path, req.headers);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(json));
  });
});
beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
  records.length = 0;
  signupStatus = 201;
});

const health = { kind: 'http', port: 8080, path: '/health' } as const;

async function contextFor(
  recovery: Record<string, unknown>,
): Promise<{ context: SuiteContext; recorded: CheckResult[] }> {
  const root = await mkdtemp(join(tmpdir(), 'recovery-auth-'));
  const config = resolveConfig(
    {
      name: 'u',
      stages: ['boot', 'recovery'],
      services: { api: { image: 'a:1', ports: [8080], health } },
      auth: {
        principals: {
          admin: { scheme: 'basic', username: 'admin', password: 'admin-pass' },
          robot: { scheme: 'apiKey', header: 'X-Api-Key', key: 'k-1' },
        },
        disposable: {
          like: 'admin',
          signup: { path: '/users', body: { username: '{{username}}', password: '{{password}}' } },
        },
      },
      recovery: {
        crash: { service: 'api', port: 8080 },
        load: { requests: [{ path: '/items', auth: true }], writesPerSec: 0 },
        ...recovery,
      },
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
    stage: 'recovery',
    runDir: root,
    seed: 7,
    clock: systemClock,
    signal: new AbortController().signal,
    reporter: {},
    teardowns: new Teardowns(),
    record: (check) => {
      const parsed = checkResultSchema.parse({ ...check, stage: 'recovery' });
      recorded.push(parsed);
      return Promise.resolve(parsed);
    },
    assertTarget: (t) => assertAllowedTarget(t, handle, []),
  };
  return { context, recorded };
}

const ledger = {
  write: { path: '/items', body: { qty: '{{seq}}' }, headers: { 'X-Seq': 'w{{seq}}' } },
  read: { path: '/items/{id}', headers: { 'X-Id': 'r{{id}}' } },
  list: { path: '/items' },
  fingerprint: ['qty'],
};

describe('recovery drills act as recovery.as (a real loopback API)', () => {
  it.each([
    ['admin', { authorization: ADMIN }],
    ['robot', { 'x-api-key': 'k-1' }],
  ])(
    '%s: load requests and ledger writes, reads and lists carry its credentials and their headers',
    async (as, creds) => {
      const { context } = await contextFor({ as, ledger });
      const recovery = context.config.recovery;
      if (!recovery) throw new Error('recovery is configured above');
      const target = { service: 'api', port: 8080 };
      const identity = await actAs(stageAuthenticator(context, target), as, 'crash', undefined);
      const api = new ApiClient(context, recovery, identity);
      const load = await api.request(target, { path: '/items', auth: true, headers: { 'X-Load': '1' } });
      expect(load.status).toBe(200);
      const writer = new WriteLedger(
        recovery.ledger!,
        { maxAttempts: 1 },
        api.ledgerIo(target, () => 0.5),
      );
      await writer.write();
      await writer.write();
      const verdict = await writer.verify();
      expect(verdict.counts).toMatchObject({ stable: 2, lost: 0 });
      expect(seen.length).toBeGreaterThan(4);
      for (const request of seen) expect(request.headers).toMatchObject(creds);
      expect(seen[0]?.headers['x-load']).toBe('1');
      expect(seen.filter((s) => s.method === 'POST').map((s) => s.headers['x-seq'])).toEqual(['w1', 'w2']);
      expect(seen.filter((s) => /^\/items\/\d$/.test(s.path)).map((s) => s.headers['x-id'])).toEqual(['r1', 'r2']);
    },
  );

  it("a sign-up the system refuses: recovery.<drill>.session failed with the system's answer, the drill's checks not run", async () => {
    signupStatus = 503;
    const { context, recorded } = await contextFor({ as: 'disposable' });
    await runRecoveryStage(context);
    const session = recorded.find((r) => r.id === 'recovery.crash.session');
    expect(session?.status).toBe('failed');
    expect(session?.message).toMatch(/Could not authenticate as disposable on api: .*POST \/users -> 503/);
    expect(session?.evidence.find((e) => e.name === 'system evidence')?.content).toMatch(/-> 503\n.*closed/);
    expect(recorded.filter((r) => r.id.startsWith('recovery.crash.') && r.id !== 'recovery.crash.session')).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: 'recovery.crash.back', status: 'unknown' })]),
    );
    expect(recorded.some((r) => r.status === 'broken')).toBe(false);
  });
});
