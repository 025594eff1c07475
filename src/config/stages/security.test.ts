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

const security = {
  target: { service: 'api', port: 8080 },
  rulesFile: 'rules.tsv',
  users: {
    alice: {
      username: 'alice@example.test',
      password: { fromServiceEnv: { service: 'api', key: 'PASSWORD_ALICE' } },
      role: 'customer',
    },
    bob: { username: 'bob@example.test', password: 'literal', role: 'customer' },
  },
  throwaway: { signup: { method: 'POST', path: '/users', body: { email: '{username}', password: '{password}' } } },
  auth: { login: { request: { method: 'POST', path: '/login' } }, probe: { path: '/me' }, rejectStatus: 401 },
};

const problems = (config: unknown): string[] => configProblems(config, FILE);

describe('security config', () => {
  it('fills defaults: statuses become lists, scanners on, policy as ZAP', () => {
    const config = resolveConfig({ ...base, security }, FILE);
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
    const openapi = (value: unknown) => resolveConfig({ ...base, security: { ...security, openapi: value } }, FILE);
    expect(openapi({ path: '/v3/api-docs' }).security?.openapi).toEqual({ path: '/v3/api-docs' });
    expect(openapi({ file: 'api/openapi.yaml' }).security?.openapi).toEqual({ file: 'api/openapi.yaml' });
    expect(openapi(false).security?.openapi).toBe(false);
    const problem = (value: unknown) => problems({ ...base, security: { ...security, openapi: value } });
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
    expect(problems({ ...base, security: { ...security, openapiPath: '/openapi.json' } })).toEqual([
      'readiness.config.ts: security.openapiPath is not a known key; remove it or check the spelling',
    ]);
  });

  it('is required when the stage is enabled', () => {
    expect(problems(base)).toEqual([
      'readiness.config.ts: security is required when stages includes "security" (target, users, throwaway, auth, rulesFile)',
    ]);
    expect(problems({ ...base, stages: ['boot'] })).toEqual([]);
  });

  it('names each cross-reference problem by its dotted key', () => {
    const bad = {
      ...base,
      security: {
        ...security,
        target: { service: 'api', port: 9999 },
        users: {
          ...security.users,
          carol: { username: 'c', password: { fromServiceEnv: { service: 'api', key: 'NOPE' } }, role: 'admin' },
        },
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
      'readiness.config.ts: security.users.carol.password.fromServiceEnv.key "NOPE" is not in services.api.env',
      'readiness.config.ts: security.auth.jwt.secret.fromServiceEnv.service names unknown service "ghost"',
      'readiness.config.ts: security.authz.rbac[0].expect.auditor no user has role "auditor" (roles: customer, admin; or "anonymous")',
      'readiness.config.ts: security.authz.objects[0].other names unknown user "zed"',
      'readiness.config.ts: security.injection.privilegedUser names unknown user "root"',
      'readiness.config.ts: security.compliance.audit.as names unknown user "nobody"',
      'readiness.config.ts: security.compliance.logServices[0] names unknown service "cache"',
    ]);
  });

  it('rejects unknown keys and a malformed rate', () => {
    expect(problems({ ...base, security: { ...security, zapp: {} } })).toEqual([
      'readiness.config.ts: security.zapp is not a known key; remove it or check the spelling',
    ]);
    expect(problems({ ...base, security: { ...security, schemathesis: { rateLimit: 'fast' } } })).toEqual([
      'readiness.config.ts: security.schemathesis.rateLimit a rate such as 9/s (received "fast")',
    ]);
  });
});
