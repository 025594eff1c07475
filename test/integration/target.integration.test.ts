import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { describe, expect, it } from 'vitest';
import { readCheckResults } from '../../src/core/results.ts';
import { LABELS } from '../../src/stack/labels.ts';
import { readStackHandle, serviceUrl } from '../../src/stack/stack-handle.ts';
import { leftovers, onlyRun, referenceProject, runCli } from '../support/harness.ts';

interface StageEntry {
  readonly status: string;
  readonly counts: Readonly<Record<string, number>>;
}

const STAGES = 'boot,contract,chaos';
// Two experiments: one kills and restarts a container (its host ports move), one faults a link
// under a write ledger; neither judges a latency that a busy shared host could decide.
const OVERRIDES = "chaos: { ...base.chaos, experiments: ['orders-kill', 'reset-during-writes'] }";

async function stagesOf(runDir: string): Promise<Record<string, StageEntry>> {
  const cert = JSON.parse(await readFile(join(runDir, 'certification.json'), 'utf8')) as {
    stages: Record<string, StageEntry>;
  };
  return Object.fromEntries(
    STAGES.split(',').map((stage) => [
      stage,
      { status: cert.stages[stage]?.status ?? '', counts: cert.stages[stage]?.counts ?? {} },
    ]),
  );
}

describe('certify --target: a stack something else started (real Docker)', () => {
  it('gives the same stage statuses as a managed run, leaves that stack running, and without Toxiproxy its link faults are not applicable', async () => {
    const managed = await referenceProject('managed', OVERRIDES);
    const managedRun = await runCli(managed.dir, ['certify', '--stages', STAGES, '--seed', '7']);
    expect(managedRun.code, managedRun.stderr.slice(-2000)).toBe(0);
    const managedStages = await stagesOf(await onlyRun(managed.reports));

    const external = await referenceProject('target', OVERRIDES);
    // Another process starts the stack and exits; it stays up (labelled detached).
    const up = await runCli(external.dir, ['up']);
    expect(up.code, up.stderr.slice(-2000)).toBe(0);
    const handleFile = join(external.reports, 'stack-handle.json');
    const handle = await readStackHandle(handleFile);
    try {
      const run = await runCli(external.dir, ['certify', '--stages', STAGES, '--seed', '7', '--target', handleFile]);
      expect(run.code, run.stderr.slice(-2000)).toBe(0);
      expect(run.stderr).toContain(`running against the stack of run ${handle.runId}, which is left running`);
      const runs = (await readdir(external.reports)).filter((n) => /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(n)).sort();
      // The first folder is the `up` run's; the last is this certify's.
      const runDir = join(external.reports, runs.at(-1) ?? '');
      expect(await stagesOf(runDir)).toEqual(managedStages);
      // The target's services were followed into this run's own logs folder.
      expect(await readFile(join(runDir, 'logs', 'orders.log'), 'utf8')).not.toBe('');
      // Left running: every container of the target is still there and the API still answers.
      const docker = (await getContainerRuntimeClient()).container.dockerode;
      const filters = JSON.stringify({ label: [`${LABELS.runId}=${handle.runId}`] });
      const running = await docker.listContainers({ filters });
      expect(running.length).toBe(Object.keys(handle.services).length + (handle.toxiproxy ? 1 : 0));
      // Faults restarted containers on new host ports: the target's handle file was updated to match.
      const after = await readStackHandle(handleFile);
      expect((await fetch(`${serviceUrl(after, 'orders', 8080)}/health/ready`)).status).toBe(200);
      // The certify run itself made no containers of its own that outlive it.
      expect(await leftovers(runDir)).toBe(0);

      // The same stack described as an environment that routes its links through no Toxiproxy.
      const noToxiproxy = join(external.dir, 'handle-without-toxiproxy.json');
      await writeFile(noToxiproxy, JSON.stringify({ ...after, toxiproxy: null }));
      const bare = await runCli(external.dir, [
        'certify',
        '--stages',
        'boot,chaos',
        '--seed',
        '7',
        '--target',
        noToxiproxy,
      ]);
      expect(bare.code, bare.stderr.slice(-2000)).toBe(0);
      const bareRuns = (await readdir(external.reports)).filter((n) => /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(n)).sort();
      const bareDir = join(external.reports, bareRuns.at(-1) ?? '');
      const { checks } = await readCheckResults(join(bareDir, 'allure-results'));
      const byId = (id: string) => checks.find((c) => c.id === id);
      const reason = `Not applicable: ${noToxiproxy} routes its links through no Toxiproxy (toxiproxy: null), so link faults cannot be injected on this stack`;
      // The container fault still runs and passes.
      expect(byId('chaos.orders-kill.recovery')?.status).toBe('passed');
      // The link fault is not applicable with the reason, every check of it; nothing was injected.
      const linkFault = checks.filter((c) => c.id.startsWith('chaos.reset-during-writes.'));
      expect(linkFault.length).toBeGreaterThan(3);
      for (const check of linkFault) {
        expect(check.status, check.id).toBe('not-applicable');
        expect(check.message).toBe(`${reason} (the fault is on link "postgres")`);
      }
      // So is the boot stage's readiness truth, which would cut a link.
      const truth = checks.filter((c) => c.id.startsWith('boot.readiness-truth.'));
      expect(truth.length).toBeGreaterThan(0);
      for (const check of truth) expect(check.status, check.id).toBe('not-applicable');
    } finally {
      const down = await runCli(external.dir, ['down']);
      expect(down.code, down.stderr).toBe(0);
    }
    expect(await leftovers(handle.runId)).toBe(0);
  });

  it('refuses a target that is not the config stack, exit 2 naming file and key, nothing started', async () => {
    const project = await referenceProject('target-bad');
    const file = join(project.dir, 'handle.json');
    await writeFile(
      file,
      JSON.stringify({
        schemaVersion: 1,
        runId: 'x',
        stack: 'someone-else',
        seed: 1,
        createdAt: new Date().toISOString(),
        ownerPid: 1,
        network: 'n',
        logsDir: '/tmp',
        services: {},
        toxiproxy: null,
      }),
    );
    const run = await runCli(project.dir, ['certify', '--target', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${file}: stack is "someone-else"`);
    expect(run.stderr).toContain(`${file}: services.orders is missing`);
    // toxiproxy: null is no problem: the link faults are then recorded not applicable.
    expect(run.stderr).not.toContain(`${file}: toxiproxy`);
  });
});
