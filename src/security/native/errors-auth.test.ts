import { mkdtemp } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityContext } from '../../../test/support/stage.ts';
import { startLoopbackServer } from '../../../test/support/loopback-server.ts';
import type { LoopbackServer } from '../../../test/support/loopback-server.ts';
import { resolveConfig } from '../../config/load-config.ts';
import type { CheckResult } from '../../core/check-result.ts';
import { runErrorChecks } from './input.ts';

/**
 * An API whose routes all need HTTP basic (checked before the body is read, 401 otherwise), that
 * answers 400 to malformed JSON and 413 to a body over 1 KiB.
 */
const users = new Map<string, string>();
const seen: string[] = [];

function handle(req: IncomingMessage, res: ServerResponse): void {
  const reply = (status: number, value: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };
  const authorization = req.headers.authorization ?? '';
  seen.push(`${req.method ?? ''} ${req.url ?? ''} auth=${authorization ? authorization.split(' ')[0] : '-'}`);
  if (req.method === 'POST' && req.url === '/users') {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const { username, password } = JSON.parse(body) as { username: string; password: string };
      users.set(username, password);
      reply(201, { id: users.size });
    });
    return;
  }
  const [user = '', pass = ''] = Buffer.from(authorization.replace(/^Basic /, ''), 'base64')
    .toString()
    .split(':');
  if (!authorization.startsWith('Basic ') || users.get(user) !== pass) {
    reply(401, { error: 'unauthorized' });
    req.resume();
    return;
  }
  let size = 0;
  let body = '';
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= 1024) body += chunk.toString('utf8');
  });
  req.on('end', () => {
    if (size > 1024) {
      reply(413, { error: 'too large' });
      return;
    }
    try {
      JSON.parse(body);
      reply(201, { id: 1 });
    } catch {
      reply(400, { error: 'malformed' });
    }
  });
}

let server: LoopbackServer;
let baseUrl: string;
let dir: string;

beforeAll(async () => {
  server = await startLoopbackServer(handle);
  baseUrl = server.baseUrl;
  dir = await mkdtemp(join(tmpdir(), 'errors-auth-'));
});

afterAll(() => server.close());

async function errorResults(): Promise<CheckResult[]> {
  const config = resolveConfig(
    {
      name: 'unit',
      stages: ['boot', 'security'],
      services: { api: { image: 'api:1', ports: [8080] } },
      auth: {
        principals: { admin: { scheme: 'basic', username: 'admin', password: 'pw', role: 'admin' } },
        disposable: {
          like: 'admin',
          signup: { path: '/users', body: { username: '{{username}}', password: '{{password}}' } },
          username: 'probe-{{random}}',
        },
      },
      security: {
        target: { service: 'api', port: 8080 },
        openapi: false,
        rulesFile: 'rules.tsv',
        auth: { probe: { path: '/me' } },
        errors: {
          malformedJson: [{ method: 'POST', path: '/items' }],
          oversize: { request: { method: 'POST', path: '/items', body: { name: 'big' } }, bytes: 4096 },
        },
      },
    },
    join(dir, 'readiness.config.ts'),
  );
  const { ctx, recorded } = securityContext(config, dir, baseUrl);
  await runErrorChecks(ctx);
  return recorded;
}

describe('error hygiene on a route that needs credentials', () => {
  it('the oversize body is sent as the throwaway user, so the body limit (413) is what is judged, not a 401', async () => {
    seen.length = 0;
    const results = await errorResults();
    const oversize = results.find((r) => r.id === 'security.errors.oversize-body');
    expect(oversize?.status, oversize?.message).toBe('passed');
    expect(results.find((r) => r.id === 'security.errors.malformed-json')?.status).toBe('passed');
    // Both requests to /items carried the user's basic credentials.
    expect(seen.filter((line) => line.startsWith('POST /items'))).toEqual([
      'POST /items auth=Basic',
      'POST /items auth=Basic',
    ]);
  });
});
