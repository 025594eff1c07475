import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Authenticator } from '../auth/authenticator.ts';
import { fetchAuthSend } from '../auth/transport.ts';
import { authConfigSchema } from '../config/auth.ts';
import { resolveConfig } from '../config/load-config.ts';
import type { CheckResult } from '../core/check-result.ts';
import { ConfigError, SystemFailureError } from '../core/errors.ts';
import { assertAllowedTarget } from '../runner/blast-radius.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { recordingContext } from '../../test/support/stage.ts';
import { runLoadStage } from './load-stage.ts';
import { principalEnv } from './principal-env.ts';

/** A real API on loopback: a JSON login that knows one password, as the system under test would answer it. */
let server: Server;
let port: number;
let logins = 0;

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void bodyOf(req).then((text) => {
      res.setHeader('content-type', 'application/json');
      const { email, password } = JSON.parse(text || '{}') as { email?: string; password?: string };
      if (req.url === '/login' && email === 'alice@example.test' && password === 'alice-pw-123') {
        logins += 1;
        res.end(JSON.stringify({ accessToken: `tok-alice-${logins}-x9`, expiresIn: 900 }));
        return;
      }
      res.statusCode = 401;
      res.end(JSON.stringify({ error: 'invalid credentials' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const principals = {
  alice: {
    scheme: 'bearer',
    username: 'alice@example.test',
    password: 'alice-pw-123',
    login: { path: '/login', body: { email: '{{username}}', password: '{{password}}' } },
  },
  mallory: {
    scheme: 'bearer',
    username: 'alice@example.test',
    password: 'wrong-pw-456',
    login: { path: '/login', body: { email: '{{username}}', password: '{{password}}' } },
  },
  robot: { scheme: 'apiKey', header: 'X-Api-Key', key: 'key-0123456789' },
} as const;

describe('principalEnv', () => {
  it('hands each principal its headers as READINESS_AUTH_<NAME> JSON, every value registered as a secret', async () => {
    const secrets: string[] = [];
    const auth = new Authenticator(authConfigSchema.parse({ principals }), {
      send: fetchAuthSend({
        baseUrl: () => `http://127.0.0.1:${port}`,
        timeoutMs: 5_000,
        signal: new AbortController().signal,
      }),
      resolve: (ref) => (typeof ref === 'string' ? ref : ''),
      redact: (...values) => secrets.push(...values),
    });
    const { env, evidence } = await principalEnv(auth, ['alice', 'robot'], (...values) => secrets.push(...values));
    expect(Object.keys(env)).toEqual(['READINESS_AUTH_ALICE', 'READINESS_AUTH_ROBOT']);
    const alice = JSON.parse(env['READINESS_AUTH_ALICE'] ?? '') as Record<string, string>;
    expect(alice).toEqual({ authorization: expect.stringMatching(/^Bearer tok-alice-\d+-x9$/) });
    expect(JSON.parse(env['READINESS_AUTH_ROBOT'] ?? '')).toEqual({ 'x-api-key': 'key-0123456789' });
    expect(secrets).toEqual(
      expect.arrayContaining([
        env['READINESS_AUTH_ALICE'],
        env['READINESS_AUTH_ROBOT'],
        alice['authorization'],
        alice['authorization']?.slice('Bearer '.length),
        'key-0123456789',
      ]),
    );
    expect(evidence).toEqual([
      'READINESS_AUTH_ALICE: bearer (login: POST /login -> 200)',
      'READINESS_AUTH_ROBOT: apiKey (fixed API key)',
    ]);
    // The system refusing the login is its failure, with its answer.
    const refused = await principalEnv(auth, ['mallory'], () => undefined).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SystemFailureError);
    expect((refused as SystemFailureError).evidence).toContain('invalid credentials');
  });
});

describe('load stage with load.principals', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'readiness-load-auth-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * The load stage over a handle whose service `api` is the loopback server, with a stand-in k6 that
   * writes the env it got to a file and exits 1 after printing it (a run the harness calls broken).
   */
  async function runWith(
    principal: string,
  ): Promise<{ checks: CheckResult[]; seen: string; redact: (t: string) => string }> {
    const k6 = join(dir, 'k6');
    const seenFile = join(dir, 'seen.json');
    await writeFile(
      k6,
      `#!/usr/bin/env node\nconst fs = require('node:fs');\nconst auth = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('READINESS_AUTH_')));\nfs.writeFileSync(${JSON.stringify(seenFile)}, JSON.stringify(auth));\nprocess.stderr.write('env ' + JSON.stringify(auth) + '\\n');\nprocess.exit(1);\n`,
    );
    await chmod(k6, 0o755);
    const config = resolveConfig(
      {
        name: 'unit',
        stages: ['load'],
        services: { api: { image: 'example/api:1', ports: [8080] } },
        auth: { principals },
        load: {
          k6: { binary: k6 },
          script: 'script.js',
          target: { service: 'api', port: 8080 },
          principals: [principal],
          scenarios: [{ id: 'steady', ratePerSec: 1, durationSec: 1 }],
        },
      },
      join(dir, 'readiness.config.ts'),
    );
    const handle: StackHandle = {
      schemaVersion: 1,
      runId: 'unit',
      stack: 'unit',
      seed: 1,
      createdAt: new Date(0).toISOString(),
      ownerPid: process.pid,
      network: 'none',
      logsDir: dir,
      services: {
        api: {
          containerId: 'c1',
          containerName: 'api',
          image: 'example/api:1',
          endpoint: { host: '127.0.0.1', ports: { '8080': port }, alias: 'api' },
          startupMs: 0,
        },
      },
      toxiproxy: null,
    };
    const checks: CheckResult[] = [];
    const base = recordingContext(config, 'load', join(dir, 'run'), checks);
    const context = {
      ...base,
      handle,
      assertTarget: (target: string) => assertAllowedTarget(target, handle, config.allowTargets),
    };
    await runLoadStage(context);
    const seen = await readFile(seenFile, 'utf8').catch(() => '');
    return { checks, seen, redact: context.redact };
  }

  it('passes the principal credentials to k6 as env and redacts them from what k6 printed', async () => {
    const { checks, seen, redact } = await runWith('alice');
    const env = JSON.parse(seen) as Record<string, string>;
    const headers = JSON.parse(env['READINESS_AUTH_ALICE'] ?? '{}') as Record<string, string>;
    expect(headers['authorization']).toMatch(/^Bearer tok-alice-\d+-x9$/);
    const run = checks.find((c) => c.id === 'load.steady.run');
    expect(run?.status).toBe('broken');
    const stderr = run?.evidence.map((e) => e.content).join('\n') ?? '';
    expect(stderr).toContain('tok-alice-');
    expect(redact(stderr)).not.toContain('tok-alice-');
  });

  it('a login the system refuses before the load is failed with its answer, and k6 never starts', async () => {
    const { checks, seen } = await runWith('mallory');
    expect(seen).toBe('');
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['load.steady.run', 'failed'],
      // No earlier CERTIFIED run in the test's reports folder.
      ['load.capacity.regression', 'not-applicable'],
    ]);
    expect(checks[0]?.message).toBe('login of mallory was refused: POST /login -> 401');
    expect(checks[0]?.evidence).toEqual([
      expect.objectContaining({ name: 'system evidence', content: expect.stringContaining('invalid credentials') }),
    ]);
  });
});

describe('load.principals config', () => {
  it('names a principal auth.principals lacks and an env key the harness sets, by dotted key (exit 2)', () => {
    let problems: string[] = [];
    try {
      resolveConfig(
        {
          name: 'unit',
          stages: ['load'],
          services: { api: { image: 'example/api:1', ports: [8080] } },
          auth: { principals },
          load: {
            script: 'script.js',
            target: { service: 'api', port: 8080 },
            env: { READINESS_AUTH_ALICE: 'x' },
            principals: ['alice', 'ghost'],
            scenarios: [{ id: 'steady', ratePerSec: 1, durationSec: 1 }],
          },
        },
        '/work/x/readiness.config.ts',
      );
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems.map((p) => p.slice(p.indexOf('readiness.config.ts: ')));
    }
    expect(problems).toEqual([
      'readiness.config.ts: load.env.READINESS_AUTH_ALICE is set by the harness for load.principals "alice"; remove it from load.env',
      'readiness.config.ts: load.principals[1] names principal "ghost", which auth.principals does not declare (known: alice, mallory, robot)',
    ]);
  });
});
