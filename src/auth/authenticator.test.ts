import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authConfigSchema } from '../config/auth.ts';
import type { AuthConfigInput } from '../config/auth.ts';
import { SystemFailureError } from '../core/errors.ts';
import { Authenticator, cookiePairs, looksLikeJwt } from './authenticator.ts';
import { fetchAuthSend } from './transport.ts';

/**
 * A real HTTP server with one endpoint per scheme, as small apps implement them: a JSON login
 * giving a JWT-shaped token, an API key issued to a basic-authenticated user, HTTP basic, a form
 * login setting a session cookie (302), an OAuth2 token endpoint (client credentials), and a
 * protected route that accepts any of them.
 */
const JWT = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"ada"}').toString('base64url')}.c2ln`;
const USERS = new Map([['ada', 'p@ss:w0rd']]);
const basicOf = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => resolve(body));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const json = (status: number, value: unknown, headers: Record<string, string | string[]> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(value));
  };
  const basicUser = (): string | undefined => {
    for (const [user, pass] of USERS) if (req.headers.authorization === basicOf(user, pass)) return user;
    return undefined;
  };
  switch (`${req.method} ${req.url}`) {
    case 'POST /login': {
      const { email, password } = JSON.parse(body) as { email: string; password: string };
      if (USERS.get(email) !== password) {
        json(401, { error: 'bad credentials' });
        return;
      }
      json(200, { data: { accessToken: JWT, refreshToken: 'r1' }, expiresIn: 60 });
      return;
    }
    case 'POST /keys':
      if (!basicUser()) {
        json(401, { error: 'basic auth required' });
        return;
      }
      {
        json(201, { key: 'key-abc123' });
        return;
      }
    case 'POST /form-login': {
      const form = new URLSearchParams(body);
      if (USERS.get(form.get('user') ?? '') !== form.get('pass')) {
        json(401, {});
        return;
      }
      res.writeHead(302, { location: '/', 'set-cookie': ['sid=s3cr3t; HttpOnly; Path=/', 'theme=dark; Path=/'] });
      return void res.end();
    }
    case 'POST /oauth/token': {
      const form = new URLSearchParams(body);
      const viaBasic = req.headers.authorization === basicOf('client%201', 'sec%2Fret');
      const viaBody = form.get('client_id') === 'client 1' && form.get('client_secret') === 'sec/ret';
      if (form.get('grant_type') !== 'client_credentials' || !(viaBasic || viaBody)) {
        json(401, {});
        return;
      }
      json(200, {
        access_token: 'opaque-token',
        token_type: 'Bearer',
        expires_in: 3600,
        scope: form.get('scope'),
      });
      return;
    }
    case 'POST /users': {
      if (!basicUser()) {
        json(401, {});
        return;
      }
      const { username, password } = JSON.parse(body) as { username: string; password: string };
      USERS.set(username, password);
      json(201, { id: 42, username });
      return;
    }
    case 'GET /me': {
      const ok =
        basicUser() !== undefined ||
        req.headers.authorization === `Bearer ${JWT}` ||
        req.headers.authorization === 'Bearer opaque-token' ||
        req.headers['x-api-key'] === 'key-abc123' ||
        (req.headers.cookie ?? '').includes('sid=s3cr3t');
      json(ok ? 200 : 401, {});
      return;
    }
    default: {
      json(404, {});
      return;
    }
  }
}

let server: Server;
let baseUrl = '';
const redacted: string[] = [];
const controller = new AbortController();

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const authenticator = (input: AuthConfigInput): Authenticator =>
  new Authenticator(authConfigSchema.parse(input), {
    send: fetchAuthSend({ baseUrl: () => baseUrl, timeoutMs: 5_000, signal: controller.signal }),
    resolve: (ref) => (typeof ref === 'string' ? ref : `${ref.fromServiceEnv.service}:${ref.fromServiceEnv.key}`),
    redact: (...secrets) => redacted.push(...secrets),
  });

const probe = async (headers: Readonly<Record<string, string>>): Promise<number> =>
  (await fetch(`${baseUrl}/me`, { headers })).status;

describe('Authenticator on a real server, one scheme at a time', () => {
  it('bearer: logs in with JSON, reads the token and refresh token, renews at 80% of expiresIn', async () => {
    const auth = authenticator({
      principals: {
        ada: {
          scheme: 'bearer',
          username: 'ada',
          password: 'p@ss:w0rd',
          login: { path: '/login', body: { email: '{{username}}', password: '{{password}}' } },
          tokenField: 'data.accessToken',
          refreshTokenField: 'data.refreshToken',
          expiresInField: 'expiresIn',
        },
      },
    });
    const credentials = await auth.credentials('ada');
    expect(credentials.headers).toEqual({ authorization: `Bearer ${JWT}` });
    expect(credentials.refreshToken).toBe('r1');
    expect(looksLikeJwt(credentials.token)).toBe(true);
    expect(credentials.renewAt! - credentials.obtainedAt).toBe(48_000);
    expect(await probe(credentials.headers)).toBe(200);
    expect(redacted).toEqual(expect.arrayContaining([JWT, 'r1', 'p@ss:w0rd']));
    expect(await auth.credentials('ada')).toBe(credentials);
  });

  it('bearer: a refused login is the system failing, with its answer as evidence', async () => {
    const auth = authenticator({
      principals: {
        ada: {
          scheme: 'bearer',
          username: 'ada',
          password: 'wrong',
          login: { path: '/login', body: { email: '{{username}}', password: '{{password}}' } },
        },
      },
    });
    const error = await auth.credentials('ada').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SystemFailureError);
    expect((error as SystemFailureError).message).toContain('POST /login -> 401');
    expect((error as SystemFailureError).evidence).toContain('bad credentials');
  });

  it('basic: encodes username and password, no request', async () => {
    const auth = authenticator({ principals: { ada: { scheme: 'basic', username: 'ada', password: 'p@ss:w0rd' } } });
    const credentials = await auth.credentials('ada');
    expect(credentials.headers['authorization']).toBe(basicOf('ada', 'p@ss:w0rd'));
    expect(await probe(credentials.headers)).toBe(200);
    expect(redacted).toContain(Buffer.from('ada:p@ss:w0rd').toString('base64'));
    const wrong = await auth.credentialsAs('ada', { username: 'ada', password: 'nope' });
    expect(await probe(wrong.headers)).toBe(401);
  });

  it('apiKey: fixed, or obtained by a request authenticated with basic', async () => {
    const auth = authenticator({
      principals: {
        fixed: { scheme: 'apiKey', header: 'X-Api-Key', key: 'key-abc123' },
        issued: {
          scheme: 'apiKey',
          header: 'x-api-key',
          username: 'ada',
          password: 'p@ss:w0rd',
          obtain: { path: '/keys' },
        },
      },
    });
    expect(await probe((await auth.credentials('fixed')).headers)).toBe(200);
    const issued = await auth.credentials('issued');
    expect(issued.headers).toEqual({ 'x-api-key': 'key-abc123' });
    expect(await probe(issued.headers)).toBe(200);
  });

  it('cookie: a form login that redirects and sets the session cookie', async () => {
    const auth = authenticator({
      principals: {
        ada: {
          scheme: 'cookie',
          username: 'ada',
          password: 'p@ss:w0rd',
          login: { path: '/form-login', form: { user: '{{username}}', pass: '{{password}}' } },
          cookies: ['sid'],
        },
      },
    });
    const credentials = await auth.credentials('ada');
    expect(credentials.headers).toEqual({ cookie: 'sid=s3cr3t' });
    expect(await probe(credentials.headers)).toBe(200);
    expect(redacted).toContain('s3cr3t');
    const refused = await auth.credentialsAs('ada', { username: 'ada', password: 'x' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SystemFailureError);
  });

  it('oauth2: client credentials with basic client auth (form-encoded id and secret) and in the body', async () => {
    for (const clientAuth of ['basic', 'body'] as const) {
      const auth = authenticator({
        principals: {
          svc: {
            scheme: 'oauth2',
            tokenEndpoint: { path: '/oauth/token' },
            clientId: 'client 1',
            clientSecret: 'sec/ret',
            scope: 'orders:read',
            clientAuth,
          },
        },
      });
      const credentials = await auth.credentials('svc');
      expect(credentials.headers).toEqual({ authorization: 'Bearer opaque-token' });
      expect(looksLikeJwt(credentials.token)).toBe(false);
      expect(credentials.renewAt! - credentials.obtainedAt).toBe(3600 * 800);
      expect(await probe(credentials.headers)).toBe(200);
    }
  });

  it('none: no headers, and the protected route refuses', async () => {
    const auth = authenticator({ principals: { anonymous: { scheme: 'none' } } });
    const credentials = await auth.credentials('anonymous');
    expect(credentials.headers).toEqual({});
    expect(await probe(credentials.headers)).toBe(401);
  });

  it('disposable: signs up as an admin with basic auth, then authenticates like the admin', async () => {
    const auth = authenticator({
      principals: { admin: { scheme: 'basic', username: 'ada', password: 'p@ss:w0rd', role: 'admin' } },
      disposable: {
        like: 'admin',
        signupAs: 'admin',
        signup: { path: '/users', body: { username: '{{username}}', password: '{{password}}' } },
        username: 'probe-{{random}}',
      },
    });
    const user = await auth.disposable('test');
    expect(user.username).toMatch(/^probe-[0-9a-f]{8}$/);
    expect(user.userId).toBe('42');
    expect(user.role).toBeUndefined();
    expect(user.evidence[0]).toBe('sign-up: POST /users -> 201');
    expect(await probe(user.headers)).toBe(200);
    expect(redacted).toContain(user.password);
  });

  it('an unknown principal is a config error naming the key', () => {
    const auth = authenticator({ principals: {} });
    expect(() => auth.principal('nobody')).toThrow(/auth.principals has no principal "nobody"/);
  });
});

describe('cookiePairs', () => {
  it('keeps name=value of each Set-Cookie, filtered by name', () => {
    const lines = ['sid=a=b; Path=/', 'theme=dark', 'broken'];
    expect(cookiePairs(lines)).toEqual(['sid=a=b', 'theme=dark']);
    expect(cookiePairs(lines, ['theme'])).toEqual(['theme=dark']);
  });
});

describe('auth config', () => {
  it('refuses a bearer principal with neither a token nor a login', () => {
    const result = authConfigSchema.safeParse({ principals: { a: { scheme: 'bearer' } } });
    expect(result.success).toBe(false);
  });
  it('refuses a request with both a JSON and a form body', () => {
    const result = authConfigSchema.safeParse({
      principals: { a: { scheme: 'cookie', login: { path: '/l', body: {}, form: {} } } },
    });
    expect(result.success).toBe(false);
  });
});
