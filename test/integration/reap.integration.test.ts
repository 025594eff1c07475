import { hostname } from 'node:os';
import { getContainerRuntimeClient } from 'testcontainers';
import { describe, expect, it } from 'vitest';
import { LABELS, reapOrphans } from '../../src/stack/index.ts';

/** A pid that is certainly not running: past the kernel's pid_max default. */
const DEAD_PID = '4194305';

describe('reapOrphans (real Docker)', () => {
  it('removes the containers and network of a run whose owner died, and keeps live and detached runs', async () => {
    const docker = (await getContainerRuntimeClient()).container.dockerode;
    const stamp = Date.now();
    const runs = {
      crashed: { id: `reap-crashed-${stamp}`, owner: DEAD_PID },
      live: { id: `reap-live-${stamp}`, owner: String(process.pid) },
      detached: { id: `reap-detached-${stamp}`, owner: 'detached' },
    };
    const image = 'readiness-local/debian:bookworm';
    for (const run of Object.values(runs)) {
      const labels = { [LABELS.runId]: run.id, [LABELS.ownerPid]: run.owner, [LABELS.ownerHost]: hostname() };
      await docker.createNetwork({ Name: `readiness-${run.id}`, Labels: labels });
      await docker.createContainer({
        Image: image,
        Cmd: ['sleep', '60'],
        Labels: labels,
        HostConfig: { NetworkMode: `readiness-${run.id}` },
      });
    }
    const count = async (runId: string): Promise<number> => {
      const filters = JSON.stringify({ label: [`${LABELS.runId}=${runId}`] });
      return (
        (await docker.listContainers({ all: true, filters })).length + (await docker.listNetworks({ filters })).length
      );
    };
    try {
      const reaped = await reapOrphans(docker);
      expect(reaped).toContain(runs.crashed.id);
      expect(reaped).not.toContain(runs.live.id);
      expect(reaped).not.toContain(runs.detached.id);
      expect(await count(runs.crashed.id)).toBe(0);
      expect(await count(runs.live.id)).toBe(2);
      expect(await count(runs.detached.id)).toBe(2);
    } finally {
      const { removeRun } = await import('../../src/stack/index.ts');
      for (const run of Object.values(runs)) await removeRun(docker, run.id);
    }
  });
});
