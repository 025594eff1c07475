import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { planBootStage } from './boot-checks.ts';

const handle: StackHandle = {
  schemaVersion: 1,
  runId: 'r',
  stack: 's',
  seed: 1,
  createdAt: new Date(0).toISOString(),
  ownerPid: 1,
  network: 'n',
  logsDir: '/tmp',
  services: {},
  toxiproxy: null,
};

describe('the boot plan (the reference config)', () => {
  it('declares one health check per service and one readiness-truth check per link, before any runs', async () => {
    const config = await loadConfig('readiness.config.ts', join(import.meta.dirname, '../..'));
    const plan = planBootStage({ config, handle, stage: 'boot', runDir: '/tmp', seed: 1 });
    expect(plan.map((c) => c.id)).toEqual([
      ...Object.keys(config.services).map((s) => `boot.healthy.${s}`),
      ...config.boot.readinessTruth.map((t) => `boot.readiness-truth.${t.service}.${t.link}`),
    ]);
    expect(config.boot.readinessTruth.length).toBeGreaterThan(0);
    expect(plan.every((c) => c.severity === 'critical')).toBe(true);
  });
});
