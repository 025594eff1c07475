import { spawn } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { describe, expect, it } from 'vitest';
import { readCertification } from '../../src/certify/index.ts';
import { readCheckResults } from '../../src/core/results.ts';
import { LABELS } from '../../src/stack/labels.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');

/**
 * The reference config with the recovery stage enabled (whatever fixtures/readiness/recovery.ts
 * says), its reports in a temp folder; `recovery` overrides parts of the stage's settings.
 */
async function project(recoveryOverrides = ''): Promise<{ dir: string; reports: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'readiness-recovery-'));
  const reports = join(dir, 'reports');
  await writeFile(
    join(dir, 'readiness.config.ts'),
    `import base from ${JSON.stringify(join(ROOT, 'readiness.config.ts'))};
import { recovery } from ${JSON.stringify(join(ROOT, 'fixtures/readiness/recovery.ts'))};
const r = recovery.config;
export default {
  ...base,
  stages: [...base.stages.filter((s) => s !== 'recovery'), 'recovery'],
  recovery: { ...r, ${recoveryOverrides} },
  policy: { ...base.policy, stages: { ...base.policy?.stages, recovery: recovery.policy } },
  reportsDir: ${JSON.stringify(reports)},
  suitesDir: ${JSON.stringify(join(ROOT, 'suites'))},
};\n`,
  );
  return { dir, reports };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(dir: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: dir, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

async function leftovers(runId: string): Promise<number> {
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const filters = JSON.stringify({ label: [`${LABELS.runId}=${runId}`] });
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
  ]);
  return containers.length + networks.length;
}

async function certify(overrides: string, env: Record<string, string> = {}) {
  const { dir, reports } = await project(overrides);
  const run = await cli(dir, ['certify', '--stages', 'recovery'], env);
  const runs = (await readdir(reports)).filter((n) => /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(n));
  expect(runs, run.stderr.slice(-2000)).toHaveLength(1);
  const runDir = join(reports, runs[0]!);
  const results = (await readCheckResults(join(runDir, 'allure-results'))).checks.filter((r) => r.stage === 'recovery');
  const byId = new Map(results.map((r) => [r.id, r]));
  const metric = (id: string, name: string) => byId.get(id)?.metrics.find((m) => m.name === name)?.value;
  return { run, runDir, results, byId, metric, runId: runs[0]! };
}

describe('recovery stage (real stack)', { timeout: 600_000 }, () => {
  it('healthy: backup restores with matching checksums, RTO/RPO measured, crash and rolling restart pass', async () => {
    const { run, runDir, byId, metric, runId } = await certify('');
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
    ]);
    expect(metric('recovery.backup.rto', 'rto_ms')).toBeGreaterThan(0);
    // Writes acknowledged after the backup are lost by design: the RPO counts them.
    expect(metric('recovery.backup.rpo', 'rpo_lost_writes')).toBe(5);
    expect(metric('recovery.crash.back', 'crash_recovery_ms')).toBeGreaterThan(0);
    expect(metric('recovery.rolling.zero-downtime', 'rolling_failed_requests')).toBe(0);
    expect(metric('recovery.rolling.zero-downtime', 'rolling_requests')).toBeGreaterThan(20);
    const certification = await readCertification(join(runDir, 'certification.json'));
    expect(certification.verdict).toBe('CERTIFIED');
    expect(await leftovers(runId)).toBe(0);
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
    const { run, byId, runId } = await certify(
      `drills: ['backup-restore'], backup: { ...r.backup, commands: { restore: ${restore} } },`,
    );
    expect(run.code).toBe(1);
    expect(byId.get('recovery.backup.integrity')?.status).toBe('failed');
    expect(byId.get('recovery.backup.integrity')?.message).toMatch(/order_items: 0 rows after the restore/);
    expect(await leftovers(runId)).toBe(0);
  });

  it('FRAGILE=lossy-writes fails the crash ledger check', async () => {
    const { run, byId, runId } = await certify(`drills: ['crash'],`, { FRAGILE: 'lossy-writes' });
    expect(run.code).toBe(1);
    expect(byId.get('recovery.crash.ledger')?.status).toBe('failed');
    expect(byId.get('recovery.crash.ledger')?.message).toMatch(/acknowledged before the kill are gone/);
    expect(await leftovers(runId)).toBe(0);
  });

  it('FRAGILE=no-reconnect fails "services back after the restore"', async () => {
    const { run, byId, runId } = await certify(`drills: ['backup-restore'],`, { FRAGILE: 'no-reconnect' });
    expect(run.code).toBe(1);
    expect(byId.get('recovery.backup.rto')?.status).toBe('failed');
    expect(byId.get('recovery.backup.rto')?.message).toMatch(/Not healthy within the RTO target/);
    expect(await leftovers(runId)).toBe(0);
  });
});
