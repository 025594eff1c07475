import type Dockerode from 'dockerode';
import { getContainerRuntimeClient } from 'testcontainers';
import type { StackHandle } from './stack-handle.ts';
import { writeStackHandle } from './stack-handle.ts';

/** Dockerode of testcontainers' runtime client (the same engine the stack runs on). */
export async function dockerClient(): Promise<Dockerode> {
  return (await getContainerRuntimeClient()).container.dockerode;
}

export interface ContainerState {
  readonly running: boolean;
  readonly paused: boolean;
  readonly startedAt: string;
  readonly status: string;
  /** Container port -> host port, as Docker maps them now. */
  readonly ports: Readonly<Record<string, number>>;
}

/** Docker's view of a container, including its current host port mapping. */
export async function inspectContainer(docker: Dockerode, id: string): Promise<ContainerState> {
  const info = await docker.getContainer(id).inspect();
  const ports: Record<string, number> = {};
  // A stopped container reports no port map at all (null), whatever the type says.
  const portMap = info.NetworkSettings.Ports as Readonly<Record<string, readonly { HostPort: string }[] | null>> | null;
  for (const [key, bindings] of Object.entries(portMap ?? {})) {
    const hostPort = (bindings ?? []).find((b) => b.HostPort)?.HostPort;
    if (hostPort) ports[key.replace(/\/tcp$/, '')] = Number(hostPort);
  }
  return {
    running: info.State.Running,
    paused: info.State.Paused,
    startedAt: info.State.StartedAt,
    status: info.State.Status,
    ports,
  };
}

/** The pids of processes in a container whose command line starts with `prefix` (a POSIX sh scan of /proc). */
const PROCESS_SCAN =
  'for p in /proc/[0-9]*; do pid=${p#/proc/}; [ "$pid" = "$$" ] && continue; ' +
  'c=$(tr "\\000" " " < "$p/cmdline" 2>/dev/null) || continue; ' +
  'case "$c" in "$1"*) echo "$pid"; if [ -n "$2" ]; then kill -s "$2" "$pid"; fi;; esac; done';

/** Lists (and with `signal`, signals) the processes of a container whose command line starts with `prefix`. */
export async function signalProcesses(
  docker: Dockerode,
  id: string,
  prefix: string,
  signal?: 'KILL' | 'TERM',
): Promise<number[]> {
  const client = await getContainerRuntimeClient();
  const result = await client.container.exec(docker.getContainer(id), [
    'sh',
    '-c',
    PROCESS_SCAN,
    'sh',
    prefix,
    signal ?? '',
  ]);
  if (result.exitCode !== 0)
    throw new Error(`process scan in ${id.slice(0, 12)} exited ${result.exitCode}: ${result.output.slice(0, 200)}`);
  return result.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * After a container restart Docker may map its ports to new host ports: the handle is updated so
 * every later probe (and a later stage of the same run) reaches the service again, and each handle
 * file is rewritten for `readiness drill`/`down` from other shells.
 */
export async function refreshServicePorts(
  handle: StackHandle,
  service: string,
  state: ContainerState,
  handleFiles: readonly string[],
): Promise<{ changed: boolean; before: Record<string, number>; after: Record<string, number> }> {
  const entry = handle.services[service];
  if (!entry) return { changed: false, before: {}, after: {} };
  const before = { ...entry.endpoint.ports };
  const after: Record<string, number> = {};
  for (const port of Object.keys(before)) after[port] = state.ports[port] ?? before[port] ?? 0;
  const changed = Object.keys(before).some((p) => before[p] !== after[p]);
  if (changed) {
    // Deliberately in place: the handle describes the running stack, and that stack changed.
    entry.endpoint.ports = after;
    for (const file of handleFiles) await writeStackHandle(file, handle);
  }
  return { changed, before, after };
}
