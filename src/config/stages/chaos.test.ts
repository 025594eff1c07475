import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems, resolveConfig } from '../load-config.ts';

const FILE = join(process.cwd(), 'readiness.config.ts');

const auth = {
  principals: { admin: { scheme: 'basic', username: 'admin', password: 'pw' }, anonymous: { scheme: 'none' } },
};
const ledger = {
  write: { path: '/items', body: { qty: '{{seq}}' } },
  read: { path: '/items/{id}' },
  list: { path: '/items' },
  fingerprint: ['qty'],
};
const base = {
  name: 'shop',
  stages: ['boot', 'chaos'],
  services: { api: { image: 'api:1', ports: [8080] } },
  auth,
};
const chaos = (extra: Record<string, unknown>) => ({
  ...base,
  chaos: { target: { service: 'api', port: 8080 }, ...extra },
});
const problems = (config: unknown): string[] => configProblems(config, FILE);

describe('chaos config: who the experiments act as', () => {
  it('a config still using chaos.session is refused, naming the key and the fix (auth, chaos.as, docs/auth.md)', () => {
    const found = problems(
      chaos({
        session: { login: { path: '/login', body: { email: '{{user}}' }, tokenField: 'accessToken' } },
      }),
    );
    expect(found).toEqual([
      "readiness.config.ts: chaos.session was removed: declare who the stage acts as in chaos.as (a principal of the top-level auth.principals, or 'disposable' for a throwaway user of auth.disposable) and the login in auth; see docs/auth.md",
    ]);
  });

  it('takes a principal of auth.principals, and ledger headers default to none', () => {
    const resolved = resolveConfig(chaos({ as: 'admin', ledger }), FILE);
    expect(resolved.chaos?.as).toBe('admin');
    expect(resolved.chaos?.ledger?.write.headers).toEqual({});
  });

  it('refuses an unknown principal, and disposable without auth.disposable', () => {
    expect(problems(chaos({ as: 'root' }))).toEqual([
      'readiness.config.ts: chaos.as names unknown principal "root": name a principal of auth.principals (admin, anonymous) or \'disposable\'; see docs/auth.md',
    ]);
    expect(problems(chaos({ as: 'disposable' })).join('\n')).toMatch(/chaos\.as 'disposable' needs auth\.disposable/);
    // Without chaos.as the ledger sends no credentials (an API without auth).
    expect(problems(chaos({ ledger }))).toEqual([]);
  });
});
