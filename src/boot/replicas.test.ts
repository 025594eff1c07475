import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { configProblems, resolveConfig } from '../config/index.ts';
import type { ReadinessConfigInput } from '../config/index.ts';
import type { CheckResult } from '../core/check-result.ts';
import { assertAllowedTarget } from '../runner/blast-radius.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { recordingContext, UNIT_HANDLE } from '../../test/support/stage.ts';
import { runBootChecks } from './boot-checks.ts';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A replica: `/me` needs the bearer token `/login` hands out; a drifting one refuses it with 403. */
const replica =
  (drift: boolean): Handler =>
  (request, response) => {
    const answer = (): [number, unknown] => {
      if (request.method === 'POST' && request.url === '/login') return [200, { accessToken: 'tok-replica-test' }];
      if (request.url === '/products') return [200, { items: [] }];
      if (request.url !== '/me') return [404, { error: 'not found' }];
      if (request.headers.authorization !== 'Bearer tok-replica-test') return [401, { error: 'unauthorized' }];
      // The drifting replica was deployed with another role mapping: it refuses what its peer accepts.
      return drift ? [403, { error: 'forbidden', replica: 'b' }] : [200, { id: 'u1', email: 'alice@example.test' }];
    };
    const [status, body] = answer();
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(handler: Handler): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const entry = (name: string, port: number) => ({
  containerId: name,
  containerName: name,
  image: 'example/api:1',
  endpoint: { host: '127.0.0.1', ports: { '8080': port }, alias: name },
  startupMs: 1,
});

const groups = (): ReadinessConfigInput['boot'] => ({
  replicas: [
    {
      services: ['api', 'api-b'],
      port: 8080,
      as: 'alice',
      requests: [{ path: '/me' }, { path: '/products' }, { path: '/me', as: 'anonymous' }],
    },
  ],
  readinessTruth: [],
});

async function run(
  ports: { api: number; 'api-b': number },
  boot: ReadinessConfigInput['boot'],
  loginPath = '/login',
): Promise<CheckResult[]> {
  const config = resolveConfig(
    {
      name: 'unit',
      services: { api: { image: 'a:1', ports: [8080] }, 'api-b': { image: 'a:1', ports: [8080] } },
      auth: {
        principals: {
          alice: {
            scheme: 'bearer',
            username: 'alice',
            password: 'alice-pass',
            login: { path: loginPath, body: { u: '{{username}}', p: '{{password}}' } },
            tokenField: 'accessToken',
          },
          anonymous: { scheme: 'none' },
        },
      },
      boot,
    },
    '/tmp/readiness.config.ts',
  );
  const handle: StackHandle = {
    ...UNIT_HANDLE,
    services: { api: entry('api', ports.api), 'api-b': entry('api-b', ports['api-b']) },
  };
  const recorded: CheckResult[] = [];
  const base = recordingContext(config, 'boot', '/tmp', recorded);
  await runBootChecks({ ...base, handle, assertTarget: (t) => assertAllowedTarget(t, handle, config.allowTargets) });
  return recorded;
}

const replicaCheck = (results: CheckResult[]): CheckResult | undefined =>
  results.find((r) => r.id.startsWith('boot.replicas.'));

describe('boot.replicas: the same authenticated requests to each replica directly', () => {
  it('passes when both replicas accept and refuse alike (200, 200, 401 on each)', async () => {
    const ports = { api: await listen(replica(false)), 'api-b': await listen(replica(false)) };
    const check = replicaCheck(await run(ports, groups()));
    expect(check?.id).toBe('boot.replicas.api');
    expect(check?.status).toBe('passed');
    expect(check?.metrics).toContainEqual({ name: 'requests_compared', value: 3, unit: 'count' });
  });

  it('fails when one replica refuses what the other accepts, with both answers as evidence', async () => {
    const ports = { api: await listen(replica(false)), 'api-b': await listen(replica(true)) };
    const check = replicaCheck(await run(ports, groups()));
    expect(check?.status).toBe('failed');
    expect(check?.message).toContain('GET /me as alice: api 200, api-b 403');
    const evidence = check?.evidence.map((e) => e.content).join('\n') ?? '';
    expect(evidence).toContain('api -> 200 {"id":"u1"');
    expect(evidence).toContain('api-b -> 403 {"error":"forbidden","replica":"b"}');
    // The anonymous request is refused by both: no drift there.
    expect(check?.message).not.toContain('as anonymous');
  });

  it('fails when one replica gives no answer while another does', async () => {
    const closed = await listen(replica(false));
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const ports = { api: await listen(replica(false)), 'api-b': closed };
    const check = replicaCheck(await run(ports, groups()));
    expect(check?.status).toBe('failed');
    expect(check?.message).toMatch(/GET \/me as alice: api 200, api-b 0/);
  });

  it('fails, with the system evidence, when the system refuses the login', async () => {
    const ports = { api: await listen(replica(false)), 'api-b': await listen(replica(false)) };
    const check = replicaCheck(await run(ports, groups(), '/no-such-login'));
    expect(check?.status).toBe('failed');
    expect(check?.message).toMatch(/404/);
  });

  it('records not configured, never a pass, without replica groups', async () => {
    const results = await run({ api: 1, 'api-b': 1 }, { readinessTruth: [] });
    const check = results.find((r) => r.id === 'boot.replicas.not-configured');
    expect(check?.status).toBe('not-applicable');
    expect(check?.message).toBe('Not configured: boot.replicas is not set');
    expect(results.some((r) => r.id.startsWith('boot.replicas.') && r.status === 'passed')).toBe(false);
  });
});

describe('boot.replicas config', () => {
  const base = {
    name: 'unit',
    services: { api: { image: 'a:1', ports: [8080] }, 'api-b': { image: 'a:1', ports: [8080] } },
    auth: { principals: { alice: { scheme: 'none' as const } } },
  };
  const problems = (boot: unknown): string[] => configProblems({ ...base, boot }, '/tmp/readiness.config.ts');

  it('names the dotted key of an unknown service, a port not exposed, an unknown principal, a lone replica', () => {
    const out = problems({
      replicas: [
        { services: ['api', 'nope'], port: 8080, as: 'alice', requests: [{ path: '/x' }] },
        { name: 'two', services: ['api', 'api-b'], port: 9090, as: 'bob', requests: [{ path: '/x', as: 'carol' }] },
        { name: 'three', services: ['api'], port: 8080, as: 'alice', requests: [{ path: '/x' }] },
      ],
    }).join('\n');
    expect(out).toMatch(/boot\.replicas\[0\]\.services\[1\] names unknown service "nope"/);
    expect(out).toMatch(/boot\.replicas\[1\]\.port port 9090 is not in services\.api\.ports/);
    expect(out).toMatch(/boot\.replicas\[1\]\.as "bob"/);
    expect(out).toMatch(/boot\.replicas\[1\]\.requests\[0\]\.as "carol"/);
    expect(out).toMatch(/boot\.replicas\[2\]\.services name at least two replicas/);
  });
});
