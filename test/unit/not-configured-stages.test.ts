import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootNotConfigured } from '../../src/boot/boot-checks.ts';
import { loadConfig, resolveConfig } from '../../src/config/index.ts';
import { checkResultSchema } from '../../src/core/check-result.ts';
import { recoveryNotConfigured } from '../../src/recovery/recovery-stage.ts';
import { notConfiguredCheck } from '../../src/runner/index.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('boot and recovery families the config does not configure (issue 14 point 3)', () => {
  it('the reference config configures readiness truth and every recovery drill: nothing is not configured', async () => {
    const config = await loadConfig('readiness.config.ts', ROOT);
    expect(bootNotConfigured(config)).toEqual([]);
    expect(config.recovery).toBeDefined();
    if (config.recovery) expect(recoveryNotConfigured(config.recovery)).toEqual([]);
  });

  it('no readiness-truth link and no replica group: one not-configured boot check each, naming its key', () => {
    const config = resolveConfig({ name: 'u', services: { api: { image: 'a:1' } } }, join(ROOT, 'x.config.ts'));
    const families = bootNotConfigured(config);
    expect(families.map((f) => [f.id, f.key])).toEqual([
      ['boot.readiness-truth.not-configured', 'boot.readinessTruth'],
      ['boot.replicas.not-configured', 'boot.replicas'],
    ]);
    const [family] = families;
    if (!family) throw new Error('no family');
    expect(checkResultSchema.parse({ ...notConfiguredCheck(family, 5), stage: 'boot' })).toMatchObject({
      status: 'not-applicable',
      severity: 'normal',
      message: 'Not configured: boot.readinessTruth is not set',
      tags: ['not-configured'],
    });
  });

  it('each recovery drill whose section is unset is one not-configured check naming its key', async () => {
    const config = await loadConfig('readiness.config.ts', ROOT);
    const recovery = config.recovery;
    if (!recovery) throw new Error('the reference config has no recovery section');
    const { backup: _backup, rolling: _rolling, shutdown: _shutdown, ...onlyCrash } = recovery;
    expect(recoveryNotConfigured({ ...onlyCrash, drills: ['crash'] }).map((f) => [f.id, f.key])).toEqual([
      ['recovery.backup-restore.not-configured', 'recovery.backup'],
      ['recovery.rolling-restart.not-configured', 'recovery.rolling'],
      ['recovery.shutdown.not-configured', 'recovery.shutdown'],
    ]);
  });
});
