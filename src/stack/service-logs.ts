import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Redactor } from '../core/redact.ts';
import { CONTAINER_FAULT_EVENTS, faultJournal } from './fault-journal.ts';
import type { FaultJournal } from './fault-journal.ts';
import { LABELS } from './labels.ts';

/** One container's whole log as Docker keeps it (every start of that container, in order). */
interface ContainerLog {
  readonly service: string;
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

/** The line the follower writes into a service's log when it lost that container's log: the file has a gap. */
export const FOLLOW_FAILED_MARK = '# following the log of ';

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
  /** Logs followed live: used for the containers Docker no longer has (a replaced container that was removed). */
  followed: readonly ContainerLog[] = [],
  /** Only these services (the stack's); other containers of the run (a scanner) keep their own evidence. */
  only?: ReadonlySet<string>,
): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${LABELS.runId}=${runId}`] });
  const containers = await docker.listContainers({ all: true, filters });
  const byService = new Map<string, ContainerLog[]>();
  await Promise.all(
    containers.map(async (info) => {
      const service = info.Labels[LABELS.service];
      if (service === undefined || !SAFE_NAME.test(service) || (only && !only.has(service))) return;
      const container = docker.getContainer(info.Id);
      const inspect = await container.inspect();
      const body = await container.logs({ stdout: true, stderr: true, timestamps: true, follow: false });
      const log: ContainerLog = {
        service,
        name: (info.Names[0] ?? info.Id).replace(/^\//, ''),
        id: info.Id,
        created: info.Created,
        text: demuxDockerLog(body, inspect.Config.Tty),
      };
      byService.set(service, [...(byService.get(service) ?? []), log]);
    }),
  );
  const present = new Set(containers.map((c) => c.Id));
  for (const log of followed.filter((l) => !present.has(l.id)))
    byService.set(log.service, [...(byService.get(log.service) ?? []), log]);
  const services = [...byService.keys()].sort();
  if (services.length > 0) await mkdir(logsDir, { recursive: true });
  for (const service of services)
    await writeFile(join(logsDir, `${service}.log`), renderServiceLog(byService.get(service) ?? [], redact));
  return services;
}

/** Ends a Docker API stream (an HTTP response) so its socket does not keep the process alive. */
function destroy(stream: NodeJS.ReadableStream | null): void {
  if (stream && 'destroy' in stream && typeof stream.destroy === 'function') (stream as Readable).destroy();
}

/** Nanoseconds since the epoch of a line of `docker logs --timestamps` (RFC 3339, up to 9 fraction digits); null without one. */
export function timestampNs(line: string): bigint | null {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z\s/.exec(line);
  if (!match) return null;
  const ms = Date.parse(`${match[1] ?? ''}Z`);
  if (Number.isNaN(ms)) return null;
  return BigInt(ms) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** Splits Docker's multiplexed log stream into payloads as chunks arrive (a frame may span chunks). */
export class FrameDecoder {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const payloads: Buffer[] = [];
    while (this.#pending.length >= 8) {
      const size = this.#pending.readUInt32BE(4);
      if (this.#pending.length < 8 + size) break;
      payloads.push(this.#pending.subarray(8, 8 + size));
      this.#pending = this.#pending.subarray(8 + size);
    }
    return payloads;
  }
}

interface Followed {
  readonly service: string;
  readonly name: string;
  /** Timestamp of the last line written: a stream opened after a restart starts after it. */
  lastNs: bigint;
  following: Promise<void> | null;
  /** A start seen while the previous stream had not ended yet. */
  again: boolean;
  readonly createdSec: number;
  /** What was written, kept for a container removed before teardown (bounded). */
  readonly lines: string[];
  bytes: number;
}

/** Per container, how much of its followed log is kept in memory for the case it is removed before teardown. */
const KEPT_BYTES = 8 * 1024 * 1024;

/**
 * Follows the logs of every container of a run while it runs, into `<logsDir>/<service>.log`:
 * each start of a container (the first, a restart, a start after a kill) and each container that
 * replaces a service is picked up from Docker's events, resuming after the last line already
 * written. Lines keep Docker's timestamps and are redacted. The same events note every kill, stop,
 * pause and start in the fault journal, so quiet-phase checks know when a container was acted on.
 */
export class ServiceLogFollower {
  readonly #docker: Dockerode;
  readonly #runId: string;
  readonly #logsDir: string;
  readonly #redact: Redactor;
  readonly #only: ReadonlySet<string> | undefined;
  readonly #journal: FaultJournal;
  readonly #containers = new Map<string, Followed>();
  readonly #files = new Map<string, { out: WriteStream; lastContainer: string }>();
  readonly #streams = new Set<NodeJS.ReadableStream>();
  #events: NodeJS.ReadableStream | null = null;
  #stopping: Promise<void> | null = null;

  /**
   * `only`: the services followed (the stack's); other containers of the run (a scanner) are not.
   * `journal`: where the container actions (kill, stop, pause, restart, start) are noted as fault changes.
   */
  constructor(
    docker: Dockerode,
    runId: string,
    logsDir: string,
    redact: Redactor,
    only?: ReadonlySet<string>,
    journal: FaultJournal = faultJournal,
  ) {
    this.#journal = journal;
    this.#only = only;
    this.#docker = docker;
    this.#runId = runId;
    this.#logsDir = logsDir;
    this.#redact = redact;
  }

  /** Subscribes to the run's container starts; call it before the first container starts. */
  async start(): Promise<void> {
    const events = await this.#docker.getEvents({
      filters: {
        label: [`${LABELS.runId}=${this.#runId}`],
        type: ['container'],
        event: [...new Set(['start', ...CONTAINER_FAULT_EVENTS])],
      },
    });
    this.#events = events;
    let rest = '';
    events.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') this.#onEvent(line);
    });
    // The daemon going away ends the stream; the complete logs are still written at teardown.
    events.on('error', () => undefined);
  }

  #onEvent(line: string): void {
    const event = JSON.parse(line) as {
      id?: string;
      time?: number;
      timeNano?: number;
      Action?: string;
      status?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
    };
    const id = event.Actor?.ID ?? event.id;
    const attributes = event.Actor?.Attributes ?? {};
    const service = attributes[LABELS.service];
    if (id === undefined || service === undefined || !SAFE_NAME.test(service)) return;
    if (this.#only && !this.#only.has(service)) return;
    const action = event.Action ?? event.status ?? 'start';
    const atMs = event.timeNano === undefined ? (event.time ?? 0) * 1000 : Math.floor(event.timeNano / 1e6);
    this.#journal.noteContainerEvent(this.#runId, service, action, atMs);
    if (action !== 'start') return;
    const known = this.#containers.get(id);
    const state = known ?? {
      service,
      name: attributes['name'] ?? id,
      lastNs: 0n,
      following: null,
      again: false,
      createdSec: event.time ?? 0,
      lines: [],
      bytes: 0,
    };
    if (!known) this.#containers.set(id, state);
    this.#attach(id, state);
  }

  #attach(id: string, state: Followed): void {
    if (this.#stopping) return;
    if (state.following) {
      state.again = true;
      return;
    }
    state.following = this.#follow(id, state)
      .catch((error: unknown) => {
        this.#write(id, state, `${FOLLOW_FAILED_MARK}${state.name} failed: ${String(error)}`);
      })
      .finally(() => {
        state.following = null;
        if (state.again) {
          state.again = false;
          this.#attach(id, state);
        }
      });
  }

  async #follow(id: string, state: Followed): Promise<void> {
    const container = this.#docker.getContainer(id);
    const tty = (await container.inspect()).Config.Tty;
    const boundary = state.lastNs;
    const stream = await container.logs({
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
      since: Number(boundary / 1_000_000_000n),
    });
    this.#streams.add(stream);
    const decoder = new FrameDecoder();
    let rest = '';
    const take = (text: string): void => {
      const lines = (rest + text).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.#line(id, state, boundary, line.replace(/\r$/, ''));
    };
    stream.on('data', (chunk: Buffer) => {
      if (tty) take(chunk.toString('utf8'));
      else for (const payload of decoder.push(chunk)) take(payload.toString('utf8'));
    });
    await new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', reject);
    }).finally(() => this.#streams.delete(stream));
    if (rest !== '') this.#line(id, state, boundary, rest);
  }

  #line(id: string, state: Followed, boundary: bigint, line: string): void {
    const ns = timestampNs(line);
    // A stream opened again after a restart repeats the second it resumes from.
    if (ns !== null && boundary > 0n && ns <= boundary) return;
    if (ns !== null && ns > state.lastNs) state.lastNs = ns;
    const redacted = this.#redact(line);
    if (state.bytes < KEPT_BYTES) {
      state.lines.push(redacted);
      state.bytes += redacted.length + 1;
    }
    this.#write(id, state, redacted);
  }

  #write(id: string, state: Followed, line: string): void {
    let file = this.#files.get(state.service);
    if (!file) {
      file = { out: createWriteStream(join(this.#logsDir, `${state.service}.log`), { flags: 'a' }), lastContainer: id };
      this.#files.set(state.service, file);
    }
    // Another container of the same service (a replacement) gets a header, as in the final log.
    if (file.lastContainer !== id) {
      file.lastContainer = id;
      if (file.out.writable) file.out.write(`# container ${state.name} (${id.slice(0, 12)})\n`);
    }
    if (file.out.writable) file.out.write(`${line}\n`);
  }

  /** What was followed of each container (the first 8 MiB), for `writeServiceLogs`. */
  followed(): ContainerLog[] {
    return [...this.#containers].map(([id, s]) => ({
      service: s.service,
      name: s.name,
      id,
      created: s.createdSec,
      text: s.lines.map((l) => `${l}\n`).join(''),
    }));
  }

  /**
   * Stops following and closes the files; safe to call twice. After the containers stopped, their
   * streams have ended; streams of containers still running (a detached stack) are cut after `waitMs`.
   */
  stop(waitMs = 10_000): Promise<void> {
    this.#stopping ??= this.#stop(waitMs);
    return this.#stopping;
  }

  async #stop(waitMs: number): Promise<void> {
    destroy(this.#events);
    const following = [...this.#containers.values()].flatMap((s) => (s.following ? [s.following] : []));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(following),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    for (const stream of this.#streams) destroy(stream);
    await Promise.all([...this.#files.values()].map(({ out }) => new Promise<void>((resolve) => out.end(resolve))));
  }
}
