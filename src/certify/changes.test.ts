import { describe, expect, it } from 'vitest';
import { certifyRecorded, recordedChecks, recordedDefectRun } from '../../test/support/recorded-checks.ts';
import type { Certification } from './certification.ts';
import { certificationSchema } from './certification.ts';
import { DEFAULT_NOISE_BANDS, figureMoves, noBaseline, whatChanged } from './changes.ts';
import type { ComparedRun } from './changes.ts';
import type { Figure } from './figures.ts';
import { resolveConfig } from '../config/load-config.ts';

const PREVIOUS = '20261206-073729-8224';
const CURRENT = '20261206-081337-0f43';

async function previousRun(): Promise<{ cert: Certification; run: ComparedRun }> {
  const checks = await recordedChecks('previous-run.checks.json');
  const cert = await certifyRecorded(checks, {
    runId: PREVIOUS,
    knee: 'previous-run.knee.json',
    finishedAt: '2026-12-06T07:44:00Z',
  });
  return {
    cert,
    run: { runId: cert.runId, finishedAt: cert.finishedAt, checks, figures: cert.figures, properties: cert.properties },
  };
}

const figure = (id: string, value: number, unit = 'ms'): Figure => ({
  id,
  label: id,
  value,
  unit,
  check: null,
  stage: 'load',
});

describe('what changed since the previous CERTIFIED run (recorded runs of the reference stack)', () => {
  it('two healthy runs: nothing regressed, no coverage lost, only figures beyond their noise band', async () => {
    const { cert: before, run } = await previousRun();
    expect(before.verdict).toBe('CERTIFIED');
    const checks = await recordedChecks('full-run.checks.json');
    const cert = await certifyRecorded(checks, { runId: CURRENT, knee: 'full-run.knee.json' });
    const changes = whatChanged(run, { checks, figures: cert.figures, properties: cert.properties });
    expect(changes).toMatchObject({
      baseline: { runId: PREVIOUS, finishedAt: '2026-12-06T07:44:00.000Z' },
      note: null,
      regressed: [],
      recovered: [],
      lostCoverage: [],
    });
    // Recorded: the knee (166.667 both), p95 (23.4 -> 22.7 ms) stay within their bands; retained memory swung.
    expect(changes.figures.map((f) => `${f.id} ${f.direction}`)).toEqual([
      'load.memory-retained.soak-short.orders better',
    ]);
    expect(certificationSchema.parse({ ...cert, changes }).changes).toEqual(changes);
  });

  it('a run with planted defects: the checks that regressed, and the properties that lost coverage', async () => {
    const { run } = await previousRun();
    const checks = await recordedDefectRun();
    const cert = await certifyRecorded(checks, { runId: CURRENT, knee: 'full-run.knee.json' });
    const changes = whatChanged(run, { checks, figures: cert.figures, properties: cert.properties });
    expect(changes.regressed).toEqual([
      { id: 'boot.readiness-truth.orders.postgres', stage: 'boot', before: 'passed', after: 'failed' },
      { id: 'recovery.crash.ledger', stage: 'recovery', before: 'passed', after: 'failed' },
      { id: 'security.headers.banner', stage: 'security', before: 'passed', after: 'failed' },
      { id: 'security.headers.required', stage: 'security', before: 'passed', after: 'failed' },
    ]);
    expect(changes.recovered).toEqual([]);
    expect(changes.lostCoverage.map((p) => `${p.id} ${p.after ?? 'gone'}`)).toEqual([
      'availability.zero-downtime-deploy not-covered',
      'data-safety.crash-writes failed',
      'data-safety.backup-restore not-covered',
      'data-safety.rto not-covered',
      'data-safety.rpo not-covered',
      'security.headers failed',
      'operability.truthful-health failed',
    ]);
    // Swapped round, the defect run is the baseline: the same checks recovered.
    const back = whatChanged(
      { runId: 'defects', finishedAt: cert.finishedAt, checks, figures: cert.figures, properties: cert.properties },
      { checks: run.checks ?? [], figures: run.figures, properties: run.properties },
    );
    expect(back.recovered.map((c) => c.id)).toEqual(changes.regressed.map((c) => c.id));
  });

  it('says what it could not compare: unreadable baseline results, a baseline without properties', async () => {
    const { run } = await previousRun();
    const checks = await recordedChecks('full-run.checks.json');
    const changes = whatChanged({ ...run, checks: null, properties: [] }, { checks, figures: [], properties: [] });
    expect(changes.note).toBe(
      `the check results of ${PREVIOUS} could not be read: checks not compared; ${PREVIOUS} predates readiness properties: coverage not compared.`,
    );
    expect(noBaseline('No earlier CERTIFIED run of config "x" in the reports folder.').baseline).toBeNull();
  });
});

describe('noise bands from the config (policy.noiseBands) on the recorded runs', () => {
  it('a tighter p95 band lists the recorded 23.4 -> 22.7 ms move; a band turned off drops the memory swing', async () => {
    const { run } = await previousRun();
    const checks = await recordedChecks('full-run.checks.json');
    const cert = await certifyRecorded(checks, { runId: CURRENT, knee: 'full-run.knee.json' });
    const config = resolveConfig(
      {
        name: 'demo',
        services: { api: { image: 'example/api:1', ports: [8080] } },
        policy: { noiseBands: { 'load.baseline.p95': { ratio: 0.01, minDelta: 0 }, 'load.memory-retained.*': false } },
      },
      '/work/x/readiness.config.ts',
    );
    const changes = whatChanged(
      run,
      { checks, figures: cert.figures, properties: cert.properties },
      config.policy.noiseBands,
    );
    expect(changes.figures.map((f) => `${f.id} ${f.direction} band ${f.band.toString()}`)).toEqual([
      'load.baseline.p95 better band 0.01',
    ]);
  });
});

describe('figureMoves: the noise band', () => {
  it('flags the knee 20% down and p95 30% up, not less; direction by which way is worse', () => {
    const before = [figure('load.knee', 100, 'req/s'), figure('load.baseline.p95', 100)];
    expect(figureMoves(before, [figure('load.knee', 81, 'req/s'), figure('load.baseline.p95', 129)])).toEqual([]);
    const moves = figureMoves(before, [figure('load.knee', 79, 'req/s'), figure('load.baseline.p95', 131)]);
    expect(moves).toEqual([
      expect.objectContaining({
        id: 'load.knee',
        before: 100,
        after: 79,
        change: -0.21,
        band: 0.2,
        direction: 'worse',
      }),
      expect.objectContaining({ id: 'load.baseline.p95', change: 0.31, band: 0.3, direction: 'worse' }),
    ]);
    expect(figureMoves(before, [figure('load.knee', 130, 'req/s')])[0]?.direction).toBe('better');
  });

  it('ignores a move under the absolute floor (a p95 of 2 ms doubling), a unit change, and a figure without band', () => {
    expect(figureMoves([figure('load.baseline.p95', 2)], [figure('load.baseline.p95', 4)])).toEqual([]);
    expect(figureMoves([figure('load.knee', 100, 'req/s')], [figure('load.knee', 10, 'rps')])).toEqual([]);
    expect(figureMoves([figure('custom.x', 1)], [figure('custom.x', 100)])).toEqual([]);
    // A family band: every startup figure.
    expect(DEFAULT_NOISE_BANDS.some((b) => b.figure === 'boot.startup.*')).toBe(true);
    expect(figureMoves([figure('boot.startup.db', 2000)], [figure('boot.startup.db', 5000)])).toHaveLength(1);
  });

  it('takes bands from the caller', () => {
    const bands = [{ figure: 'load.knee', worseWhen: 'lower' as const, ratio: 0.05 }];
    expect(figureMoves([figure('load.knee', 100, 'req/s')], [figure('load.knee', 90, 'req/s')], bands)).toHaveLength(1);
  });
});
