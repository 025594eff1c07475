import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { certificationSchema, writeCertification } from '../certify/certification.ts';
import type { Certification } from '../certify/certification.ts';
import { checkResultSchema } from '../core/check-result.ts';
import type { CheckResult, CheckStatus } from '../core/check-result.ts';
import { compareRuns, formatComparison } from './compare.ts';
import { latestRunId, listRunIds, readTrend } from './runs.ts';

const FIXTURE = new URL('../../test/fixtures/certify/certification.v2.json', import.meta.url).pathname;

const check = (id: string, status: CheckStatus): CheckResult =>
  checkResultSchema.parse({
    id,
    stage: id.split('.')[0],
    name: `check ${id}`,
    feature: 'f',
    status,
    severity: 'normal',
    message: status === 'passed' ? undefined : `${id} ${status}`,
    startedAt: 1,
    finishedAt: 2,
  });

async function cert(overrides: Partial<Certification> = {}): Promise<Certification> {
  const base = certificationSchema.parse(JSON.parse(await readFile(FIXTURE, 'utf8')));
  return { ...base, ...overrides };
}

describe('compareRuns', () => {
  it('classifies each check as regressed, new, still failing, fixed, removed or still passing', async () => {
    const base = {
      runId: 'r1',
      cert: await cert({ runId: 'r1' }),
      checks: [
        check('boot.a', 'passed'),
        check('boot.b', 'passed'),
        check('boot.c', 'failed'),
        check('boot.d', 'skipped'),
        check('load.gone', 'passed'),
      ],
    };
    const head = {
      runId: 'r2',
      cert: await cert({ runId: 'r2' }),
      checks: [
        check('boot.a', 'passed'),
        check('boot.b', 'unknown'),
        check('boot.c', 'failed'),
        check('boot.d', 'passed'),
        check('chaos.new', 'broken'),
      ],
    };
    const cmp = compareRuns(base, head);
    expect(Object.fromEntries(cmp.checks.map((c) => [c.id, c.change]))).toEqual({
      'boot.a': 'still-passing',
      'boot.b': 'regressed',
      'boot.c': 'still-failing',
      'boot.d': 'fixed',
      'chaos.new': 'new',
      'load.gone': 'removed',
    });
    expect(cmp.counts).toEqual({
      regressed: 1,
      new: 1,
      'still-failing': 1,
      fixed: 1,
      removed: 1,
      'still-passing': 1,
    });
    const text = formatComparison(cmp);
    expect(text).toContain('Comparing r1 (NOT CERTIFIED) -> r2 (NOT CERTIFIED)');
    expect(text).toContain(
      'Regressed (passed before, not now):\n  - [boot] boot.b (passed -> unknown): boot.b unknown',
    );
    expect(text).toContain('New checks:\n  - [chaos] chaos.new (- -> broken): chaos.new broken');
    expect(text).not.toContain('boot.a');
  });

  it('gives stage pass rate deltas only where both runs evaluated the stage', async () => {
    const before = await cert();
    const after = await cert({
      stages: {
        ...before.stages,
        load: { ...before.stages.load, passRate: 1, counts: { ...before.stages.load.counts } },
      },
    });
    const cmp = compareRuns({ runId: 'a', cert: before, checks: [] }, { runId: 'b', cert: after, checks: [] });
    expect(cmp.stages.find((s) => s.stage === 'load')).toEqual({ stage: 'load', before: 0.5, after: 1, delta: 0.5 });
    expect(cmp.stages.find((s) => s.stage === 'boot')?.delta).toBe(0);
    expect(formatComparison(cmp)).toMatch(/load\s+50\.0%\s+100\.0%\s+\+50\.0 pt/);
    const unknown = compareRuns({ runId: 'a', cert: null, checks: [] }, { runId: 'b', cert: after, checks: [] });
    expect(unknown.stages.every((s) => s.delta === null)).toBe(true);
  });
});

describe('run folders', () => {
  let reports: string;
  beforeEach(async () => {
    reports = await mkdtemp(join(tmpdir(), 'readiness-runs-'));
  });
  afterEach(async () => {
    await rm(reports, { recursive: true, force: true });
  });

  it('lists runs with a certification, follows reports/latest, and builds the trend from past certifications', async () => {
    for (const [id, score] of [
      ['20250101-000000-aaaa', 0.5],
      ['20250102-000000-bbbb', 0.7],
    ] as const) {
      await writeCertification(join(reports, id), await cert({ runId: id, score }));
    }
    await mkdir(join(reports, 'history'));
    await mkdir(join(reports, '20250103-000000-cccc')); // crashed before certifying
    await mkdir(join(reports, '20250104-000000-dddd'));
    await writeFile(join(reports, '20250104-000000-dddd', 'certification.json'), '{"schemaVersion": 1');
    expect(await listRunIds(reports)).toEqual(['20250101-000000-aaaa', '20250102-000000-bbbb', '20250104-000000-dddd']);
    expect(await latestRunId(reports)).toBe('20250104-000000-dddd');
    await symlink('20250101-000000-aaaa', join(reports, 'latest'));
    expect(await latestRunId(reports)).toBe('20250101-000000-aaaa');

    const current = await cert({ runId: '20250105-000000-eeee', score: 0.9 });
    const trend = await readTrend(reports, current, 10);
    expect(trend.points.map((p) => [p.runId, p.score])).toEqual([
      ['20250101-000000-aaaa', 0.5],
      ['20250102-000000-bbbb', 0.7],
      ['20250105-000000-eeee', 0.9],
    ]);
    expect(trend.unreadable).toEqual([expect.stringMatching(/^20250104-000000-dddd\/certification\.json: /)]);
    expect(trend.points[2]?.stages.load).toBe(0.5);
    expect((await readTrend(reports, current, 2)).points.map((p) => p.runId)).toEqual([
      '20250102-000000-bbbb',
      '20250105-000000-eeee',
    ]);
  });

  it('has no latest run in an empty or missing reports folder', async () => {
    expect(await latestRunId(reports)).toBeUndefined();
    expect(await listRunIds(join(reports, 'missing'))).toEqual([]);
  });
});
