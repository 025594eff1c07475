import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load-config.ts';
import { ConfigError } from '../core/errors.ts';
import referenceConfig from '../../readiness.config.ts';

const FILE = '/work/x/readiness.config.ts';
const base = (contract?: unknown) => ({
  name: 'demo',
  stages: ['boot', 'contract'],
  services: {
    db: { image: 'postgres:16', ports: [5432] },
    api: { image: 'example/api:1', ports: [8080], dependsOn: ['db'] },
  },
  ...(contract === undefined ? {} : { contract }),
});

function problems(raw: unknown): string[] {
  try {
    resolveConfig(raw, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    // The file is shown relative to the working directory; keep from its name on.
    return (error as ConfigError).problems.map((p) => p.slice(p.indexOf('readiness.config.ts: ')));
  }
  throw new Error('expected a ConfigError');
}

describe('contract config', () => {
  it('fills defaults: pact folder, pending off, timeouts, auth header lower-cased', () => {
    const config = resolveConfig(
      base({
        providers: {
          api: {
            service: 'api',
            port: 8080,
            principals: { u: { email: 'u@example.test', password: 'pw-123456' } },
            auth: { login: { method: 'POST', path: '/login', body: {} }, header: 'X-Token' },
            states: { 'a user exists': {} },
          },
        },
      }),
      FILE,
    );
    expect(config.contract).toMatchObject({
      pactDir: 'contracts/pacts',
      pending: { consumers: [], enablePending: false },
      timeoutMs: 180_000,
      logLevel: 'warn',
    });
    expect(config.contract?.providers['api']?.auth).toMatchObject({
      header: 'x-token',
      tokenPath: 'accessToken',
      value: 'Bearer {{token}}',
      maxAgeMs: 60_000,
    });
    expect(config.contract?.providers['api']?.states['a user exists']).toEqual({ vars: {}, steps: [], teardown: [] });
  });

  it('requires the contract key when the stage is enabled', () => {
    expect(problems(base())).toContainEqual(
      expect.stringMatching(/^readiness\.config\.ts: contract is required when stages lists "contract"/),
    );
  });

  it('names unknown services, unexposed ports and unknown principals by dotted key', () => {
    const found = problems(
      base({
        providers: {
          api: {
            service: 'api',
            port: 9999,
            principals: { u: { email: 'u@example.test' } },
            auth: { login: { path: '/login' }, defaultPrincipal: 'nobody' },
            setup: [{ kind: 'exec', service: 'cache', command: ['true'] }],
            states: {
              'x exists': {
                principal: 'ghost',
                steps: [{ kind: 'http', path: '/x', service: 'db' }],
              },
            },
          },
          other: { service: 'missing', port: 1 },
        },
      }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        'readiness.config.ts: contract.providers.api.port port 9999 is not in services.api.ports',
        'readiness.config.ts: contract.providers.api.auth.defaultPrincipal names unknown principal "nobody" (known: u)',
        'readiness.config.ts: contract.providers.api.setup[0].service names unknown service "cache"',
        'readiness.config.ts: contract.providers.api.states.x exists.principal names unknown principal "ghost" (known: u)',
        'readiness.config.ts: contract.providers.api.states.x exists.steps[0].port is required when the step calls another service ("db")',
        'readiness.config.ts: contract.providers.other.service names unknown service "missing"',
      ]),
    );
  });

  it('rejects a principal without auth and an empty provider list', () => {
    expect(
      problems(base({ providers: { api: { service: 'api', port: 8080, states: { s: { principal: 'u' } } } } })),
    ).toContainEqual(
      'readiness.config.ts: contract.providers.api.states.s.principal names principal "u" but contract.providers.api.auth is not set (how to log in)',
    );
    expect(problems(base({ providers: {} }))).toContainEqual(
      'readiness.config.ts: contract.providers declare at least one provider to verify',
    );
  });

  it('the reference config validates, with an absolute pact folder', () => {
    const config = resolveConfig(referenceConfig, '/work/main/readiness.config.ts');
    if (config.stages.includes('contract')) {
      expect(config.contract?.pactDir).toMatch(/^\/.*\/contracts\/pacts$/);
      expect(Object.keys(config.contract?.providers ?? {})).toEqual(['orders', 'payments']);
    } else {
      expect(config.contract).toBeUndefined();
    }
  });
});
