import { mkdtemp, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityContext } from '../../../test/support/stage.ts';
import { startLoopbackServer } from '../../../test/support/loopback-server.ts';
import type { LoopbackServer } from '../../../test/support/loopback-server.ts';
import { resolveConfig } from '../../config/load-config.ts';
import type { CheckResult } from '../../core/check-result.ts';
import { WEAK_SECRETS } from '../weak-secrets.ts';
import { runAuthnChecks } from './authn.ts';

type TokenName = 'jwtIoExample' | 'ordersWeakSecret' | 'ordersHealthy' | 'hs512JwtSecret' | 'rs256';

/** The key orders signs with under FRAGILE=weak-jwt-secret, and the reference stack's healthy JWT_SECRET. */
const PLANTED = 'changeme-changeme-changeme-changeme';
const HEALTHY = 'reference-stack-jwt-secret-0123456789abcdef';

let tokens: Record<TokenName, string>;
/** What the app's login hands out: a recorded token, or an opaque one. */
let issued = 'opaque-token';

/** An app that signs users up and hands out `issued` at login; the probe accepts exactly that token. */
function handle(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on('end', () => {
    const [status, body] =
      req.method === 'POST' && req.url === '/users'
        ? [201, { id: 'u1' }]
        : req.method === 'POST' && req.url === '/token'
          ? [200, { token: issued }]
          : req.url === '/me' && req.headers.authorization === `Bearer ${issued}`
            ? [200, { id: 'u1' }]
            : [401, { error: 'unauthorized' }];
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
}

let server: LoopbackServer;
let baseUrl: string;
let dir: string;

beforeAll(async () => {
  tokens = JSON.parse(
    await readFile(new URL('../../../test/fixtures/security/jwt-tokens.json', import.meta.url), 'utf8'),
  ) as Record<TokenName, string>;
  server = await startLoopbackServer(handle);
  baseUrl = server.baseUrl;
  dir = await mkdtemp(join(tmpdir(), 'authn-secrets-'));
});

afterAll(() => server.close());

/** Runs the authentication checks as throwaway bearer users, the config handing `secret` (or no jwt). */
async function authnResults(secret: string | undefined): Promise<CheckResult[]> {
  const config = resolveConfig(
    {
      name: 'unit',
      stages: ['boot', 'security'],
      services: { api: { image: 'api:1', ports: [8080] } },
      auth: {
        principals: {
          alice: {
            scheme: 'bearer',
            username: 'alice@example.test',
            password: 'pw',
            role: 'customer',
            login: { path: '/token', body: { email: '{{username}}', password: '{{password}}' } },
            tokenField: 'token',
          },
        },
        disposable: { like: 'alice', signup: { path: '/users', body: { email: '{{username}}' } } },
      },
      security: {
        target: { service: 'api', port: 8080 },
        rulesFile: 'rules.tsv',
        auth: {
          probe: { path: '/me' },
          rejectStatus: 401,
          ...(secret === undefined ? {} : { jwt: { secret, issuer: 'readiness-reference', audience: 'orders-api' } }),
        },
      },
    },
    join(dir, 'readiness.config.ts'),
  );
  const { ctx, recorded } = securityContext(config, dir, baseUrl);
  await runAuthnChecks(ctx);
  return recorded;
}

const outcome = (results: readonly CheckResult[], id: string) => {
  const found = results.find((r) => r.id === `security.authn.${id}`);
  if (!found) throw new Error(`security.authn.${id} was not recorded`);
  return { status: found.status, message: found.message ?? '', evidence: JSON.stringify(found) };
};

describe('security.authn.weak-secret and security.authn.secret-strength (issue 16 point 6)', () => {
  it('a long (35 characters) repeated key from the list: both fail, the key never shown in full', async () => {
    issued = tokens.ordersWeakSecret;
    const results = await authnResults(PLANTED);
    const weak = outcome(results, 'weak-secret');
    expect(weak.status).toBe('failed');
    expect(weak.message).toBe(
      `the HS256 token of principal "alice" verifies with entry ${WEAK_SECRETS.indexOf(PLANTED) + 1} of the shipped list of well-known weak secrets, "ch…" (35 characters): anyone can forge tokens`,
    );
    const strength = outcome(results, 'secret-strength');
    expect(strength.status).toBe('failed');
    expect(strength.message).toMatch(/^security\.auth\.jwt\.secret is guessable \(score [0-3] < 4; .*repeat \(\d+\)/);
    for (const check of [weak, strength]) expect(check.evidence).not.toContain(PLANTED);
  });

  it("the jwt.io example token: weak-secret fails on the list's first entry", async () => {
    issued = tokens.jwtIoExample;
    const results = await authnResults(undefined);
    expect(outcome(results, 'weak-secret').message).toMatch(/verifies with entry 1 of the shipped list/);
  });

  it("the reference stack's healthy key: both pass", async () => {
    issued = tokens.ordersHealthy;
    const results = await authnResults(HEALTHY);
    expect(outcome(results, 'weak-secret')).toMatchObject({
      status: 'passed',
      message: `the HS256 token verifies with none of the ${WEAK_SECRETS.length} well-known weak secrets tried offline`,
    });
    expect(outcome(results, 'secret-strength')).toMatchObject({
      status: 'passed',
      message: expect.stringMatching(/^security\.auth\.jwt\.secret meets score 4 and 10\^20 guesses: zxcvbn score 4/),
    });
  });

  it('an RS256 token or an opaque one, and no configured secret: not applicable, with the reasons', async () => {
    issued = tokens.rs256;
    const rs = await authnResults(undefined);
    expect(outcome(rs, 'weak-secret')).toMatchObject({
      status: 'not-applicable',
      message: expect.stringMatching(/^Not applicable: principal "alice": the token is signed with RS256, not an HMAC/),
    });
    expect(outcome(rs, 'secret-strength')).toMatchObject({
      status: 'not-applicable',
      message: 'Not applicable: security.auth.jwt is not configured: the harness is not handed the signing secret',
    });
    issued = 'opaque-token';
    const opaque = await authnResults(undefined);
    expect(outcome(opaque, 'weak-secret')).toMatchObject({
      status: 'not-applicable',
      message: expect.stringMatching(/^Not applicable: principal "alice": the token is not a JWT/),
    });
  });
});
