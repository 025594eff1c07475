import { spawn } from 'node:child_process';
import { mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
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
 * The reference config with the load stage from fixtures/readiness/load.ts (whether or not it is
 * enabled there), reports in a temp folder; `only` keeps the scenarios a defect run needs.
 */
async function loadProject(only?: { scenarios: string[]; knee: boolean }): Promise<{ dir: string; reports: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'readiness-load-'));
  const reports = join(dir, 'reports');
  const keep = only ? JSON.stringify(only.scenarios) : 'undefined';
  await writeFile(
    join(dir, 'readiness.config.ts'),
    `import base from ${JSON.stringify(join(ROOT, 'readiness.config.ts'))};
import { load } from ${JSON.stringify(join(ROOT, 'fixtures/readiness/load.ts'))};
const keep = ${keep};
export default {
  ...base,
  stages: [...base.stages.filter((s) => s !== 'load'), 'load'],
  load: {
    ...load.config,
    script: ${JSON.stringify(join(ROOT, 'scenarios/load/orders-mix.js'))},
    scenarios: load.config.scenarios.filter((s) => keep === undefined || keep.includes(s.id)),
    ${only && !only.knee ? 'knee: undefined,' : ''}
  },
  policy: { ...base.policy, stages: { ...base.policy.stages, load: load.policy } },
  reportsDir: ${JSON.stringify(reports)},
  suitesDir: ${JSON.stringify(join(ROOT, 'suites'))},
};\n`,
  );
  return { dir, reports };
}

function certify(dir: string, fragile: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [MAIN, 'certify', '--stages', 'load'], {
      cwd: dir,
      env: { ...process.env, FRAGILE: fragile },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

async function onlyRun(reports: string): Promise<string> {
  const runs = (await readdir(reports)).filter((n) => /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(n));
  expect(runs).toHaveLength(1);
  return join(reports, runs[0] ?? '');
}

async function leftovers(runFolder: string): Promise<number> {
  const runId = runFolder.split('/').at(-1) ?? '';
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const filters = JSON.stringify({ label: [`${LABELS.runId}=${runId}`] });
  return (await docker.listContainers({ all: true, filters })).length;
}

describe('load stage (k6) on the reference stack', () => {
  it('healthy: the load stage passes with p95/p99/rps/error rate per scenario and phase, and a knee', async () => {
    const { dir, reports } = await loadProject();
    const run = await certify(dir, '');
    const folder = await onlyRun(reports);
    const cert = await readCertification(join(folder, 'certification.json'));
    expect(cert.stages.load.status, run.stdout).toBe('passed');
    expect(run.code, run.stderr).toBe(0);
    const { checks } = await readCheckResults(join(folder, 'allure-results'));
    const load = checks.filter((c) => c.stage === 'load');
    expect(load.every((c) => c.status === 'passed')).toBe(true);
    const fault = load.find((c) => c.id === 'load.fault-phase.http_req_duration.phase-fault.p95');
    expect(fault?.metrics.map((m) => m.name)).toEqual(
      expect.arrayContaining(['p95_ms', 'p99_ms', 'rps', 'error_rate']),
    );
    // One check per scenario carries every phase's figures and the services' resources.
    const perPhase = load.find(
      (c) => c.id.startsWith('load.fault-phase.') && c.metrics.some((m) => m.name === 'fault_p95_ms'),
    );
    expect(perPhase?.metrics.map((m) => m.name)).toEqual(
      expect.arrayContaining([
        'baseline_p95_ms',
        'fault_p95_ms',
        'recovery_p95_ms',
        'fault_rps',
        'orders_memory_max_mb',
      ]),
    );
    expect(load.find((c) => c.id === 'load.knee')?.metrics.map((m) => m.name)).toContain('max_reached_rps');
    expect((await stat(join(folder, 'load', 'baseline.summary.json'))).size).toBeGreaterThan(0);
    expect(await leftovers(folder)).toBe(0);
  });

  const defects = [
    {
      fragile: 'slow-list',
      scenarios: ['baseline'],
      check: 'load.baseline.http_req_duration.phase-steady.name-list.p95',
      text: /p\(95\)<200 on http_req_duration\{phase:steady,name:list\}/,
    },
    {
      fragile: 'leak',
      scenarios: ['soak-short'],
      check: 'load.soak-short.memory-slope.orders',
      text: /orders memory grew [\d.]+ MB\/min/,
    },
    {
      fragile: 'no-timeout',
      scenarios: ['fault-phase'],
      check: 'load.fault-phase.http_req_duration.phase-fault.p95',
      text: /\[phase fault\]/,
    },
  ];
  for (const defect of defects) {
    it(`FRAGILE=${defect.fragile}: the load stage fails on ${defect.check}`, async () => {
      const { dir, reports } = await loadProject({ scenarios: defect.scenarios, knee: false });
      const run = await certify(dir, defect.fragile);
      expect(run.code, run.stderr).toBe(1);
      const folder = await onlyRun(reports);
      const cert = await readCertification(join(folder, 'certification.json'));
      expect(cert.stages.load.status).toBe('failed');
      const failure = cert.criticalFailures.find((f) => f.check === defect.check);
      expect(failure?.message).toMatch(defect.text);
      expect(await leftovers(folder)).toBe(0);
    });
  }
});
