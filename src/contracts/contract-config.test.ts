import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load-config.ts';
import { ConfigError } from '../core/errors.ts';
import referenceConfig from '../../readiness.config.ts';

const FILE = '/work/x/readiness.config.ts';
const base = (contract?: unknown, auth?: unknown) => ({
  name: 'demo',
  stages: ['boot', 'contract'],
  services: {
    db: { image: 'postgres:16', ports: [5432] },
    api: { image: 'example/api:1', ports: [8080], dependsOn: ['db'] },
  },
  ...(auth === undefined ? {} : { auth }),
  ...(contract === undefined ? {} : { contract }),
});

/** A top-level auth with one basic principal `u` (and no throwaway users). */
const AUTH = { principals: { u: { scheme: 'basic', username: 'u@example.test', password: 'pw-123456' } } };

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
      base(
        {
          providers: {
            api: {
              service: 'api',
              port: 8080,
              auth: { header: 'X-Token', defaultPrincipal: 'u' },
              states: { 'a user exists': {} },
            },
          },
        },
        AUTH,
      ),
      FILE,
    );
    expect(config.contract).toMatchObject({
      pactDir: 'contracts/pacts',
      pending: { consumers: [], enablePending: false },
      timeoutMs: 180_000,
      logLevel: 'warn',
    });
    expect(config.contract?.providers['api']?.auth).toEqual({ header: 'x-token', defaultPrincipal: 'u' });
    expect(config.contract?.providers['api']?.states['a user exists']).toEqual({ vars: {}, steps: [], teardown: [] });
  });

  it('requires the contract key when the stage is enabled', () => {
    expect(problems(base())).toContainEqual(
      expect.stringMatching(/^readiness\.config\.ts: contract is required when stages lists "contract"/),
    );
  });

  it('names unknown services, unexposed ports and principals that auth.principals lacks by dotted key', () => {
    const found = problems(
      base(
        {
          providers: {
            api: {
              service: 'api',
              port: 9999,
              auth: { defaultPrincipal: 'nobody' },
              setup: [{ kind: 'exec', service: 'cache', command: ['true'] }],
              states: {
                'x exists': {
                  principal: 'ghost',
                  steps: [{ kind: 'http', path: '/x', service: 'db' }],
                },
                'y exists': { steps: [{ kind: 'http', path: '/y', as: 'disposable' }] },
              },
            },
            other: { service: 'missing', port: 1 },
          },
        },
        AUTH,
      ),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        'readiness.config.ts: contract.providers.api.port port 9999 is not in services.api.ports',
        'readiness.config.ts: contract.providers.api.auth.defaultPrincipal names principal "nobody", which auth.principals does not declare (known: u)',
        'readiness.config.ts: contract.providers.api.setup[0].service names unknown service "cache"',
        'readiness.config.ts: contract.providers.api.states.x exists.principal names principal "ghost", which auth.principals does not declare (known: u)',
        'readiness.config.ts: contract.providers.api.states.y exists.steps[0].as names "disposable" but auth.disposable is not set (how to sign up a throwaway user)',
        'readiness.config.ts: contract.providers.api.states.x exists.steps[0].port is required when the step calls another service ("db")',
        'readiness.config.ts: contract.providers.other.service names unknown service "missing"',
      ]),
    );
  });

  it('rejects a principal when the config has no top-level auth, and an empty provider list', () => {
    expect(
      problems(base({ providers: { api: { service: 'api', port: 8080, states: { s: { principal: 'u' } } } } })),
    ).toContainEqual(
      'readiness.config.ts: contract.providers.api.states.s.principal names principal "u", which auth.principals does not declare (known: none)',
    );
    expect(problems(base({ providers: {} }))).toContainEqual(
      'readiness.config.ts: contract.providers declare at least one provider to verify',
    );
  });

  it('rejects the former per-provider principals and login keys, naming each and where it went', () => {
    const found = problems(
      base({
        providers: {
          api: {
            service: 'api',
            port: 8080,
            principals: { u: { email: 'u@example.test', password: 'pw-123456' } },
            auth: {
              login: { method: 'POST', path: '/login', body: {} },
              tokenPath: 'accessToken',
              expiresInPath: 'expiresIn',
              value: 'Bearer {{token}}',
              maxAgeMs: 60_000,
              defaultPrincipal: 'u',
            },
          },
        },
      }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        'readiness.config.ts: contract.providers.api.principals was removed: declare the principals in the top-level auth.principals (username, password, scheme); templates read them as {{principals.<name>.username}} (see docs/auth.md)',
        'readiness.config.ts: contract.providers.api.auth.login was removed: log in through the top-level auth.principals.<name> (scheme bearer with login, or another scheme) (see docs/auth.md)',
        'readiness.config.ts: contract.providers.api.auth.tokenPath was removed: the token field is auth.principals.<name>.tokenField (see docs/auth.md)',
        'readiness.config.ts: contract.providers.api.auth.expiresInPath was removed: the lifetime field is auth.principals.<name>.expiresInField (see docs/auth.md)',
        "readiness.config.ts: contract.providers.api.auth.value was removed: the header value is auth.principals.<name>.header/prefix (or the scheme's own) (see docs/auth.md)",
        'readiness.config.ts: contract.providers.api.auth.maxAgeMs was removed: renewal is auth.principals.<name>.maxAgeMs (or expiresInField) (see docs/auth.md)',
      ]),
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
