import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { resolveConfig } from './load-config.ts';

const base = () => ({
  name: 'demo',
  services: {
    db: { image: 'postgres:16', ports: [5432] },
    api: { image: 'example/api:1', ports: [8080], dependsOn: ['db'] },
  },
  links: [{ service: 'db', port: 5432 }],
});

function problems(raw: unknown): string[] {
  try {
    resolveConfig(raw, '/work/x/readiness.config.ts');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('resolveConfig', () => {
  it('fills defaults and makes paths absolute', () => {
    const config = resolveConfig(base(), '/work/x/readiness.config.ts');
    expect(config.stages).toEqual(['boot']);
    expect(config.reportsDir).toBe('/work/x/reports');
    expect(config.policy.critical.severities).toEqual(['blocker', 'critical']);
    expect(config.services['db']?.env).toEqual({});
  });

  it('names file, dotted key and fix for an unknown key', () => {
    const raw = { ...base(), servces: {} };
    expect(problems(raw)).toContainEqual(
      expect.stringMatching(/readiness\.config\.ts: servces is not a known key; remove it/),
    );
  });

  it('names a nested wrong type with the received value', () => {
    const raw = base();
    (raw.services.db as Record<string, unknown>)['ports'] = ['5432'];
    expect(problems(raw)).toContainEqual(expect.stringMatching(/services\.db\.ports\[0\] .*received "5432"/));
  });

  it('says to use a ratio for a pass rate above 1', () => {
    const raw = { ...base(), policy: { stages: { load: { minPassRate: 95 } } } };
    expect(problems(raw)).toContainEqual(
      expect.stringMatching(/policy\.stages\.load\.minPassRate .*received 95.*use a ratio such as 0\.95/),
    );
  });

  it('rejects a dependsOn cycle and an unknown dependency', () => {
    const raw = base();
    (raw.services.db as Record<string, unknown>)['dependsOn'] = ['api'];
    (raw.services.api as Record<string, unknown>)['dependsOn'] = ['db', 'cache'];
    const found = problems(raw);
    expect(found).toContainEqual(expect.stringMatching(/services\.api\.dependsOn\[1\] names unknown service "cache"/));
    expect(found).toContainEqual(expect.stringMatching(/dependsOn has a cycle: (db -> api -> db|api -> db -> api)/));
  });

  it('rejects a link to a port the service does not expose, and two links on one port', () => {
    const raw = {
      ...base(),
      links: [
        { service: 'db', port: 5433 },
        { service: 'api', name: 'api2', port: 8080 },
        { service: 'api', port: 8080 },
      ],
    };
    const found = problems(raw);
    expect(found).toContainEqual(expect.stringMatching(/links\[0\]\.port port 5433 is not in services\.db\.ports/));
    expect(found).toContainEqual(expect.stringMatching(/links\[2\]\.port port 8080 is used by another link/));
  });

  it('normalises dependsOn to names plus how long to wait for each', () => {
    const raw = base();
    (raw.services.api as Record<string, unknown>)['dependsOn'] = [{ service: 'db', until: 'started' }];
    const config = resolveConfig(raw, '/work/x/readiness.config.ts');
    expect(config.services['api']?.dependsOn).toEqual(['db']);
    expect(config.services['api']?.waitUntil).toEqual({ db: 'started' });
    expect(
      problems({
        ...raw,
        services: { ...raw.services, api: { image: 'a:1', dependsOn: [{ service: 'db', until: 'soon' }] } },
      }),
    ).toContainEqual(expect.stringMatching(/services\.api\.dependsOn\[0\]/));
  });

  it('requires exactly one of image or build', () => {
    const raw = base();
    (raw.services.api as Record<string, unknown>)['build'] = { context: '.' };
    expect(problems(raw)).toContainEqual(
      expect.stringMatching(/services\.api needs exactly one of "image" or "build"/),
    );
  });

  it('rejects an empty or unknown stage list', () => {
    expect(problems({ ...base(), stages: [] })).toContainEqual(
      expect.stringMatching(/stages enable at least one stage/),
    );
    expect(problems({ ...base(), stages: ['boot', 'smoke'] })).toContainEqual(expect.stringMatching(/stages\[1\]/));
  });
});
