import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems, resolveConfig } from '../load-config.ts';
import { recoveryDrills } from './recovery.ts';

const FILE = join(process.cwd(), 'readiness.config.ts');

const health = { kind: 'http', port: 8080, path: '/health/ready' } as const;
const base = {
  name: 'shop',
  stages: ['boot', 'recovery'],
  services: {
    db: { image: 'postgres:16', ports: [5432] },
    api: { image: 'api:1', ports: [8080], health },
    'api-b': { image: 'api:1', ports: [8080], health },
    lb: { image: 'haproxy:2.6', ports: [8080] },
  },
};

const backup = {
  database: { service: 'db', name: 'app', user: 'app' },
  tables: ['orders'],
  services: ['api'],
  rtoTargetMs: 30_000,
  writesBeforeBackup: 0,
  writesAfterBackup: 0,
};

const problems = (config: unknown): string[] => configProblems(config, FILE);

describe('recovery config', () => {
  it('fills the Postgres defaults of a backup drill and runs only the configured drills', () => {
    const resolved = resolveConfig({ ...base, recovery: { backup } }, FILE);
    const recovery = resolved.recovery!;
    expect(recovery.backup?.commands.backup).toEqual([
      'pg_dump',
      '-U',
      '{user}',
      '-d',
      '{database}',
      '-Fc',
      '-f',
      '{file}',
    ]);
    expect(recovery.backup?.commands.restore[0]).toBe('pg_restore');
    expect(recoveryDrills(recovery)).toEqual(['backup-restore']);
  });

  it('names the missing recovery section when the stage is enabled', () => {
    expect(problems(base).join('\n')).toMatch(/readiness\.config\.ts: recovery .*required/);
  });

  it('names unknown services, ports and services without a health check, under recovery', () => {
    const found = problems({
      ...base,
      recovery: {
        backup: { ...backup, database: { ...backup.database, service: 'pg' }, services: ['lb'] },
        crash: { service: 'api', port: 9999 },
        rolling: { replicas: ['api', 'nope'], via: { service: 'lb', port: 8080 } },
        load: { requests: [{ path: '/v1/x' }], writesPerSec: 0 },
      },
    }).join('\n');
    expect(found).toMatch(/recovery\.backup\.database\.service names unknown service "pg"/);
    expect(found).toMatch(/recovery\.backup\.services\[0\] services\.lb has no health check/);
    expect(found).toMatch(/recovery\.crash\.port port 9999 is not in services\.api\.ports/);
    expect(found).toMatch(/recovery\.rolling\.replicas\[1\] names unknown service "nope"/);
  });

  it('refuses a rolling restart of a single replica and load drills without load', () => {
    const found = problems({
      ...base,
      recovery: { rolling: { replicas: ['api'], via: { service: 'lb', port: 8080 } } },
    }).join('\n');
    expect(found).toMatch(/recovery\.rolling\.replicas needs at least two replicas/);
    expect(found).toMatch(/recovery\.load is required/);
  });

  it('fills the shutdown drill defaults and names its problems under recovery.shutdown', () => {
    const shutdown = {
      replicas: ['api', 'api-b'],
      port: 8080,
      via: { service: 'lb', port: 8080 },
      requests: [
        { method: 'POST', path: '/v1/users', body: { email: 'x+{{uuid}}@example.test' }, expectStatus: [201] },
      ],
    } as const;
    const load = { requests: [{ path: '/v1/x' }], writesPerSec: 0 };
    const recovery = resolveConfig({ ...base, recovery: { shutdown, load } }, FILE).recovery!;
    expect(recoveryDrills(recovery)).toEqual(['shutdown']);
    expect(recovery.shutdown).toMatchObject({ burst: 8, signalAfterMs: 50, stopTimeoutSec: 15 });
    const found = problems({
      ...base,
      recovery: { shutdown: { ...shutdown, replicas: ['lb', 'db'], port: 9999 } },
    }).join('\n');
    expect(found).toMatch(/recovery\.shutdown\.replicas\[0\] is the entry point itself/);
    expect(found).toMatch(/recovery\.shutdown\.replicas\[1\] services\.db has no health check/);
    expect(found).toMatch(/recovery\.shutdown\.port port 9999 is not in services\.lb\.ports/);
    expect(found).toMatch(/recovery\.load is required by the crash, rolling-restart and shutdown drills/);
    expect(problems({ ...base, recovery: { shutdown: { ...shutdown, replicas: ['api'] }, load } }).join('\n')).toMatch(
      /recovery\.shutdown\.replicas needs at least two replicas/,
    );
  });

  it('refuses ledger writes without a ledger, and a drill listed without its section', () => {
    const found = problems({
      ...base,
      recovery: { drills: ['crash'], backup: { ...backup, writesAfterBackup: 3 } },
    }).join('\n');
    expect(found).toMatch(/recovery\.drills lists "crash" but recovery\.crash is not declared/);
    expect(found).toMatch(/recovery\.backup\.writesBeforeBackup ledger writes need recovery\.ledger/);
  });

  it('rejects a table name the default query could not quote', () => {
    const found = problems({ ...base, recovery: { backup: { ...backup, tables: ['orders; drop'] } } }).join('\n');
    expect(found).toMatch(/recovery\.backup\.tables\[0\] letters/);
  });

  it('a config still using recovery.session is refused, naming the key and the fix', () => {
    const found = problems({
      ...base,
      recovery: { backup, session: { login: { path: '/login', body: {}, tokenField: 'token' } } },
    });
    expect(found).toEqual([
      "readiness.config.ts: recovery.session was removed: declare who the stage acts as in recovery.as (a principal of the top-level auth.principals, or 'disposable' for a throwaway user of auth.disposable) and the login in auth; see docs/auth.md",
    ]);
  });

  it('load requests with auth: true need recovery.as, naming the request; a principal of auth satisfies it', () => {
    const load = {
      requests: [{ path: '/health' }, { path: '/v1/orders', auth: true, headers: { 'X-Tenant': 't1' } }],
      writesPerSec: 0,
    };
    const crash = { service: 'api', port: 8080 };
    expect(problems({ ...base, recovery: { crash, load } }).join('\n')).toMatch(
      /recovery\.load\.requests\[1\]\.auth a request with auth: true is sent as recovery\.as, which is not set/,
    );
    const auth = { principals: { robot: { scheme: 'apiKey', header: 'X-Api-Key', key: 'k' } } };
    const resolved = resolveConfig({ ...base, auth, recovery: { as: 'robot', crash, load } }, FILE);
    expect(resolved.recovery?.load?.requests[1]?.headers).toEqual({ 'X-Tenant': 't1' });
  });
});
