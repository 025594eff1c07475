import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import type { CheckResult } from '../core/check-result.ts';
import type { HostLoadSampler } from '../runner/host-load.ts';
import { runCheck } from '../runner/suite.ts';
import { UNIT_HANDLE, recordingContext } from '../../test/support/stage.ts';
import { planRecoveryStage, recoveryCheckSpecs } from './recovery-stage.ts';

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

describe('recovery checks under a saturated host (issue 16 point 9)', () => {
  const busy: HostLoadSampler = { sample: () => ({ loadPerCore: 9, cores: 2 }) };

  it('deadlines and request failures a busy host can cause are timing checks; data checks are not', async () => {
    const config = await loadConfig('readiness.config.ts', ROOT);
    if (!config.recovery) throw new Error('the reference config has a recovery stage');
    const timing = recoveryCheckSpecs(config.recovery)
      .filter((s) => s.judgesTiming === true)
      .map((s) => s.id);
    expect(timing).toEqual([
      'recovery.backup.rto',
      'recovery.crash.back',
      'recovery.rolling.replicas',
      'recovery.rolling.zero-downtime',
      'recovery.shutdown.in-flight',
      'recovery.shutdown.routing',
    ]);
  });

  it('a missed RTO on a saturated host is broken (the host’s); a lost write is failed whatever the load', async () => {
    const config = await loadConfig('readiness.config.ts', ROOT);
    if (!config.recovery) throw new Error('the reference config has a recovery stage');
    const specs = recoveryCheckSpecs(config.recovery);
    const recorded: CheckResult[] = [];
    const context = recordingContext(config, 'recovery', await mkdtemp(join(tmpdir(), 'recovery-load-')), recorded, {
      hostLoad: busy,
    });
    const spec = (id: string) => {
      const found = specs.find((s) => s.id === id);
      if (!found) throw new Error(`${id} is not planned`);
      return found;
    };
    const rto = await runCheck(context, spec('recovery.backup.rto'), () =>
      Promise.resolve({ status: 'failed', message: 'healthy again after 41000ms, RTO 30000ms' }),
    );
    expect(rto.status).toBe('broken');
    expect(rto.message).toMatch(/^host saturated during the judgement/);
    const ledger = await runCheck(context, spec('recovery.crash.ledger'), () =>
      Promise.resolve({ status: 'failed', message: '3 acknowledged writes missing after the restart' }),
    );
    expect(ledger.status).toBe('failed');
  });
});
