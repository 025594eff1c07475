import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkResultSchema } from '../core/check-result.ts';
import type { CheckResult, CheckResultInput } from '../core/check-result.ts';
import { loadConfig } from '../config/load-config.ts';
import { defaultPolicy } from '../config/schema.ts';
import { STAGES } from '../core/stage.ts';
import { certifyChecks, readCertification, writeCertification } from './certification.ts';
import { figureSchema, figureTargetsFromConfig, keyFigures, meetsTarget, readKneeFile } from './figures.ts';
import type { Figure, KneeFile } from './figures.ts';

const FIXTURES = resolve(import.meta.dirname, '../../test/fixtures/certify/figures');
const ROOT = resolve(import.meta.dirname, '../..');

/** The boot, load, chaos and recovery checks with metrics of a full run of the reference stack (see the README). */
async function recordedChecks(): Promise<CheckResult[]> {
  const raw = JSON.parse(await readFile(join(FIXTURES, 'full-run.checks.json'), 'utf8')) as unknown[];
  return raw.map((c) => checkResultSchema.parse(c));
}

async function recordedKnee(): Promise<KneeFile> {
  const read = await readKneeFile(join(FIXTURES, 'knee.json'));
  if (!read.knee) throw new Error(`fixture knee.json unreadable: ${read.problem ?? 'missing'}`);
  return read.knee;
}

const byId = (figures: readonly Figure[]): Map<string, Figure> => new Map(figures.map((f) => [f.id, f]));

function check(id: string, metrics: CheckResultInput['metrics'], overrides: Partial<CheckResultInput> = {}) {
  return checkResultSchema.parse({
    id,
    stage: id.split('.')[0],
    name: id,
    feature: 'f',
    status: 'passed',
    severity: 'critical',
    startedAt: 1,
    finishedAt: 2,
    metrics,
    ...overrides,
  });
}

describe('keyFigures on a recorded full run', () => {
  it('reads every figure from its check, with the targets of the reference config', async () => {
    const config = await loadConfig(join(ROOT, 'readiness.config.ts'), ROOT);
    const figures = keyFigures({
      checks: await recordedChecks(),
      knee: await recordedKnee(),
      targets: figureTargetsFromConfig(config),
    });
    for (const figure of figures) expect(figureSchema.parse(figure)).toEqual(figure);
    const f = byId(figures);
    // Startup per service, budget from services.<id>.health.timeoutMs.
    expect(f.get('boot.startup.postgres')).toMatchObject({
      value: 3637,
      unit: 'ms',
      check: 'boot.healthy.postgres',
      stage: 'boot',
      target: { op: '<=' },
    });
    expect([...f.keys()].filter((id) => id.startsWith('boot.startup.'))).toHaveLength(6);
    // The knee has no floor in the reference config: a figure of knee.json, no check, no target.
    expect(f.get('load.knee')).toEqual({
      id: 'load.knee',
      label: 'Capacity knee',
      value: 166.667,
      unit: 'req/s',
      check: null,
      stage: 'load',
    });
    // The baseline: the first scenario that ran, its broadest selector (phase steady, not name:list).
    expect(f.get('load.baseline.p95')).toMatchObject({
      value: 52.689,
      target: { value: 200, op: '<' },
      check: 'load.baseline.http_req_duration.phase-steady.p95',
    });
    expect(f.get('load.baseline.p99')).toMatchObject({
      value: 95.43,
      target: { value: 500, op: '<' },
      check: 'load.baseline.http_req_duration.phase-steady.p99',
    });
    expect(f.get('load.baseline.error-rate')).toMatchObject({
      value: 0,
      unit: 'ratio',
      target: { value: 0.01, op: '<' },
      check: 'load.baseline.http_req_failed.phase-steady.rate',
    });
    expect(f.get('load.memory-retained.soak-short.orders')).toMatchObject({
      value: 11.124,
      unit: 'MB',
      target: { value: 96, op: '<' },
      check: 'load.soak-short.memory-retained.orders',
    });
    // Worst p95 under fault: the load scenario's fault phase (3477 ms) beats the chaos experiment's (14 ms).
    expect(f.get('fault.p95.worst')).toMatchObject({
      value: 3477.299,
      check: 'load.fault-phase.http_req_duration.phase-baseline.p95',
      stage: 'load',
    });
    expect(f.get('chaos.time-to-detect.worst')).toMatchObject({
      value: 1005,
      check: 'chaos.postgres-unresponsive.fault-effect',
    });
    expect(f.get('chaos.time-to-recover.worst')).toMatchObject({
      value: 4946,
      check: 'chaos.payments-unresponsive.recovery',
    });
    expect(f.get('recovery.rto')).toMatchObject({ value: 933, target: { value: 30_000, op: '<=' } });
    expect(f.get('recovery.rpo.window')).toMatchObject({ value: 750, check: 'recovery.backup.rpo' });
    expect(f.get('recovery.rpo.lost-writes')).toMatchObject({ value: 5, unit: 'count' });
    expect(f.get('recovery.crash.recovery')).toMatchObject({ value: 1468, target: { value: 30_000, op: '<=' } });
    expect(f.get('recovery.rolling.failed-requests')).toMatchObject({
      value: 0,
      target: { value: 0, op: '<=' },
      check: 'recovery.rolling.zero-downtime',
    });
    // Stage order: boot, load, chaos, recovery.
    expect([...new Set(figures.map((x) => x.stage))]).toEqual(['boot', 'load', 'chaos', 'recovery']);
  });

  it('without the config, only the targets the checks record (the RTO)', async () => {
    const figures = keyFigures({ checks: await recordedChecks() });
    expect(figures.filter((f) => f.target !== undefined).map((f) => f.id)).toEqual(['recovery.rto']);
    // Without the config's fault phases, the worst p95 under fault is the chaos experiments' own.
    expect(byId(figures).get('fault.p95.worst')).toMatchObject({
      value: 14.02,
      check: 'chaos.redis-down.load.fault',
      stage: 'chaos',
    });
  });
});

describe('keyFigures aggregation', () => {
  const detect = (experiment: string, ms: number) =>
    check(`chaos.${experiment}.fault-effect`, [{ name: 'time_to_detect_ms', value: ms, unit: 'ms' }]);

  it('worst is the highest, median the lower median (an observed value, naming its check)', () => {
    const f = byId(keyFigures({ checks: [detect('a', 40), detect('b', 900), detect('c', 10), detect('d', 70)] }));
    expect(f.get('chaos.time-to-detect.worst')).toMatchObject({ value: 900, check: 'chaos.b.fault-effect' });
    expect(f.get('chaos.time-to-detect.median')).toMatchObject({ value: 40, check: 'chaos.a.fault-effect' });
    const odd = byId(keyFigures({ checks: [detect('a', 40), detect('b', 900), detect('c', 10)] }));
    expect(odd.get('chaos.time-to-detect.median')).toMatchObject({ value: 40 });
  });

  it('a figure no check measured is absent, never 0', () => {
    expect(keyFigures({ checks: [] })).toEqual([]);
    // A fault that did not take effect records no time_to_detect_ms; a recovery not measured none either.
    const figures = keyFigures({
      checks: [
        check('chaos.a.fault-effect', [{ name: 'time_to_inject_ms', value: 3, unit: 'ms' }], { status: 'broken' }),
        check('chaos.a.recovery', [], { status: 'unknown' }),
        check('recovery.backup.rpo', [{ name: 'rpo_window_ms', value: 750, unit: 'ms' }], { status: 'unknown' }),
        check('recovery.crash.back', [{ name: 'crash_recovery_ms', value: 900, unit: 'ms' }], { status: 'failed' }),
      ],
      knee: { schemaVersion: 1, status: 'measured' },
    });
    // Only judged checks count: the unknown RPO (no ledger) gives no figure, the failed crash check does.
    expect(figures.map((f) => f.id)).toEqual(['recovery.crash.recovery']);
    // A load threshold broken by its generator: no baseline figure from what it measured.
    const broken = check(
      'load.s.http_req_duration.p95',
      [
        { name: 'requests', value: 10, unit: 'count' },
        { name: 'p95_ms', value: 30, unit: 'ms' },
      ],
      { status: 'broken' },
    );
    expect(keyFigures({ checks: [broken] })).toEqual([]);
  });

  it('the knee: the floor check wins over knee.json, with the floor as target', () => {
    const [knee] = keyFigures({
      checks: [check('load.knee', [{ name: 'knee_rps', value: 120, unit: 'req/s' }], { status: 'failed' })],
      knee: { schemaVersion: 1, status: 'measured', kneeRatePerSec: 99, floorRatePerSec: 150 },
    });
    expect(knee).toMatchObject({ value: 120, check: 'load.knee', target: { value: 150, op: '>=' } });
    expect(meetsTarget(knee!)).toBe(false);
    expect(keyFigures({ checks: [], knee: { schemaVersion: 1, status: 'broken', kneeRatePerSec: 99 } })).toEqual([]);
  });

  it('a phase with its own SLO sets the baseline target', () => {
    const figures = keyFigures({
      checks: [
        check('load.s.http_req_duration.phase-steady.p95', [
          { name: 'requests', value: 10, unit: 'count' },
          { name: 'p95_ms', value: 30, unit: 'ms' },
        ]),
      ],
      targets: { loadSlo: { s: { slo: { p95Ms: 200 }, phases: { steady: { p95Ms: 100 } } } } },
    });
    expect(figures[0]).toMatchObject({ id: 'load.baseline.p95', target: { value: 100, op: '<' } });
  });
});

describe('the baseline scenario', () => {
  const threshold = (scenario: string, startedAt: number, withFigures: boolean) =>
    check(
      `load.${scenario}.http_req_duration.p95`,
      withFigures
        ? [
            { name: 'requests', value: 10, unit: 'count' },
            { name: 'p95_ms', value: 30, unit: 'ms' },
          ]
        : [],
      { startedAt, finishedAt: startedAt, status: withFigures ? 'passed' : 'unknown' },
    );
  const slo = { slo: {}, phases: {} };

  it("is the config's first scenario; when its k6 run broke there is no baseline figure, not another scenario's", () => {
    const checks = [threshold('first', 1, false), threshold('second', 2, true)];
    expect(keyFigures({ checks, targets: { loadSlo: { first: slo, second: slo } } })).toEqual([]);
    // Without the config: the scenario of the first threshold recorded, here also without figures.
    expect(keyFigures({ checks })).toEqual([]);
    expect(keyFigures({ checks: [threshold('first', 1, true), threshold('second', 2, true)] })[0]).toMatchObject({
      check: 'load.first.http_req_duration.p95',
    });
  });
});

describe('meetsTarget', () => {
  it('applies the operator', () => {
    expect(meetsTarget({ value: 200, target: { value: 200, op: '<' } })).toBe(false);
    expect(meetsTarget({ value: 200, target: { value: 200, op: '<=' } })).toBe(true);
    expect(meetsTarget({ value: 200, target: { value: 201, op: '>=' } })).toBe(false);
    expect(meetsTarget({ value: 200 })).toBeUndefined();
  });
});

describe('readKneeFile', () => {
  it('no file is no knee; a broken file is a problem naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-knee-'));
    expect(await readKneeFile(join(dir, 'knee.json'))).toEqual({});
    await writeFile(join(dir, 'knee.json'), '{"schemaVersion":1,"status":"weird"}');
    expect((await readKneeFile(join(dir, 'knee.json'))).problem).toMatch(/knee\.json: status/);
  });
});

describe('figures in certification.json', () => {
  it('round-trips through the schema; a v2 file written before figures reads as []', async () => {
    const checks = await recordedChecks();
    const config = await loadConfig(join(ROOT, 'readiness.config.ts'), ROOT);
    const cert = certifyChecks({
      checks,
      invalid: [],
      runId: 'run-1',
      policy: defaultPolicy(),
      enabledStages: [...STAGES],
      selectedStages: [...STAGES],
      startedAt: new Date('2026-12-06T06:46:36Z'),
      finishedAt: new Date('2026-12-06T07:00:00Z'),
      seed: 1,
      git: { sha: null, dirty: null },
      reportPath: null,
      figureTargets: figureTargetsFromConfig(config),
      knee: await recordedKnee(),
    });
    expect(cert.figures).toEqual(
      keyFigures({ checks, knee: await recordedKnee(), targets: figureTargetsFromConfig(config) }),
    );
    expect(cert.figures.length).toBeGreaterThan(15);
    const dir = await mkdtemp(join(tmpdir(), 'readiness-figures-'));
    const file = await writeCertification(dir, cert);
    expect((await readCertification(file)).figures).toEqual(cert.figures);
    const older = await readCertification(resolve(FIXTURES, '../certification.v2.json'));
    expect(older.figures).toEqual([]);
    // A figure must name its check (or null) and a known stage.
    await writeFile(file, JSON.stringify({ ...cert, figures: [{ ...cert.figures[0], stage: 'nope' }] }));
    await expect(readCertification(file)).rejects.toThrow(/figures\.0\.stage/);
    await writeFile(file, JSON.stringify({ ...cert, figures: [cert.figures[0], cert.figures[0]] }));
    await expect(readCertification(file)).rejects.toThrow(/figures: figure ids must be unique/);
  });
});
