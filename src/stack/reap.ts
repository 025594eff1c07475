import { hostname } from 'node:os';
import type Dockerode from 'dockerode';
import { LABELS } from './labels.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Force-removes every container and network labelled with the run id; returns what was removed. */
export async function removeRun(docker: Dockerode, runId: string): Promise<{ containers: number; networks: number }> {
  const filters = JSON.stringify({ label: [`${LABELS.runId}=${runId}`] });
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch((error: unknown) => {
          if ((error as { statusCode?: number }).statusCode !== 404) throw error;
        }),
    ),
  );
  const networks = await docker.listNetworks({ filters });
  for (const n of networks) {
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch((error: unknown) => {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      });
  }
  return { containers: containers.length, networks: networks.length };
}

/** Removes the debris of runs on this host whose owner process is gone (a crash or `kill -9`); `readiness up` stacks carry `owner-pid=detached` and are kept. */
export async function reapOrphans(docker: Dockerode): Promise<string[]> {
  const filters = JSON.stringify({ label: [LABELS.runId] });
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
  ]);
  const owners = new Map<string, { pid: number; host: string | undefined }>();
  for (const labels of [...containers.map((c) => c.Labels), ...networks.map((n) => n.Labels ?? {})]) {
    const runId = labels[LABELS.runId];
    const pid = Number(labels[LABELS.ownerPid]);
    if (runId && Number.isInteger(pid)) owners.set(runId, { pid, host: labels[LABELS.ownerHost] });
  }
  const reaped: string[] = [];
  for (const [runId, owner] of owners) {
    if (owner.host !== undefined && owner.host !== hostname()) continue;
    if (isAlive(owner.pid)) continue;
    await removeRun(docker, runId);
    reaped.push(runId);
  }
  return reaped;
}
