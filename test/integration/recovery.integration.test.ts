import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCertification } from '../../src/certify/index.ts';
import { readCheckResults } from '../../src/core/results.ts';
import { ROOT, leftovers, onlyRun, referenceProject, runCli } from '../support/harness.ts';
import type { Project } from '../support/harness.ts';

/**
 * The reference config with the recovery stage enabled (whatever examples/reference-stack/recovery.ts
 * says), its reports in a temp folder; `recovery` overrides parts of the stage's settings.
 */
function project(recoveryOverrides = ''): Promise<Project> {
  return referenceProject(
    'recovery',
    `stages: [...base.stages.filter((s) => s !== 'recovery'), 'recovery'],
  recovery: { ...r, ${recoveryOverrides} },
  policy: { ...base.policy, stages: { ...base.policy?.stages, recovery: recovery.policy } }`,
    `import { recovery } from ${JSON.stringify(join(ROOT, 'examples/reference-stack/recovery.ts'))};
const r = recovery.config;`,
  );
}

async function certify(overrides: string, env: Record<string, string> = {}) {
  const { dir, reports } = await project(overrides);
  const run = await runCli(dir, ['certify', '--stages', 'recovery'], env);
  const runDir = await onlyRun(reports).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${run.stderr.slice(-2000)}`);
  });
  const { checks } = await readCheckResults(join(runDir, 'allure-results'));
  const byId = new Map(checks.filter((r) => r.stage === 'recovery').map((r) => [r.id, r]));
  const metric = (id: string, name: string) => byId.get(id)?.metrics.find((m) => m.name === name)?.value;
  return { run, runDir, byId, metric };
}

describe('recovery stage (real stack)', { timeout: 600_000 }, () => {
  it('healthy: backup restores with matching checksums, RTO/RPO measured, crash, rolling restart and shutdown pass', async () => {
    const { run, runDir, byId, metric } = await certify('');
    const failing = [...byId.values()]
      .filter((r) => r.status !== 'passed')
      .map((r) => `${r.id}: ${r.status} ${r.message ?? ''}`);
    expect(failing, run.stderr.slice(-3000)).toEqual([]);
    expect(run.code).toBe(0);
    expect([...byId.keys()].sort()).toEqual([
      'recovery.backup.integrity',
      'recovery.backup.rpo',
      'recovery.backup.rto',
      'recovery.backup.taken',
      'recovery.crash.back',
      'recovery.crash.ledger',
      'recovery.rolling.replicas',
      'recovery.rolling.zero-downtime',
      'recovery.shutdown.in-flight',
      'recovery.shutdown.routing',
    ]);
    expect(metric('recovery.backup.rto', 'rto_ms')).toBeGreaterThan(0);
    // Writes acknowledged after the backup are lost by design: the RPO counts them.
    expect(metric('recovery.backup.rpo', 'rpo_lost_writes')).toBe(5);
    expect(metric('recovery.crash.back', 'crash_recovery_ms')).toBeGreaterThan(0);
    expect(metric('recovery.rolling.zero-downtime', 'rolling_failed_requests')).toBe(0);
    expect(metric('recovery.rolling.zero-downtime', 'rolling_requests')).toBeGreaterThan(20);
    const certification = await readCertification(join(runDir, 'certification.json'));
    // `--stages recovery` is a partial run: never a certification.
    expect(certification.verdict).toBe('PASSED_PARTIAL');
    expect(await leftovers(runDir)).toBe(0);
  });

  it('a restore that silently loses rows fails the integrity check', async () => {
    // The restore command "succeeds" but one table comes back empty: truncated between restore and verify.
    const restore = JSON.stringify([
      'sh',
      '-c',
      'pg_restore -U "$1" -d "$2" --exit-on-error --no-owner "$3" && psql -X -q -U "$1" -d "$2" -c "TRUNCATE order_items"',
      'sh',
      '{user}',
      '{staging}',
      '{file}',
    ]);
    const { run, byId, runDir } = await certify(
      `drills: ['backup-restore'], backup: { ...r.backup, commands: { restore: ${restore} } },`,
    );
    expect(run.code).toBe(1);
    expect(byId.get('recovery.backup.integrity')?.status).toBe('failed');
    expect(byId.get('recovery.backup.integrity')?.message).toMatch(/order_items: 0 rows after the restore/);
    expect(await leftovers(runDir)).toBe(0);
  });

  it('a destroy step that fails: integrity broken, rto and rpo recorded unknown (4 of 4 planned checks, none vanish)', async () => {
    const { run, byId, runDir } = await certify(
      `drills: ['backup-restore'], backup: { ...r.backup, commands: { destroy: ['false'] } },`,
    );
    expect(run.code).toBe(3);
    expect(Object.fromEntries([...byId.values()].map((r) => [r.id, r.status]))).toEqual({
      'recovery.backup.taken': 'passed',
      'recovery.backup.integrity': 'broken',
      'recovery.backup.rto': 'unknown',
      'recovery.backup.rpo': 'unknown',
    });
    expect(byId.get('recovery.backup.rto')?.message).toMatch(/^Not run: the destroy step failed/);
    expect(await leftovers(runDir)).toBe(0);
  });

  it('healthy: graceful shutdown under load, requests in flight at each SIGTERM answered, drain time measured', async () => {
    const { run, byId, metric, runDir } = await certify(`drills: ['rolling-restart', 'shutdown'],`);
    const statuses = Object.fromEntries([...byId.values()].map((r) => [r.id, `${r.status}: ${r.message ?? ''}`]));
    expect(
      Object.values(statuses).filter((s) => !s.startsWith('passed')),
      JSON.stringify(statuses),
    ).toEqual([]);
    expect(run.code).toBe(0);
    // SHUTDOWN_DRAIN_MS is 1500: readiness 503 that long while serving, then the server closes.
    expect(metric('recovery.shutdown.in-flight', 'shutdown_orders_drain_ms')).toBeGreaterThan(1_500);
    expect(metric('recovery.shutdown.in-flight', 'shutdown_in_flight_direct')).toBeGreaterThan(0);
    expect(metric('recovery.shutdown.in-flight', 'shutdown_in_flight_via')).toBeGreaterThan(0);
    expect(metric('recovery.shutdown.in-flight', 'shutdown_cut_requests')).toBe(0);
    expect(await leftovers(runDir)).toBe(0);
  });

  it('FRAGILE=no-drain: recovery.shutdown.in-flight fails with the cut requests; the replicas still restart', async () => {
    const { run, byId, metric, runDir } = await certify(`drills: ['rolling-restart', 'shutdown'],`, {
      FRAGILE: 'no-drain',
    });
    const statuses = Object.fromEntries([...byId.values()].map((r) => [r.id, `${r.status}: ${r.message ?? ''}`]));
    expect(run.code, JSON.stringify(statuses)).toBe(1);
    expect(byId.get('recovery.shutdown.in-flight')?.status).toBe('failed');
    expect(byId.get('recovery.shutdown.in-flight')?.message).toMatch(
      /requests in flight at the SIGTERM to orders were cut/,
    );
    expect(metric('recovery.shutdown.in-flight', 'shutdown_cut_requests')).toBeGreaterThan(0);
    // The rolling restart sees the defect only when one of its fast requests happens to be in flight.
    expect(byId.get('recovery.rolling.replicas')?.status).toBe('passed');
    expect(await leftovers(runDir)).toBe(0);
  });

  // Each defect runs only the drill that must catch it.
  for (const { defect, drill, check, message } of [
    {
      defect: 'lossy-writes',
      drill: 'crash',
      check: 'recovery.crash.ledger',
      message: /acknowledged before the kill are gone/,
    },
    {
      defect: 'no-reconnect',
      drill: 'backup-restore',
      check: 'recovery.backup.rto',
      message: /Not healthy within the RTO target/,
    },
  ]) {
    it(`FRAGILE=${defect} fails ${check}`, async () => {
      const { run, byId, runDir } = await certify(`drills: ['${drill}'],`, { FRAGILE: defect });
      expect(run.code).toBe(1);
      expect(byId.get(check)?.status).toBe('failed');
      expect(byId.get(check)?.message).toMatch(message);
      expect(await leftovers(runDir)).toBe(0);
    });
  }
});
