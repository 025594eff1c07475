import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { UNIT_HANDLE } from '../../test/support/stage.ts';
import { planBootStage } from './boot-checks.ts';

const handle = UNIT_HANDLE;

describe('the boot plan (the reference config)', () => {
  it('declares one health check per service, one readiness-truth check per link and one check per replica group, before any runs', async () => {
    const config = await loadConfig('readiness.config.ts', join(import.meta.dirname, '../..'));
    const plan = planBootStage({ config, handle, stage: 'boot', runDir: '/tmp', seed: 1 });
    expect(plan.map((c) => c.id)).toEqual([
      ...Object.keys(config.services).map((s) => `boot.healthy.${s}`),
      ...config.boot.readinessTruth.map((t) => `boot.readiness-truth.${t.service}.${t.link}`),
      ...config.boot.replicas.map((g) => `boot.replicas.${g.name}`),
    ]);
    expect(config.boot.readinessTruth.length).toBeGreaterThan(0);
    expect(config.boot.replicas.length).toBeGreaterThan(0);
    expect(plan.every((c) => c.severity === 'critical')).toBe(true);
  });
});
