import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCritical } from '../../src/certify/policy.ts';
import { evaluateVerdict } from '../../src/certify/verdict.ts';
import { recordStagesNotRun } from '../../src/cli/commands/certify.ts';
import { resolveConfig } from '../../src/config/index.ts';
import { createRedactor } from '../../src/core/redact.ts';
import { readCheckResults, writeCheckResult } from '../../src/core/results.ts';
import { recordLine, runBootStage } from '../support/stage.ts';

const record = (id: string, status: string, severity = 'critical') => recordLine(id, status, severity);

/** A boot stage of two suites: `a` records `first` and then waits for the stage signal (more work), `b` records one check. */
async function bootStage(first: { status: string; severity: string }, failFast: boolean) {
  return runBootStage(
    {
      'a.suite.ts': `export default { stage: 'boot', name: 'a',
      plan: () => [{ id: 'boot.a.first', name: 'first', feature: 'f', severity: 'critical' }, { id: 'boot.a.later', name: 'later', feature: 'f', severity: 'critical' }],
      run: async (ctx) => {
        ctx.teardowns.add('rollback', () => ctx.record({ id: 'boot.a.rolled-back', name: 'rolled back', feature: 'f', severity: 'normal', status: 'passed', startedAt: 0, finishedAt: 0 }));
        ${record('boot.a.first', first.status, first.severity)}
        // More work: ends when the stage is stopped, or records its check.
        if (!ctx.signal.aborted) ${record('boot.a.later', 'passed')}
      } };`,
      'b.suite.ts': `export default { stage: 'boot', name: 'b',
      plan: () => [{ id: 'boot.b', name: 'b', feature: 'f', severity: 'normal' }],
      run: async (ctx) => { ${record('boot.b', 'passed', 'normal')} } };`,
    },
    { run: (config) => (failFast ? { failFast: { isCritical: (check) => isCritical(check, config.policy) } } : {}) },
  );
}

const reason = 'not run: --fail-fast stopped after boot.a.first failed';

describe('--fail-fast in runStage', () => {
  it('a failed critical check stops the stage: the rest of its suite and the next suite do not run, teardowns do', async () => {
    const { results, resultsDir } = await bootStage({ status: 'failed', severity: 'critical' }, true);
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['boot.a.first', 'failed'],
      ['boot.a.rolled-back', 'passed'],
      ['boot.a.later', 'unknown'],
      ['boot.b', 'unknown'],
    ]);
    // No broken check: stopping is deliberate, the system failed.
    expect(results.filter((r) => r.status === 'broken')).toEqual([]);
    expect(results[2]?.message).toBe(`Planned but not recorded: ${reason}`);
    expect(results[3]?.message).toBe(`Planned but not recorded: ${reason}`);
    expect((await readCheckResults(resultsDir)).checks).toHaveLength(4);
  });

  it('a failed check that is not critical does not stop the stage', async () => {
    const { results } = await bootStage({ status: 'failed', severity: 'normal' }, true);
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['boot.a.first', 'failed'],
      ['boot.a.later', 'passed'],
      ['boot.a.rolled-back', 'passed'],
      ['boot.b', 'passed'],
    ]);
  });

  it('a broken critical check does not stop the stage (the harness failed, not the system)', async () => {
    const { results } = await bootStage({ status: 'broken', severity: 'critical' }, true);
    expect(results.map((r) => r.id)).toEqual(['boot.a.first', 'boot.a.later', 'boot.a.rolled-back', 'boot.b']);
  });

  it('without the flag a failed critical check stops nothing', async () => {
    const { results } = await bootStage({ status: 'failed', severity: 'critical' }, false);
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['boot.a.first', 'failed'],
      ['boot.a.later', 'passed'],
      ['boot.a.rolled-back', 'passed'],
      ['boot.b', 'passed'],
    ]);
  });
});

describe('--fail-fast in the certification', () => {
  it('the stages not run are unknown critical checks: NOT CERTIFIED, exit 1, a reason naming --fail-fast', async () => {
    const { results, resultsDir, config } = await bootStage({ status: 'failed', severity: 'critical' }, true);
    const stoppedBy = results[0];
    if (!stoppedBy) throw new Error('no check recorded');
    await recordStagesNotRun(resultsDir, ['contract', 'load'], stoppedBy, createRedactor(), 0);
    const { checks } = await readCheckResults(resultsDir);
    const notRun = checks.filter((c) => c.id.endsWith('.not-run')).sort((a, b) => a.id.localeCompare(b.id));
    expect(notRun.map((c) => [c.id, c.stage, c.status, c.severity])).toEqual([
      ['contract.not-run', 'contract', 'unknown', 'critical'],
      ['load.not-run', 'load', 'unknown', 'critical'],
    ]);
    const verdict = evaluateVerdict({
      checks,
      enabledStages: ['boot', 'contract', 'load'],
      selectedStages: ['boot', 'contract', 'load'],
      policy: config.policy,
    });
    expect(verdict.verdict).toBe('NOT_CERTIFIED');
    expect(verdict.exitCode).toBe(1);
    expect(verdict.reasons.map((r) => r.text)).toContain(
      'Critical check contract.not-run ("Stage contract ran") in stage contract is unknown: not run: --fail-fast stopped after boot.a.first failed (stage boot)',
    );
  });

  it('without a failed check the not-run stages alone never certify (exit 3, missing evidence)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fail-fast-'));
    const config = resolveConfig(
      { name: 'unit', services: { api: { image: 'a:1' } } },
      join(dir, 'readiness.config.ts'),
    );
    await writeCheckResult(
      dir,
      {
        id: 'boot.ok',
        stage: 'boot',
        name: 'ok',
        feature: 'f',
        severity: 'critical',
        status: 'passed',
        startedAt: 0,
        finishedAt: 0,
      },
      createRedactor(),
    );
    await recordStagesNotRun(dir, ['chaos'], { id: 'boot.x', stage: 'boot' }, createRedactor(), 0);
    const verdict = evaluateVerdict({
      checks: (await readCheckResults(dir)).checks,
      enabledStages: ['boot', 'chaos'],
      selectedStages: ['boot', 'chaos'],
      policy: config.policy,
    });
    expect(verdict.verdict).toBe('NOT_CERTIFIED');
    expect(verdict.exitCode).toBe(3);
  });
});

describe('readiness certify --fail-fast (spawned)', () => {
  it('is a known option, described in certify --help', () => {
    const main = join(import.meta.dirname, '../../src/cli/main.ts');
    const result = spawnSync(process.execPath, [main, 'certify', '--fail-fast', '--help'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--fail-fast stops at the first failed critical check');
  });
});
