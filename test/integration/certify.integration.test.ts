import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { describe, expect, it } from 'vitest';
import { readCertification } from '../../src/certify/index.ts';
import { readCheckResults } from '../../src/core/results.ts';
import { LABELS } from '../../src/stack/labels.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');

/** A config that is the reference one, with its reports in a temp folder. */
async function referenceProject(): Promise<{ dir: string; reports: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'readiness-certify-'));
  const reports = join(dir, 'reports');
  await writeFile(
    join(dir, 'readiness.config.ts'),
    `import base from ${JSON.stringify(join(ROOT, 'readiness.config.ts'))};
export default { ...base, reportsDir: ${JSON.stringify(reports)}, suitesDir: ${JSON.stringify(join(ROOT, 'suites'))} };\n`,
  );
  return { dir, reports };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function certify(
  dir: string,
  env: Record<string, string>,
  onStderr?: (text: string, kill: () => void) => void,
  args: readonly string[] = [],
): Promise<Run> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [MAIN, 'certify', ...args], { cwd: dir, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      onStderr?.(stderr, () => child.kill('SIGINT'));
    });
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

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function onlyRun(reports: string): Promise<string> {
  const runs = (await readdir(reports)).filter((n) => /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(n));
  expect(runs).toHaveLength(1);
  return runs[0]!;
}

describe('npm run certify on the reference stack', () => {
  it('certifies the healthy stack: exit 0, boot passed, report and logs written, nothing left running', async () => {
    const { dir, reports } = await referenceProject();
    const run = await certify(dir, { FRAGILE: '' });
    expect(run.code, run.stderr).toBe(0);
    const runId = await onlyRun(reports);
    const cert = await readCertification(join(reports, runId, 'certification.json'));
    expect(cert.verdict).toBe('CERTIFIED');
    expect(cert.stages.boot.status).toBe('passed');
    expect(cert.stages.boot.passRate).toBe(1);
    expect(cert.stages.boot.counts.passed).toBeGreaterThanOrEqual(5);
    expect(run.stdout).toContain('CERTIFIED');
    const html = await readFile(join(reports, runId, 'allure-report/index.html'), 'utf8');
    expect(html).not.toMatch(/googletagmanager/i);
    for (const service of ['orders', 'payments', 'postgres', 'redis', 'toxiproxy']) {
      expect((await stat(join(reports, runId, 'logs', `${service}.log`))).size).toBeGreaterThan(0);
    }
    const { checks } = await readCheckResults(join(reports, runId, 'allure-results'));
    const truth = checks.find((c) => c.id === 'boot.readiness-truth.orders.postgres');
    expect(truth?.status).toBe('passed');
    expect(truth?.metrics.map((m) => m.name)).toEqual(['time_to_detect_ms', 'time_to_recover_ms']);
    expect(await leftovers(runId)).toBe(0);
    // No secret of the config (passwords, JWT secret) in any file of the run folder.
    const { default: reference } = (await import(join(ROOT, 'readiness.config.ts'))) as {
      default: { secrets: string[] };
    };
    expect(reference.secrets.length).toBeGreaterThanOrEqual(4);
    const hits: string[] = [];
    for (const file of await filesUnder(join(reports, runId))) {
      const text = await readFile(file, 'latin1');
      for (const secret of reference.secrets) if (text.includes(secret)) hits.push(`${file}: ${secret.slice(0, 4)}...`);
    }
    expect(hits).toEqual([]);
  });

  it('FRAGILE=lying-health: exit 1, NOT_CERTIFIED, the readiness-truth check failed with a remediation', async () => {
    const { dir, reports } = await referenceProject();
    // The boot stage alone: the other stages' own defect tests live in their files.
    const run = await certify(dir, { FRAGILE: 'lying-health' }, undefined, ['--stages', 'boot']);
    expect(run.code, run.stderr).toBe(1);
    const runId = await onlyRun(reports);
    const cert = await readCertification(join(reports, runId, 'certification.json'));
    expect(cert.verdict).toBe('NOT_CERTIFIED');
    expect(cert.stages.boot.status).toBe('failed');
    const failure = cert.criticalFailures.find((f) => f.check === 'boot.readiness-truth.orders.postgres');
    expect(failure?.message).toMatch(/kept answering 200 .* readiness does not tell the truth/);
    expect(failure?.remediation).toMatch(/answer 503 while it is unreachable/);
    expect(await leftovers(runId)).toBe(0);
  });

  it('Ctrl-C while the stack starts: exit 130, the run folder and certification written, no container or network left', async () => {
    const { dir, reports } = await referenceProject();
    let sent = false;
    const run = await certify(dir, { FRAGILE: '' }, (text, kill) => {
      if (!sent && /starting (orders|payments)/.test(text)) {
        sent = true;
        kill();
      }
    });
    expect(sent).toBe(true);
    expect(run.code, run.stderr).toBe(130);
    const runId = await onlyRun(reports);
    const cert = await readCertification(join(reports, runId, 'certification.json'));
    expect(cert.verdict).toBe('NOT_CERTIFIED');
    expect(await leftovers(runId)).toBe(0);
  });
});
