import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certifyRecorded, recordedChecks, recordedDefectRun } from '../../test/support/recorded-checks.ts';
import { CERTIFICATION_FILE, writeCertification } from '../certify/certification.ts';
import type { Certification } from '../certify/certification.ts';
import { findBaseline, readTrend } from './runs.ts';

async function reportsWith(certs: readonly Certification[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'readiness-runs-'));
  for (const cert of certs) await writeCertification(join(dir, cert.runId), cert);
  return dir;
}

describe('findBaseline: the previous CERTIFIED run of the same config', () => {
  it('passes over newer runs that are not CERTIFIED, of another config, or unreadable', async () => {
    const healthy = await certifyRecorded(await recordedChecks('previous-run.checks.json'), {
      runId: '20261206-070000-0001',
      knee: 'previous-run.knee.json',
    });
    const failing = await certifyRecorded(await recordedDefectRun(), { runId: '20261206-071000-0002' });
    expect(failing.verdict).toBe('NOT_CERTIFIED');
    const other = { ...healthy, runId: '20261206-072000-0003', name: 'another-stack' };
    const dir = await reportsWith([healthy, failing, other]);
    await mkdir(join(dir, '20261206-073000-0004'));
    await writeFile(join(dir, '20261206-073000-0004', CERTIFICATION_FILE), '{"schemaVersion": 2');
    const found = await findBaseline(dir, { runId: '20261206-080000-0005', name: healthy.name });
    expect(found).toMatchObject({ found: true, runDir: join(dir, healthy.runId) });
    expect(found.skipped).toHaveLength(1);
    expect(found.skipped[0]).toMatch(/^20261206-073000-0004\/certification\.json: /);
    // Only earlier runs count.
    expect(await findBaseline(dir, { runId: healthy.runId, name: healthy.name })).toMatchObject({
      found: false,
      note: 'No earlier CERTIFIED run of config "reference-stack" in the reports folder.',
    });
  });

  it('a certification without a config name (an older file) is compared with nothing', async () => {
    const healthy = await certifyRecorded(await recordedChecks('previous-run.checks.json'), { runId: 'a' });
    const { name: _omitted, ...unnamed } = healthy;
    const dir = await reportsWith([unnamed]);
    expect(await findBaseline(dir, { runId: 'b', name: healthy.name })).toMatchObject({ found: false });
    expect(await findBaseline(dir, { runId: 'b' })).toMatchObject({ found: false });
  });
});

describe('readTrend', () => {
  it('carries the knee and the baseline p95 of each run, and leaves out runs of another config', async () => {
    const older = await certifyRecorded(await recordedChecks('previous-run.checks.json'), {
      runId: '20261206-073729-8224',
      knee: 'previous-run.knee.json',
    });
    const other = { ...older, runId: '20261206-075000-0000', name: 'another-stack' };
    const current = await certifyRecorded(await recordedChecks('full-run.checks.json'), {
      runId: '20261206-081337-0f43',
    });
    const dir = await reportsWith([older, other]);
    const trend = await readTrend(dir, current);
    expect(trend.points.map((p) => [p.runId, p.kneeRps, p.p95Ms, p.rtoMs])).toEqual([
      ['20261206-073729-8224', 166.667, 23.358, older.figures.find((f) => f.id === 'recovery.rto')?.value],
      // No knee.json given for this one: no knee, never 0.
      ['20261206-081337-0f43', null, 22.688, 910],
    ]);
  });
});
