import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { describe, expect, it } from 'vitest';
import { LABELS, readStackHandle, serviceUrl } from '../../src/stack/index.ts';
import reference from '../../readiness.config.ts';
import { MAIN, ROOT } from '../support/harness.ts';

function cli(args: readonly string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('readiness up / down / doctor (real Docker)', () => {
  it('doctor reports the engine and every image of the config, with exit 0 when nothing required is missing', () => {
    const run = cli(['doctor', '--json'], ROOT);
    expect(run.code, run.stderr).toBe(0);
    const findings = JSON.parse(run.stdout) as { what: string; level: string }[];
    expect(findings.find((f) => f.what === 'docker engine')?.level).toBe('ok');
    expect(findings.filter((f) => f.what.startsWith('image ')).map((f) => f.what)).toEqual(
      expect.arrayContaining(['image postgres:16', 'image redis:7', 'image ghcr.io/shopify/toxiproxy:2.12.0']),
    );
  });

  it('up leaves the stack running with a handle; down removes every container and network', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-up-'));
    const reports = join(dir, 'reports');
    await writeFile(
      join(dir, 'readiness.config.ts'),
      `import base from ${JSON.stringify(join(ROOT, 'readiness.config.ts'))};\nexport default { ...base, reportsDir: ${JSON.stringify(reports)} };\n`,
    );
    const up = cli(['up'], dir);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('stop it with: readiness down');
    const handle = await readStackHandle(join(reports, 'stack-handle.json'));
    const docker = (await getContainerRuntimeClient()).container.dockerode;
    const filters = JSON.stringify({ label: [`${LABELS.runId}=${handle.runId}`] });
    // Every service of the reference stack, plus Toxiproxy in front of its links.
    const expected = Object.keys(reference.services).length + (reference.links?.length ? 1 : 0);
    try {
      // The CLI process is gone, the stack is not: it is marked detached so no later run reaps it.
      const containers = await docker.listContainers({ filters });
      expect(containers.length).toBe(expected);
      expect(containers.every((c) => c.Labels[LABELS.ownerPid] === 'detached')).toBe(true);
      const ready = await fetch(`${serviceUrl(handle, 'orders', 8080)}/health/ready`);
      expect(ready.status).toBe(200);
    } finally {
      const down = cli(['down'], dir);
      expect(down.code, down.stderr).toBe(0);
      expect(down.stdout).toMatch(new RegExp(`removed run .*: ${expected} containers, 1 networks`));
    }
    expect(await docker.listContainers({ all: true, filters })).toEqual([]);
    expect(await docker.listNetworks({ filters })).toEqual([]);
  });
});
