import { spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LABELS } from '../../src/stack/labels.ts';
import { MAIN, ROOT, referenceProject } from '../support/harness.ts';

const BAD = join(ROOT, 'test/fixtures/chaos/experiments-bad');

/** Testcontainers' containers on this engine: id -> the readiness owner pid label ('' when none). */
function testcontainers(): Map<string, string> {
  const result = spawnSync(
    'docker',
    [
      'ps',
      '-aq',
      '--no-trunc',
      '--filter',
      'label=org.testcontainers=true',
      '--format',
      `{{.ID}} {{.Label "${LABELS.ownerPid}"}}`,
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`docker ps failed: ${result.stderr}`);
  const lines = result.stdout.split('\n').filter(Boolean);
  return new Map(lines.map((l) => [l.split(' ')[0] ?? l, l.split(' ')[1] ?? '']));
}

/** `readiness certify` in `dir`: exit code, output, and the CLI's pid (its containers carry it as a label). */
function certify(dir: string): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [MAIN, 'certify', '--config', 'readiness.config.ts'], { cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => done({ code, stdout, stderr, pid: child.pid ?? -1 }));
  });
}

/** The reference config with its experiments replaced by `experiments` (fixture files) and `overrides`. */
async function project(experiments: readonly string[], overrides = ''): Promise<{ dir: string; reports: string }> {
  const { dir, reports } = await referenceProject(
    'preflight',
    `chaos: { ...base.chaos, experimentsDir: 'experiments' }, ${overrides}`,
  );
  await mkdir(join(dir, 'experiments'));
  // Each bad fixture is a plain object with no imports, so a copy loads anywhere.
  for (const file of experiments) await copyFile(join(BAD, file), join(dir, 'experiments', file));
  return { dir, reports };
}

const CASES = [
  {
    what: 'an experiment with an unknown key',
    setup: () => project(['unknown-key.ts']),
    lines: ['experiments/unknown-key.ts: recovery.timeoutMs is not a known key; remove it or check the spelling'],
  },
  {
    what: 'an experiment with a wrong type',
    setup: () => project(['wrong-type.ts']),
    lines: ['experiments/wrong-type.ts: fault.latencyMs must be a number (received "500")'],
  },
  {
    what: 'a missing load script',
    setup: () => referenceProject('preflight', `load: { ...base.load, script: 'scenarios/missing.js' }`),
    lines: ['readiness.config.ts: load.script (scenarios/missing.js) does not exist'],
  },
] as const;

describe('certify refuses bad input before anything starts (real CLI, real Docker)', () => {
  for (const { what, setup, lines } of CASES) {
    it(`${what}: exit 2 naming file and key, no run folder, no container`, async () => {
      const { dir, reports } = await setup();
      const before = testcontainers();
      const run = await certify(dir);
      const after = testcontainers();
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual(lines);
      expect(run.stdout).toBe('');
      // Nothing started: no reports folder, and no testcontainers container that was not there before
      // and carries this CLI's pid (every container of a run does). Other processes share this engine
      // (other test files, other runs), so a new container without this pid is not this CLI's.
      expect(await readdir(dir)).not.toContain('reports');
      expect(reports.startsWith(dir)).toBe(true);
      const started = [...after].filter(([id, owner]) => !before.has(id) && owner === String(run.pid));
      expect(started).toEqual([]);
    });
  }
});
