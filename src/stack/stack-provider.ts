import { mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import type Dockerode from 'dockerode';
import { GenericContainer, getContainerRuntimeClient } from 'testcontainers';
import type { StartedTestContainer, WaitStrategy } from 'testcontainers';
import type { ResolvedConfig } from '../config/load-config.ts';
import type { ServiceConfig } from '../config/schema.ts';
import { systemClock } from '../core/clock.ts';
import type { Clock } from '../core/clock.ts';
import { ServiceStartError, StackStartError } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';
import type { Reporter } from '../core/reporter.ts';
import { Teardowns } from '../core/teardown.ts';
import { buildServiceImage } from './build.ts';
import { waitForHealth } from './health.ts';
import type { HealthTarget } from './health.ts';
import { LABELS } from './labels.ts';
import { removeRun } from './reap.ts';
import { demuxDockerLog, ServiceLogFollower, writeServiceLogs } from './service-logs.ts';
import { writeStackHandle } from './stack-handle.ts';
import type { StackHandle } from './stack-handle.ts';
import { ToxiproxyApi } from './toxiproxy-api.ts';

export interface StackOptions {
  readonly runId: string;
  readonly seed: number;
  readonly logsDir: string;
  /** Image ref as written in the config -> the ref to run (official or local drop-in). */
  readonly images: Readonly<Record<string, string>>;
  readonly redact: Redactor;
  readonly reporter?: Reporter;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  /** `readiness up`: the stack outlives this process, so it is not reaped as an orphan. */
  readonly detached?: boolean;
}

/** Every image ref a config's stack needs: service images, build-arg images, Toxiproxy. */
export function stackImageRefs(config: ResolvedConfig): string[] {
  const refs = new Set<string>();
  for (const service of Object.values(config.services)) {
    if (service.image) refs.add(service.image);
    for (const arg of Object.values(service.build?.args ?? {})) if (typeof arg !== 'string') refs.add(arg.image);
  }
  if (config.links.length > 0) refs.add(config.images.toxiproxy);
  return [...refs];
}

/** Services in an order where each comes after its dependencies. */
export function startOrder(services: Readonly<Record<string, ServiceConfig>>): string[] {
  const order: string[] = [];
  const visit = (id: string): void => {
    if (order.includes(id)) return;
    for (const dep of services[id]?.dependsOn ?? []) visit(dep);
    order.push(id);
  };
  Object.keys(services).forEach(visit);
  return order;
}

/** Testcontainers waits on nothing: the harness polls the configured health itself, with its own messages. */
const noWait: WaitStrategy = {
  waitUntilReady: () => Promise.resolve(),
  withStartupTimeout() {
    return this;
  },
  isStartupTimeoutSet: () => true,
  getStartupTimeout: () => 0,
};

/** How often a starting service's container is asked whether it still runs. */
const EXIT_POLL_MS = 500;

/** Docker's word on a container that is not running (exited or dead): its exit code; undefined while it runs. */
async function exitCodeOf(docker: Dockerode, id: string): Promise<number | undefined> {
  const info = await docker
    .getContainer(id)
    .inspect()
    .catch(() => undefined);
  if (info === undefined || info.State.Running || info.State.Restarting) return undefined;
  return info.State.ExitCode;
}

/** Resolves with the container's exit code as soon as Docker reports it stopped; undefined once `signal` aborts. */
async function whenExited(
  docker: Dockerode,
  id: string,
  clock: Clock,
  signal: AbortSignal,
): Promise<number | undefined> {
  while (!signal.aborted) {
    const code = await exitCodeOf(docker, id);
    if (code !== undefined) return code;
    await clock.sleep(EXIT_POLL_MS, signal).catch(() => undefined);
  }
  return undefined;
}

/** The last lines a container wrote (stdout and stderr), straight from Docker. */
async function containerLogTail(docker: Dockerode, id: string, lines = 25): Promise<string> {
  try {
    const container = docker.getContainer(id);
    const info = await container.inspect();
    const body = await container.logs({ stdout: true, stderr: true, tail: lines, follow: false });
    const text = demuxDockerLog(body, info.Config.Tty).trimEnd();
    return text === '' ? '(the container wrote nothing)' : text;
  } catch {
    return '(no log captured)';
  }
}

async function logTail(file: string, lines = 25): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log captured)';
  }
}

/** A running stack: containers, Toxiproxy, the handle. Only a started stack has endpoints and `stop()`. */
export class StartedStack implements AsyncDisposable {
  readonly handle: StackHandle;
  readonly containers: ReadonlyMap<string, StartedTestContainer>;
  readonly toxiproxy: ToxiproxyApi | undefined;
  readonly #teardowns: Teardowns;

  constructor(handle: StackHandle, containers: ReadonlyMap<string, StartedTestContainer>, teardowns: Teardowns) {
    this.handle = handle;
    this.containers = containers;
    this.toxiproxy = handle.toxiproxy ? new ToxiproxyApi(handle.toxiproxy.apiUrl) : undefined;
    this.#teardowns = teardowns;
  }

  endpoints(): StackHandle['services'] {
    return this.handle.services;
  }

  /** Stops every container and removes the network; safe to call twice. */
  async stop(): Promise<void> {
    const errors = await this.#teardowns.run();
    if (errors.length > 0)
      throw new AggregateError(
        errors,
        `Stack teardown had ${errors.length} error(s): ${errors.map((e) => e.message).join('; ')}`,
      );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Starts a config's services on one network, Toxiproxy interposed on every link. */
export class StackProvider {
  readonly #config: ResolvedConfig;
  readonly #options: StackOptions;

  constructor(config: ResolvedConfig, options: StackOptions) {
    this.#config = config;
    this.#options = options;
  }

  async start(): Promise<StartedStack> {
    const config = this.#config;
    const { runId, reporter, redact } = this.#options;
    const clock = this.#options.clock ?? systemClock;
    const abort = new AbortController();
    const outer = this.#options.signal;
    const onOuterAbort = (): void => abort.abort(outer?.reason);
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    const signal = abort.signal;
    const teardowns = new Teardowns();
    const client = await getContainerRuntimeClient();
    const docker = client.container.dockerode;
    const labels = {
      [LABELS.runId]: runId,
      [LABELS.ownerPid]: this.#options.detached ? 'detached' : String(process.pid),
      [LABELS.ownerHost]: hostname(),
      [LABELS.stack]: config.name,
    };
    const containers = new Map<string, StartedTestContainer>();
    const inFlight = new Set<Promise<unknown>>();
    await mkdir(this.#options.logsDir, { recursive: true });
    const logged = new Set([...Object.keys(config.services), 'toxiproxy']);
    const logs = new ServiceLogFollower(docker, runId, this.#options.logsDir, redact, logged);

    // Registered first so it runs last: whatever was missed (a start in flight at SIGINT) goes by label.
    teardowns.add('remove by run label', async () => {
      await settledOrTimeout([...inFlight], 30_000);
      await removeRun(docker, runId);
      outer?.removeEventListener('abort', onOuterAbort);
    });
    teardowns.add('close logs', () => logs.stop(0));

    const track = <T>(promise: Promise<T>): Promise<T> => {
      inFlight.add(promise);
      void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
      return promise;
    };

    try {
      await logs.start();
      const networkName = `readiness-${runId}`;
      teardowns.add(`network ${networkName}`, async () => {
        await docker
          .getNetwork(networkName)
          .remove()
          .catch((error: unknown) => {
            if ((error as { statusCode?: number }).statusCode !== 404) throw error;
          });
      });
      // Registered before any container starts, so it runs before the network goes; stops in parallel.
      // Between stop and removal, each service's log is rewritten whole from Docker's log, which keeps
      // every start of a container: what the live follower missed (a removed replacement excepted) is there.
      teardowns.add('stop containers', async () => {
        await settledOrTimeout([...inFlight], 30_000);
        const stopped = await Promise.allSettled(
          [...containers.values()].map((c) => c.stop({ timeout: 5_000, remove: false })),
        );
        await logs.stop();
        const logErrors = await writeServiceLogs(
          docker,
          runId,
          this.#options.logsDir,
          redact,
          logs.followed(),
          logged,
        ).then(
          (): unknown[] => [],
          (error: unknown) => [new Error(`writing the service logs: ${String(error)}`, { cause: error })],
        );
        const removed = await Promise.allSettled(
          [...containers.values()].map((c) => docker.getContainer(c.getId()).remove({ force: true, v: true })),
        );
        const errors = [
          ...logErrors,
          ...[...stopped, ...removed].flatMap((r) =>
            r.status === 'rejected' && !/no such container|404|not modified|304/i.test(String(r.reason))
              ? [r.reason as unknown]
              : [],
          ),
        ];
        if (errors.length > 0)
          throw new AggregateError(errors, `stopping containers: ${errors.map(String).join('; ')}`);
      });
      await docker.createNetwork({ Name: networkName, Driver: 'bridge', Labels: labels, CheckDuplicate: true });

      const imageOf = (ref: string): string => this.#options.images[ref] ?? ref;
      const builds = new Map<string, Promise<string>>();
      const serviceImage = (id: string, service: ServiceConfig): Promise<string> => {
        if (service.image) return Promise.resolve(imageOf(service.image));
        const build = service.build;
        if (!build) throw new StackStartError(`Service "${id}" has neither image nor build`);
        const args = Object.fromEntries(
          Object.entries(build.args).map(([k, v]) => [k, typeof v === 'string' ? v : imageOf(v.image)]),
        );
        const key = JSON.stringify([build, args]);
        let pending = builds.get(key);
        if (!pending) {
          pending = buildServiceImage(config.name, build, args, { ...(reporter ? { reporter } : {}), signal });
          builds.set(key, pending);
        }
        return pending;
      };

      const launch = async (
        id: string,
        image: string,
        setup: (c: GenericContainer) => GenericContainer,
      ): Promise<StartedTestContainer> => {
        signal.throwIfAborted();
        const container = setup(
          new GenericContainer(image)
            .withNetworkMode(networkName)
            .withLabels({ ...labels, [LABELS.service]: id })
            .withName(`readiness-${runId}-${id}`)
            .withWaitStrategy(noWait),
        );
        try {
          const started = await track(container.start());
          containers.set(id, started);
          return started;
        } catch (error) {
          // A container that exits right away fails the start (its ports never get bound): the service's fault.
          const name = `readiness-${runId}-${id}`;
          const exitCode = await exitCodeOf(docker, name);
          if (exitCode === undefined) throw error;
          throw new ServiceStartError(
            id,
            `Service "${id}" exited with code ${exitCode.toString()} as it started (${error instanceof Error ? error.message : String(error)}). Its last lines:\n${await containerLogTail(docker, name)}`,
            { cause: error },
          );
        }
      };

      const targetOf = (started: StartedTestContainer): HealthTarget => ({
        host: hostAddress(started.getHost()),
        hostPort: (port) => started.getMappedPort(port),
        exec: async (command) => {
          const result = await started.exec([...command]);
          return { exitCode: result.exitCode, output: result.output };
        },
      });

      const linkServices = new Set(config.links.map((l) => l.service));
      let toxiproxyEntry: StackHandle['toxiproxy'] = null;
      const proxiesReady = (async () => {
        if (config.links.length === 0) return;
        const image = imageOf(config.images.toxiproxy);
        const proxy = await launch('toxiproxy', image, (c) =>
          c
            .withNetworkAliases(...new Set(config.links.map((l) => l.service)))
            .withExposedPorts(8474, ...config.links.map((l) => l.port)),
        );
        const apiUrl = `http://${hostAddress(proxy.getHost())}:${proxy.getMappedPort(8474)}`;
        const ready = await waitForHealth(
          { kind: 'http', port: 8474, path: '/version', timeoutMs: 30_000 },
          targetOf(proxy),
          {
            clock,
            signal,
          },
        );
        if (!ready.healthy)
          throw new StackStartError(`Toxiproxy did not answer at ${apiUrl} within 30000ms (${ready.detail})`);
        const api = new ToxiproxyApi(apiUrl);
        const proxies: NonNullable<StackHandle['toxiproxy']>['proxies'] = {};
        for (const link of config.links) {
          const name = link.name ?? link.service;
          const listen = `0.0.0.0:${link.port}`;
          const upstream = `${link.service}-upstream:${link.port}`;
          await api.createProxy(name, listen, upstream);
          proxies[name] = { service: link.service, listen, upstream, hostPort: proxy.getMappedPort(link.port) };
        }
        toxiproxyEntry = { containerId: proxy.getId(), apiUrl, image, proxies };
      })();
      void proxiesReady.catch(() => undefined);

      const services: StackHandle['services'] = {};
      /** Per service: its container runs (`started`) and it passed its health check (`healthy`). */
      const starts = new Map<string, { started: Promise<void>; healthy: Promise<void> }>();
      const startService = (id: string): { started: Promise<void>; healthy: Promise<void> } => {
        const existing = starts.get(id);
        if (existing) return existing;
        const service = config.services[id];
        if (!service) throw new StackStartError(`Unknown service "${id}"`);
        let markStarted: () => void = () => undefined;
        const started = new Promise<void>((resolve) => {
          markStarted = resolve;
        });
        const healthy = (async () => {
          const image = await serviceImage(id, service);
          await Promise.all(
            service.dependsOn.map((dep) =>
              service.waitUntil[dep] === 'started' ? startService(dep).started : startService(dep).healthy,
            ),
          );
          // Clients reach an interposed dependency through Toxiproxy, so its proxies must exist first.
          if (service.dependsOn.some((d) => linkServices.has(d))) await proxiesReady;
          const alias = linkServices.has(id) ? `${id}-upstream` : id;
          const startedAt = clock.monotonicMs();
          reporter?.onInfo?.(`starting ${id} (${image})`);
          const container = await launch(id, image, (c) => {
            let next = c.withNetworkAliases(alias).withEnvironment(service.env);
            if (service.ports.length > 0) next = next.withExposedPorts(...service.ports);
            if (service.command) next = next.withCommand(service.command);
            if (Object.keys(service.tmpfs).length > 0) next = next.withTmpFs(service.tmpfs);
            return next;
          });
          markStarted();
          const host = hostAddress(container.getHost());
          if (service.health) {
            // The health wait ends as soon as Docker reports the container stopped, not at the end of its budget.
            const watch = new AbortController();
            const healthSignal = AbortSignal.any([signal, watch.signal]);
            const exited = whenExited(docker, container.getId(), clock, healthSignal).then((code) => {
              if (code !== undefined) watch.abort('exited');
              return code;
            });
            const result = await waitForHealth(service.health, targetOf(container), {
              clock,
              signal: healthSignal,
            }).catch((error: unknown) => {
              // The exit watch ended the wait: the container stopped, which is judged below.
              if (watch.signal.aborted && !signal.aborted)
                return { healthy: false, elapsedMs: 0, detail: 'the container stopped' };
              throw error;
            });
            watch.abort('done');
            // A check answered by Docker's port proxy can pass for a container that has already exited.
            const exitCode = (await exited) ?? (await exitCodeOf(docker, container.getId()));
            if (!result.healthy || exitCode !== undefined) {
              const logFile = join(this.#options.logsDir, `${id}.log`);
              const where = `Logs: ${relative(process.cwd(), logFile)}`;
              if (exitCode !== undefined) {
                throw new ServiceStartError(
                  id,
                  `Service "${id}" exited with code ${exitCode.toString()} before it became healthy (${result.detail}). ${where}; its last lines:\n${await containerLogTail(docker, container.getId())}`,
                );
              }
              if (signal.aborted) throw new StackStartError(`Service "${id}" start interrupted (${result.detail})`);
              throw new ServiceStartError(
                id,
                `Service "${id}" not healthy after ${service.health.timeoutMs.toString()}ms (${result.detail}). ${where}\n${await logTail(logFile)}`,
              );
            }
          }
          const startupMs = Math.round(clock.monotonicMs() - startedAt);
          reporter?.onInfo?.(`${id} healthy in ${startupMs}ms`);
          services[id] = {
            containerId: container.getId(),
            containerName: container.getName().replace(/^\//, ''),
            image,
            endpoint: {
              host,
              alias: id,
              ports: Object.fromEntries(service.ports.map((p) => [String(p), container.getMappedPort(p)])),
            },
            startupMs,
          };
        })();
        // A failure before the container runs must also release services waiting for `started`.
        void healthy.catch(() => markStarted());
        const entry = { started: Promise.race([started, healthy]), healthy: track(healthy) };
        // Nobody may wait on `started` (a service no one depends on); its failure is reported through `healthy`.
        void entry.started.catch(() => undefined);
        starts.set(id, entry);
        return entry;
      };

      const all = Promise.all([proxiesReady, ...startOrder(config.services).map((id) => startService(id).healthy)]);
      const deadline = clock.sleep(config.deadlines.stackStartMs, signal).then(() => {
        throw new StackStartError(
          `Stack "${config.name}" did not start within ${config.deadlines.stackStartMs}ms (deadlines.stackStartMs)`,
        );
      });
      await Promise.race([all, deadline]);
      abort.abort('started');
      // A detached stack outlives this process: its logs are written whole by `readiness down`.
      if (this.#options.detached) await logs.stop(0);
      const handle: StackHandle = {
        schemaVersion: 1,
        runId,
        stack: config.name,
        seed: this.#options.seed,
        createdAt: new Date(clock.now()).toISOString(),
        ownerPid: process.pid,
        network: networkName,
        logsDir: this.#options.logsDir,
        services,
        toxiproxy: toxiproxyEntry,
      };
      return new StartedStack(handle, containers, teardowns);
    } catch (error) {
      abort.abort(error);
      await teardowns.run();
      if (outer?.aborted) throw outer.reason instanceof Error ? outer.reason : error;
      if (error instanceof StackStartError) throw error;
      throw new StackStartError(
        `Stack "${config.name}" failed to start: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
  }
}

/** Waits for every promise to settle, at most `ms`; the timer never keeps the process alive afterwards. */
async function settledOrTimeout(promises: readonly Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(promises),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

/** Loopback by address, not by name: `localhost` may resolve to ::1 first. */
function hostAddress(host: string): string {
  return host === 'localhost' ? '127.0.0.1' : host;
}

export { writeStackHandle };
