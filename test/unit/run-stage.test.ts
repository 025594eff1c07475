import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckResults } from '../../src/core/results.ts';
import { findStageSuites } from '../../src/runner/run-stage.ts';
import { recordLine, runBootStage } from '../support/stage.ts';

async function stageWith(suites: Record<string, string>, stageMs = 60_000, builtIn: Record<string, string> = {}) {
  return runBootStage(suites, { config: { deadlines: { stageMs } }, builtIn });
}

const record = (id: string, status: string) => recordLine(id, status);

describe('runStage', () => {
  it('a suite that hangs is cut at the stage deadline and recorded broken; its rollbacks still run', async () => {
    const { results, resultsDir } = await stageWith(
      {
        'hang.suite.ts': `export default { stage: 'boot', name: 'hang', run: async (ctx) => {
          ctx.teardowns.add('rollback', () => ctx.record({ id: 'boot.rolled-back', name: 'rolled back', feature: 'f', severity: 'normal', status: 'passed', startedAt: 0, finishedAt: 0 }));
          ${record('boot.before-hang', 'passed')}
          await new Promise(() => {});
        } };`,
      },
      800,
    );
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['boot.before-hang', 'passed'],
      ['boot.suite.hang', 'broken'],
      ['boot.rolled-back', 'passed'],
    ]);
    expect(results[1]?.message).toContain('did not finish within deadlines.stageMs=800ms');
    expect((await readCheckResults(resultsDir)).checks).toHaveLength(3);
  });

  it('a suite that throws yields a broken check naming it; the next suite still runs', async () => {
    const { results } = await stageWith({
      'a-throws.suite.ts': `export default { stage: 'boot', name: 'a', run: async () => { throw new Error('kaput'); } };`,
      'b-ok.suite.ts': `export default { stage: 'boot', name: 'b', run: async (ctx) => { ${record('boot.b', 'passed')} } };`,
    });
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['boot.suite.a-throws', 'broken'],
      ['boot.b', 'passed'],
    ]);
    expect(results[0]?.message).toBe('Suite a-throws failed: kaput');
  });

  it('a stage with no suite records an unknown check, never nothing', async () => {
    const { results } = await stageWith({});
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ id: 'boot.no-suite', status: 'unknown' });
  });

  it('a file that does not export a suite of its stage is broken', async () => {
    const { results } = await stageWith({
      'wrong.suite.ts': `export default { stage: 'chaos', name: 'x', run: async () => {} };`,
    });
    expect(results[0]).toMatchObject({ id: 'boot.suite.wrong', status: 'broken' });
    expect(results[0]?.message).toContain("must default-export defineSuite({ stage: 'boot'");
  });

  it("runs the built-in suites and then the config's own, which add to them and never replace them", async () => {
    const { results } = await stageWith(
      {
        'own.suite.ts': `export default { stage: 'boot', name: 'own', run: async (ctx) => { ${record('boot.own', 'passed')} } };`,
      },
      60_000,
      {
        'built-in.suite.ts': `export default { stage: 'boot', name: 'built-in', run: async (ctx) => { ${record('boot.built-in', 'passed')} } };`,
      },
    );
    expect(results.map((r) => r.id)).toEqual(['boot.built-in', 'boot.own']);
  });

  it('runs a suite reached both as built-in and through the config once (the checkout certifying itself)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'run-stage-'));
    await mkdir(join(root, 'suites', 'boot'), { recursive: true });
    await writeFile(join(root, 'suites', 'boot', 'a.suite.ts'), 'export default {};');
    expect(await findStageSuites(join(root, 'suites'), 'boot', join(root, 'suites'))).toEqual([
      join(root, 'suites', 'boot', 'a.suite.ts'),
    ]);
  });

  it('every planned check without a result is recorded unknown, under its planned severity', async () => {
    const { results } = await stageWith({
      'drill.suite.ts': `export default { stage: 'boot', name: 'drill',
        plan: () => [
          { id: 'boot.a', name: 'a', feature: 'drill', severity: 'normal' },
          { id: 'boot.b', name: 'b', feature: 'drill', severity: 'critical' },
          { id: 'boot.c', name: 'c', feature: 'drill', severity: 'blocker' },
        ],
        run: async (ctx) => { ${record('boot.a', 'passed')} } };`,
    });
    expect(results.map((r) => [r.id, r.status, r.severity])).toEqual([
      ['boot.a', 'passed', 'normal'],
      ['boot.b', 'unknown', 'critical'],
      ['boot.c', 'unknown', 'blocker'],
    ]);
    expect(results[1]?.message).toBe('Planned but not recorded: the suite ended without recording it');
  });

  it('a suite that throws leaves its unrecorded plan unknown with the error as the reason', async () => {
    const { results } = await stageWith({
      'drill.suite.ts': `export default { stage: 'boot', name: 'drill',
        plan: () => [{ id: 'boot.a', name: 'a', feature: 'drill', severity: 'critical' }, { id: 'boot.b', name: 'b', feature: 'drill', severity: 'critical' }],
        run: async (ctx) => { ${record('boot.a', 'failed')} throw new Error('destroy step failed'); } };`,
    });
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['boot.a', 'failed'],
      ['boot.suite.drill', 'broken'],
      ['boot.b', 'unknown'],
    ]);
    expect(results[2]?.message).toBe('Planned but not recorded: Suite drill failed: destroy step failed');
  });

  it('a plan that cannot be made is broken, and the suite still runs', async () => {
    const { results } = await stageWith({
      'drill.suite.ts': `export default { stage: 'boot', name: 'drill',
        plan: () => { throw new Error('no such file'); },
        run: async (ctx) => { ${record('boot.a', 'passed')} } };`,
    });
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['boot.suite.drill.plan', 'broken'],
      ['boot.a', 'passed'],
    ]);
    expect(results[0]?.message).toBe('Suite drill could not plan its checks: no such file');
  });
});
