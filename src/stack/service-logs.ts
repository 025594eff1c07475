import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { Redactor } from '../core/redact.ts';
import { LABELS } from './labels.ts';

/** One container's whole log as Docker keeps it (every start of that container, in order). */
export interface ContainerLog {
  readonly name: string;
  readonly id: string;
  /** Docker's creation time, seconds since the epoch. */
  readonly created: number;
  readonly text: string;
}

/**
 * Decodes the body of `GET /containers/{id}/logs`: frames of an 8-byte header (stream, 0, 0, 0,
 * big-endian size) and a payload when the container has no TTY; the raw text when it has one.
 */
export function demuxDockerLog(body: Buffer, tty: boolean): string {
  if (tty) return body.toString('utf8');
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= body.length) {
    const size = body.readUInt32BE(offset + 4);
    parts.push(body.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

/** A service's log file: every container of the service oldest first, each line redacted; a header per container when it was replaced. */
export function renderServiceLog(logs: readonly ContainerLog[], redact: Redactor): string {
  const sorted = [...logs].sort((a, b) => a.created - b.created);
  const blocks = sorted.map((log) => {
    const lines = log.text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const body = lines.map((line) => redact(line.replace(/\r$/, ''))).join('\n');
    const header =
      sorted.length > 1
        ? `# container ${log.name} (${log.id.slice(0, 12)}), created ${new Date(log.created * 1000).toISOString()}\n`
        : '';
    return `${header}${body}${body === '' ? '' : '\n'}`;
  });
  return blocks.join('');
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Writes `<logsDir>/<service>.log` for every service container of the run (stopped ones included),
 * from `docker logs --timestamps`, which Docker keeps across restarts of a container: the file covers
 * every lifetime of the service, and every container that replaced it, not only the first start.
 * Call it after the containers stopped and before they are removed. Returns the services written.
 */
export async function writeServiceLogs(
  docker: Dockerode,
  runId: string,
  logsDir: string,
  redact: Redactor,
): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${LABELS.runId}=${runId}`] });
  const containers = await docker.listContainers({ all: true, filters });
  const byService = new Map<string, ContainerLog[]>();
  await Promise.all(
    containers.map(async (info) => {
      const service = info.Labels[LABELS.service];
      if (service === undefined || !SAFE_NAME.test(service)) return;
      const container = docker.getContainer(info.Id);
      const inspect = await container.inspect();
      const body = await container.logs({ stdout: true, stderr: true, timestamps: true, follow: false });
      const log: ContainerLog = {
        name: (info.Names[0] ?? info.Id).replace(/^\//, ''),
        id: info.Id,
        created: info.Created,
        text: demuxDockerLog(body, inspect.Config.Tty),
      };
      byService.set(service, [...(byService.get(service) ?? []), log]);
    }),
  );
  const services = [...byService.keys()].sort();
  for (const service of services)
    await writeFile(join(logsDir, `${service}.log`), renderServiceLog(byService.get(service) ?? [], redact));
  return services;
}
