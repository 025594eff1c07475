import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { UNIT_HANDLE } from '../../test/support/stage.ts';
import { planRecoveryStage } from './recovery-stage.ts';

const ROOT = join(import.meta.dirname, '../..');
const handle = UNIT_HANDLE;

describe('the recovery plan (the reference config)', () => {
  it('declares every check of every configured drill before any drill runs, with its severity', async () => {
    const config = await loadConfig('readiness.config.ts', ROOT);
    const plan = planRecoveryStage({ config, handle, stage: 'recovery', runDir: '/tmp', seed: 1 });
    expect(plan.map((c) => [c.id, c.severity])).toEqual([
      ['recovery.backup.taken', 'critical'],
      ['recovery.backup.integrity', 'critical'],
      ['recovery.backup.rto', 'critical'],
      ['recovery.backup.rpo', 'critical'],
      ['recovery.crash.back', 'blocker'],
      ['recovery.crash.ledger', 'blocker'],
      ['recovery.rolling.replicas', 'critical'],
      ['recovery.rolling.zero-downtime', 'critical'],
      ['recovery.shutdown.in-flight', 'critical'],
      ['recovery.shutdown.routing', 'critical'],
    ]);
    expect(plan.find((c) => c.id === 'recovery.backup.rto')?.name).toBe(
      'Services back after the restore within the RTO (30000ms)',
    );
  });

  it('plans only the drills recovery.drills picks', async () => {
    const config = await loadConfig('readiness.config.ts', ROOT);
    const recovery = config.recovery;
    if (!recovery) throw new Error('the reference config has a recovery stage');
    const plan = planRecoveryStage({
      config: { ...config, recovery: { ...recovery, drills: ['crash'] } },
      handle,
      stage: 'recovery',
      runDir: '/tmp',
      seed: 1,
    });
    expect(plan.map((c) => c.id)).toEqual(['recovery.crash.back', 'recovery.crash.ledger']);
  });
});
