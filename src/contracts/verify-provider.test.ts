import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load-config.ts';
import { resolvedAuth } from './contract-checks.ts';
import { readSecrets } from './verify-provider.ts';

describe('secrets across the worker boundary', () => {
  it('reads the secrets the worker appended, skipping a line a kill cut short; none when it wrote none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-secrets-'));
    try {
      const file = join(dir, 'secrets.ndjson');
      await writeFile(file, `${JSON.stringify('tok-1')}\n${JSON.stringify('sid=a"b')}\n"cut-sh`);
      expect(await readSecrets(file)).toEqual(['tok-1', 'sid=a"b']);
      expect(await readSecrets(join(dir, 'missing.ndjson'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('hands the worker auth with value references resolved, and lists those secrets for the redactor', () => {
    const config = resolveConfig(
      {
        name: 'demo',
        stages: ['boot'],
        services: { api: { image: 'example/api:1', ports: [8080], env: { ADMIN_PW: 'from-env-pw', KEY: 'k-123456' } } },
        auth: {
          principals: {
            admin: {
              scheme: 'basic',
              username: 'admin',
              password: { fromServiceEnv: { service: 'api', key: 'ADMIN_PW' } },
            },
            robot: { scheme: 'apiKey', header: 'x-api-key', key: { fromServiceEnv: { service: 'api', key: 'KEY' } } },
            anonymous: { scheme: 'none' },
          },
        },
      },
      '/work/x/readiness.config.ts',
    );
    const { auth, secrets } = resolvedAuth(config);
    expect(auth.principals['admin']).toMatchObject({ scheme: 'basic', password: 'from-env-pw' });
    expect(auth.principals['robot']).toMatchObject({ scheme: 'apiKey', key: 'k-123456' });
    expect(auth.principals['anonymous']).toEqual({ scheme: 'none' });
    expect(secrets.sort()).toEqual(['from-env-pw', 'k-123456']);
  });
});
