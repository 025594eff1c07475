import { describe, expect, it } from 'vitest';
import { credentialHeaderNames } from './auth.ts';
import { configSchema } from './schema.ts';

const base = {
  name: 'auth-test',
  services: { api: { image: 'api:1', ports: [8080], env: { ADMIN_PASSWORD: 'x' } } },
};

const problems = (auth: unknown): string[] => {
  const result = configSchema.safeParse({ ...base, auth });
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('auth config cross-checks', () => {
  it('accepts principals whose references hold', () => {
    expect(
      problems({
        target: { service: 'api', port: 8080 },
        principals: {
          admin: {
            scheme: 'basic',
            username: 'admin',
            password: { fromServiceEnv: { service: 'api', key: 'ADMIN_PASSWORD' } },
          },
        },
        disposable: { like: 'admin', signupAs: 'admin', signup: { path: '/v1/users' } },
      }),
    ).toEqual([]);
  });

  it('names each broken reference by its key', () => {
    expect(
      problems({
        target: { service: 'api', port: 9999 },
        principals: {
          admin: { scheme: 'basic', username: 'admin', password: { fromServiceEnv: { service: 'api', key: 'NOPE' } } },
          svc: {
            scheme: 'oauth2',
            tokenEndpoint: { path: '/token', service: 'idp' },
            clientId: 'a',
            clientSecret: 'b',
          },
          key: { scheme: 'apiKey', header: 'x-api-key', key: 'k' },
        },
        disposable: { like: 'key', signupAs: 'ghost', signup: { path: '/v1/users' } },
      }),
    ).toEqual([
      'auth.target.port: port 9999 is not in services.api.ports',
      'auth.principals.admin.password.fromServiceEnv.key: "NOPE" is not in services.api.env',
      'auth.principals.svc.tokenEndpoint.service: names unknown service "idp"',
      'auth.disposable.like: principal "key" authenticates by a fixed secret: a new user cannot; name one with a login or basic credentials',
      'auth.disposable.signupAs: names unknown principal "ghost"',
    ]);
  });
});

describe('credentialHeaderNames', () => {
  it('names the header each scheme sends its credential in', () => {
    const parsed = configSchema.parse({
      ...base,
      auth: {
        principals: {
          a: { scheme: 'basic', username: 'u', password: 'p' },
          b: { scheme: 'apiKey', header: 'X-Auth-Token', key: 'k' },
          c: { scheme: 'cookie', login: { path: '/login' } },
          d: { scheme: 'none' },
        },
      },
    });
    expect(credentialHeaderNames(parsed.auth)).toEqual(['authorization', 'x-auth-token', 'cookie']);
  });
});

describe('reserved principal name', () => {
  it('refuses a principal named disposable (the name of throwaway users)', () => {
    expect(problems({ principals: { disposable: { scheme: 'none' } } })).toEqual([
      'auth.principals.disposable: "disposable" is reserved for throwaway users (auth.disposable): name the principal otherwise',
    ]);
  });
});
