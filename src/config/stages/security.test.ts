import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems, resolveConfig } from '../load-config.ts';

// Inside the working directory, so messages name the file as `readiness.config.ts`.
const FILE = join(process.cwd(), 'readiness.config.ts');

const base = {
  name: 'shop',
  stages: ['boot', 'security'],
  services: {
    db: { image: 'postgres:16', ports: [5432] },
    api: { image: 'api:1', ports: [8080], env: { JWT_SECRET: 's3cret', PASSWORD_ALICE: 'pw' } },
  },
};

const login = { method: 'POST', path: '/login', body: { email: '{{username}}', password: '{{password}}' } } as const;

/** Principals and throwaway users of the top-level `auth`, which the security stage acts as. */
const auth = {
  principals: {
    alice: {
      scheme: 'bearer',
      username: 'alice@example.test',
      password: { fromServiceEnv: { service: 'api', key: 'PASSWORD_ALICE' } },
      role: 'customer',
      login,
    },
    bob: { scheme: 'basic', username: 'bob@example.test', password: 'literal', role: 'customer' },
  },
  disposable: { like: 'alice', signup: { method: 'POST', path: '/users', body: { email: '{{username}}' } } },
};

const security = {
  target: { service: 'api', port: 8080 },
  rulesFile: 'rules.tsv',
  auth: { probe: { path: '/me' }, rejectStatus: 401 },
};

const problems = (config: unknown): string[] => configProblems(config, FILE);

describe('security config', () => {
  it('fills defaults: statuses become lists, scanners on, policy as ZAP', () => {
    const config = resolveConfig({ ...base, auth, security }, FILE);
    expect(config.security?.auth.rejectStatus).toEqual([401]);
    expect(config.security?.schemathesis).toMatchObject({
      enabled: true,
      maxExamples: 20,
      phases: ['examples', 'fuzzing'],
    });
    expect(config.security?.zap).toMatchObject({ enabled: true, image: 'ghcr.io/zaproxy/zaproxy:stable' });
    expect(config.security?.policy).toEqual({ failOn: 'FAIL', unlisted: 'WARN' });
    expect(config.security?.openapi).toEqual({ path: '/openapi.json' });
  });

  it('takes the OpenAPI document from the service, a file or none, and names a wrong shape (issue 14 point 4)', () => {
    const openapi = (value: unknown) =>
      resolveConfig({ ...base, auth, security: { ...security, openapi: value } }, FILE);
    expect(openapi({ path: '/v3/api-docs' }).security?.openapi).toEqual({ path: '/v3/api-docs' });
    expect(openapi({ file: 'api/openapi.yaml' }).security?.openapi).toEqual({ file: 'api/openapi.yaml' });
    expect(openapi(false).security?.openapi).toBe(false);
    const problem = (value: unknown) => problems({ ...base, auth, security: { ...security, openapi: value } });
    expect(problem({ path: '/openapi.json', file: 'openapi.json' })).toEqual([
      'readiness.config.ts: security.openapi.file is not a known key; remove it or check the spelling',
    ]);
    expect(problem({ file: '' })).toEqual([
      'readiness.config.ts: security.openapi.file must not be empty (received "")',
    ]);
    expect(problem('openapi.json')).toEqual([
      'readiness.config.ts: security.openapi must be an object (received "openapi.json")',
    ]);
    // The old key is gone: a config still using it is told so.
    expect(problems({ ...base, auth, security: { ...security, openapiPath: '/openapi.json' } })).toEqual([
      'readiness.config.ts: security.openapiPath is not a known key; remove it or check the spelling',
    ]);
  });

  it('is required when the stage is enabled', () => {
    expect(problems(base)).toEqual([
      'readiness.config.ts: security is required when stages includes "security" (target, auth, rulesFile)',
    ]);
    expect(problems({ ...base, stages: ['boot'] })).toEqual([]);
  });

  it('names each cross-reference problem by its dotted key', () => {
    const bad = {
      ...base,
      auth,
      security: {
        ...security,
        target: { service: 'api', port: 9999 },
        auth: {
          ...security.auth,
          jwt: { secret: { fromServiceEnv: { service: 'ghost', key: 'K' } }, issuer: 'i', audience: 'a' },
        },
        authz: {
          rbac: [{ request: { path: '/admin' }, expect: { auditor: 403, anonymous: 401 } }],
          objects: [
            {
              name: 'order',
              create: { method: 'POST', path: '/o' },
              read: { path: '/o/{id}' },
              owner: 'alice',
              other: 'zed',
            },
          ],
        },
        compliance: { audit: { request: { path: '/audit' }, as: 'nobody' }, logServices: ['cache'] },
        injection: { privilegedUser: 'root' },
      },
    };
    expect(problems(bad)).toEqual([
      'readiness.config.ts: security.target.port port 9999 is not in services.api.ports',
      'readiness.config.ts: security.auth.jwt.secret.fromServiceEnv.service names unknown service "ghost"',
      'readiness.config.ts: security.authz.rbac[0].expect.auditor no principal of auth.principals has role "auditor" (roles: customer; or "anonymous")',
      'readiness.config.ts: security.authz.objects[0].other names unknown principal "zed" (auth.principals: alice, bob)',
      'readiness.config.ts: security.injection.privilegedUser names unknown principal "root" (auth.principals: alice, bob)',
      'readiness.config.ts: security.compliance.audit.as names unknown principal "nobody" (auth.principals: alice, bob)',
      'readiness.config.ts: security.compliance.logServices[0] names unknown service "cache"',
    ]);
  });

  it('rejects unknown keys and a malformed rate', () => {
    expect(problems({ ...base, auth, security: { ...security, zapp: {} } })).toEqual([
      'readiness.config.ts: security.zapp is not a known key; remove it or check the spelling',
    ]);
    expect(problems({ ...base, auth, security: { ...security, schemathesis: { rateLimit: 'fast' } } })).toEqual([
      'readiness.config.ts: security.schemathesis.rateLimit a rate such as 9/s (received "fast")',
    ]);
  });

  it('takes principals and throwaway users from auth (issue 14 point 2): the old keys are gone, auth.disposable is required', () => {
    expect(
      problems({
        ...base,
        auth,
        security: {
          ...security,
          users: { alice: { username: 'a', password: 'p', role: 'customer' } },
          throwaway: { signup: { method: 'POST', path: '/users' } },
          auth: { ...security.auth, login: { request: { method: 'POST', path: '/login' } } },
        },
      }),
    ).toEqual([
      'readiness.config.ts: security.auth.login is not a known key; remove it or check the spelling',
      'readiness.config.ts: security.users is not a known key; remove it or check the spelling',
      'readiness.config.ts: security.throwaway is not a known key; remove it or check the spelling',
    ]);
    const { disposable: _disposable, ...withoutDisposable } = auth;
    expect(problems({ ...base, auth: withoutDisposable, security })).toEqual([
      'readiness.config.ts: auth.disposable is required by the security stage: its checks that lock, erase or exhaust an account act as throwaway users (auth.disposable: { like, signup })',
    ]);
    expect(problems({ ...base, security })).toEqual([
      'readiness.config.ts: auth.disposable is required by the security stage: its checks that lock, erase or exhaust an account act as throwaway users (auth.disposable: { like, signup })',
    ]);
    // Roles are the principals' own.
    const rbac = [{ request: { path: '/admin' }, expect: { customer: 403, anonymous: 401 } }];
    expect(problems({ ...base, auth, security: { ...security, authz: { rbac } } })).toEqual([]);
  });
});
