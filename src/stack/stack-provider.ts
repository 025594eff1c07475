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
import { assertNever } from '../core/stage.ts';
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

interface StackOptions {
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
class StartedStack implements AsyncDisposable {
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
    const state = await openStart(this.#config, this.#options);
    try {
      await logsAndNetwork(state);
      state.proxiesReady = startProxies(state);
      void state.proxiesReady.catch(() => undefined);
      await startAllWithinDeadline(state);
      return await finishStart(state);
    } catch (error) {
      throw await failStart(state, error);
    }
  }
}

type ServiceStart = { readonly started: Promise<void>; readonly healthy: Promise<void> };

/** One start of a stack: its settings, the resources to tear down, and what has started so far. */
interface StartState {
  readonly config: ResolvedConfig;
  readonly options: StackOptions;
  readonly clock: Clock;
  readonly abort: AbortController;
  /** Aborts on the caller's signal, on a failed start, and once the stack has started. */
  readonly signal: AbortSignal;
  readonly onOuterAbort: () => void;
  readonly teardowns: Teardowns;
  readonly docker: Dockerode;
  readonly labels: Readonly<Record<string, string>>;
  readonly networkName: string;
  readonly containers: Map<string, StartedTestContainer>;
  /** Container starts and health waits under way, awaited (bounded) by the teardowns. */
  readonly inFlight: Set<Promise<unknown>>;
  readonly logged: ReadonlySet<string>;
  readonly logs: ServiceLogFollower;
  /** Image builds by their build spec and resolved args, so services sharing a build share one. */
  readonly builds: Map<string, Promise<string>>;
  readonly linkServices: ReadonlySet<string>;
  /** Per service: its container runs (`started`) and it passed its health check (`healthy`). */
  readonly starts: Map<string, ServiceStart>;
  readonly services: StackHandle['services'];
  /** Toxiproxy and every link's proxy exist (null when there are no links). */
  proxiesReady: Promise<StackHandle['toxiproxy']>;
}

/** Phase 1: the state of a start, with the teardowns that remove whatever it leaves behind registered first. */
async function openStart(config: ResolvedConfig, options: StackOptions): Promise<StartState> {
  const { runId, redact } = options;
  const abort = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => abort.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const teardowns = new Teardowns();
  const client = await getContainerRuntimeClient();
  const docker = client.container.dockerode;
  const labels = {
    [LABELS.runId]: runId,
    [LABELS.ownerPid]: options.detached ? 'detached' : String(process.pid),
    [LABELS.ownerHost]: hostname(),
    [LABELS.stack]: config.name,
  };
  await mkdir(options.logsDir, { recursive: true });
  const logged = new Set([...Object.keys(config.services), 'toxiproxy']);
  const state: StartState = {
    config,
    options,
    clock: options.clock ?? systemClock,
    abort,
    signal: abort.signal,
    onOuterAbort,
    teardowns,
    docker,
    labels,
    networkName: `readiness-${runId}`,
    containers: new Map(),
    inFlight: new Set(),
    logged,
    logs: new ServiceLogFollower(docker, runId, options.logsDir, redact, logged),
    builds: new Map(),
    linkServices: new Set(config.links.map((l) => l.service)),
    starts: new Map(),
    services: {},
    proxiesReady: Promise.resolve(null),
  };
  // Registered first so it runs last: whatever was missed (a start in flight at SIGINT) goes by label.
  teardowns.add('remove by run label', async () => {
    await settledOrTimeout([...state.inFlight], 30_000);
    await removeRun(docker, runId);
    outer?.removeEventListener('abort', onOuterAbort);
  });
  teardowns.add('close logs', () => state.logs.stop(0));
  return state;
}

/** Adds a container start or health wait to those the teardowns wait for. */
function track<T>(state: StartState, promise: Promise<T>): Promise<T> {
  state.inFlight.add(promise);
  void promise.finally(() => state.inFlight.delete(promise)).catch(() => undefined);
  return promise;
}

/** Phase 2: follow the services' logs and create the network, each with its teardown. */
async function logsAndNetwork(state: StartState): Promise<void> {
  const { docker, networkName, teardowns } = state;
  await state.logs.start();
  teardowns.add(`network ${networkName}`, async () => {
    await docker
      .getNetwork(networkName)
      .remove()
      .catch((error: unknown) => {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      });
  });
  // Registered before any container starts, so it runs before the network goes.
  teardowns.add('stop containers', () => stopContainers(state));
  await docker.createNetwork({ Name: networkName, Driver: 'bridge', Labels: state.labels, CheckDuplicate: true });
}

/**
 * Stops the containers in parallel. Between stop and removal, each service's log is rewritten whole from
 * Docker's log, which keeps every start of a container: what the live follower missed (a removed
 * replacement excepted) is there.
 */
async function stopContainers(state: StartState): Promise<void> {
  const { docker, containers, logs, options } = state;
  await settledOrTimeout([...state.inFlight], 30_000);
  const stopped = await Promise.allSettled(
    [...containers.values()].map((c) => c.stop({ timeout: 5_000, remove: false })),
  );
  await logs.stop();
  const logErrors = await writeServiceLogs(
    docker,
    options.runId,
    options.logsDir,
    options.redact,
    logs.followed(),
    state.logged,
  ).then(
    (): unknown[] => [],
    (error: unknown) => [new Error(`writing the service logs: ${String(error)}`, { cause: error })],
  );
  const removed = await Promise.allSettled(
    [...containers.values()].map((c) => docker.getContainer(c.getId()).remove({ force: true, v: true })),
  );
  const errors = [...logErrors, ...teardownErrors([...stopped, ...removed])];
  if (errors.length > 0) throw new AggregateError(errors, `stopping containers: ${errors.map(String).join('; ')}`);
}

/** The failures among container stops and removals that matter: a container already gone is not one. */
export function teardownErrors(outcomes: readonly PromiseSettledResult<unknown>[]): unknown[] {
  return outcomes.flatMap((r) =>
    r.status === 'rejected' && !/no such container|404|not modified|304/i.test(String(r.reason))
      ? [r.reason as unknown]
      : [],
  );
}

/** The image a config image ref runs as (official or local drop-in). */
function imageOf(state: StartState, ref: string): string {
  return state.options.images[ref] ?? ref;
}

/** A service's image: its configured one, or its build (one build per distinct spec and args). */
function serviceImage(state: StartState, id: string, service: ServiceConfig): Promise<string> {
  if (service.image) return Promise.resolve(imageOf(state, service.image));
  const build = service.build;
  if (!build) throw new StackStartError(`Service "${id}" has neither image nor build`);
  const args = Object.fromEntries(
    Object.entries(build.args).map(([k, v]) => [k, typeof v === 'string' ? v : imageOf(state, v.image)]),
  );
  const key = JSON.stringify([build, args]);
  let pending = state.builds.get(key);
  if (!pending) {
    const { reporter } = state.options;
    pending = buildServiceImage(state.config.name, build, args, {
      ...(reporter ? { reporter } : {}),
      signal: state.signal,
    });
    state.builds.set(key, pending);
  }
  return pending;
}

/** Starts one container on the stack's network; a container that exits as it starts is the service's fault. */
async function launch(
  state: StartState,
  id: string,
  image: string,
  setup: (c: GenericContainer) => GenericContainer,
): Promise<StartedTestContainer> {
  state.signal.throwIfAborted();
  const name = `readiness-${state.options.runId}-${id}`;
  const container = setup(
    new GenericContainer(image)
      .withNetworkMode(state.networkName)
      .withLabels({ ...state.labels, [LABELS.service]: id })
      .withName(name)
      .withWaitStrategy(noWait),
  );
  try {
    const started = await track(state, container.start());
    state.containers.set(id, started);
    return started;
  } catch (error) {
    // A container that exits right away fails the start (its ports never get bound): the service's fault.
    const exitCode = await exitCodeOf(state.docker, name);
    if (exitCode === undefined) throw error;
    throw new ServiceStartError(
      id,
      `Service "${id}" exited with code ${exitCode.toString()} as it started (${error instanceof Error ? error.message : String(error)}). Its last lines:\n${await containerLogTail(state.docker, name)}`,
      { cause: error },
    );
  }
}

function targetOf(started: StartedTestContainer): HealthTarget {
  return {
    host: hostAddress(started.getHost()),
    hostPort: (port) => started.getMappedPort(port),
    exec: async (command) => {
      const result = await started.exec([...command]);
      return { exitCode: result.exitCode, output: result.output };
    },
  };
}

/** One Toxiproxy proxy of a link: its name, where it listens in the network and where it forwards to. */
interface ProxyPlan {
  readonly name: string;
  readonly service: string;
  readonly port: number;
  readonly listen: string;
  readonly upstream: string;
}

/** The proxies for a config's links: each listens on the service's port under its alias, forwarding to `<service>-upstream`. */
export function planProxies(links: ResolvedConfig['links']): ProxyPlan[] {
  return links.map((link) => ({
    name: link.name ?? link.service,
    service: link.service,
    port: link.port,
    listen: `0.0.0.0:${link.port}`,
    upstream: `${link.service}-upstream:${link.port}`,
  }));
}

/** Phase 3 (in parallel with the services): Toxiproxy, answering, with a proxy per link; null without links. */
async function startProxies(state: StartState): Promise<StackHandle['toxiproxy']> {
  const { config } = state;
  if (config.links.length === 0) return null;
  const image = imageOf(state, config.images.toxiproxy);
  const proxy = await launch(state, 'toxiproxy', image, (c) =>
    c.withNetworkAliases(...state.linkServices).withExposedPorts(8474, ...config.links.map((l) => l.port)),
  );
  const apiUrl = `http://${hostAddress(proxy.getHost())}:${proxy.getMappedPort(8474)}`;
  const ready = await waitForHealth(
    { kind: 'http', port: 8474, path: '/version', timeoutMs: 30_000 },
    targetOf(proxy),
    { clock: state.clock, signal: state.signal },
  );
  if (!ready.healthy)
    throw new StackStartError(`Toxiproxy did not answer at ${apiUrl} within 30000ms (${ready.detail})`);
  const api = new ToxiproxyApi(apiUrl);
  const proxies: NonNullable<StackHandle['toxiproxy']>['proxies'] = {};
  for (const plan of planProxies(config.links)) {
    await api.createProxy(plan.name, plan.listen, plan.upstream);
    proxies[plan.name] = {
      service: plan.service,
      listen: plan.listen,
      upstream: plan.upstream,
      hostPort: proxy.getMappedPort(plan.port),
    };
  }
  return { containerId: proxy.getId(), apiUrl, image, proxies };
}

/** A service's start, begun once: later callers (its dependants) share it. */
function startService(state: StartState, id: string): ServiceStart {
  const existing = state.starts.get(id);
  if (existing) return existing;
  const service = state.config.services[id];
  if (!service) throw new StackStartError(`Unknown service "${id}"`);
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const healthy = bringUp(state, id, service, () => markStarted());
  // A failure before the container runs must also release services waiting for `started`.
  void healthy.catch(() => markStarted());
  const entry = { started: Promise.race([started, healthy]), healthy: track(state, healthy) };
  // Nobody may wait on `started` (a service no one depends on); its failure is reported through `healthy`.
  void entry.started.catch(() => undefined);
  state.starts.set(id, entry);
  return entry;
}

/** One service: its image, its dependencies, its container, its health; then its handle entry. */
async function bringUp(state: StartState, id: string, service: ServiceConfig, markStarted: () => void): Promise<void> {
  const { clock, options } = state;
  const image = await serviceImage(state, id, service);
  await Promise.all(
    service.dependsOn.map((dep) =>
      service.waitUntil[dep] === 'started' ? startService(state, dep).started : startService(state, dep).healthy,
    ),
  );
  // Clients reach an interposed dependency through Toxiproxy, so its proxies must exist first.
  if (service.dependsOn.some((d) => state.linkServices.has(d))) await state.proxiesReady;
  const alias = state.linkServices.has(id) ? `${id}-upstream` : id;
  const startedAt = clock.monotonicMs();
  options.reporter?.onInfo?.(`starting ${id} (${image})`);
  const container = await launch(state, id, image, (c) => {
    let next = c.withNetworkAliases(alias).withEnvironment(service.env);
    if (service.ports.length > 0) next = next.withExposedPorts(...service.ports);
    if (service.command) next = next.withCommand(service.command);
    if (Object.keys(service.tmpfs).length > 0) next = next.withTmpFs(service.tmpfs);
    return next;
  });
  markStarted();
  const host = hostAddress(container.getHost());
  if (service.health) await awaitHealthy(state, id, service.health, container);
  const startupMs = Math.round(clock.monotonicMs() - startedAt);
  options.reporter?.onInfo?.(`${id} healthy in ${startupMs}ms`);
  state.services[id] = {
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
}

/** How a service's health wait ended, judged from the wait's answer and Docker's word on the container. */
type HealthJudgement =
  | { readonly kind: 'healthy' }
  | { readonly kind: 'exited'; readonly exitCode: number }
  | { readonly kind: 'interrupted' }
  | { readonly kind: 'unhealthy' };

/**
 * A container that stopped is judged by its exit even when a check passed (Docker's port proxy can answer
 * for a container that has already exited); an unhealthy answer after an abort is an interruption.
 */
export function judgeHealth(healthy: boolean, exitCode: number | undefined, aborted: boolean): HealthJudgement {
  if (exitCode !== undefined) return { kind: 'exited', exitCode };
  if (healthy) return { kind: 'healthy' };
  return aborted ? { kind: 'interrupted' } : { kind: 'unhealthy' };
}

/** Waits for a service's health check; the wait ends as soon as Docker reports the container stopped. */
async function awaitHealthy(
  state: StartState,
  id: string,
  health: NonNullable<ServiceConfig['health']>,
  container: StartedTestContainer,
): Promise<void> {
  const { clock, docker, signal } = state;
  const watch = new AbortController();
  const healthSignal = AbortSignal.any([signal, watch.signal]);
  const exited = whenExited(docker, container.getId(), clock, healthSignal).then((code) => {
    if (code !== undefined) watch.abort('exited');
    return code;
  });
  const result = await waitForHealth(health, targetOf(container), { clock, signal: healthSignal }).catch(
    (error: unknown) => {
      // The exit watch ended the wait: the container stopped, which is judged below.
      if (watch.signal.aborted && !signal.aborted)
        return { healthy: false, elapsedMs: 0, detail: 'the container stopped' };
      throw error;
    },
  );
  watch.abort('done');
  const exitCode = (await exited) ?? (await exitCodeOf(docker, container.getId()));
  const judgement = judgeHealth(result.healthy, exitCode, signal.aborted);
  if (judgement.kind === 'healthy') return;
  const logFile = join(state.options.logsDir, `${id}.log`);
  const where = `Logs: ${relative(process.cwd(), logFile)}`;
  switch (judgement.kind) {
    case 'exited':
      throw new ServiceStartError(
        id,
        `Service "${id}" exited with code ${judgement.exitCode.toString()} before it became healthy (${result.detail}). ${where}; its last lines:\n${await containerLogTail(docker, container.getId())}`,
      );
    case 'interrupted':
      throw new StackStartError(`Service "${id}" start interrupted (${result.detail})`);
    case 'unhealthy':
      throw new ServiceStartError(
        id,
        `Service "${id}" not healthy after ${health.timeoutMs.toString()}ms (${result.detail}). ${where}\n${await logTail(logFile)}`,
      );
    default:
      return assertNever(judgement);
  }
}

/** Phase 4: every service healthy and the proxies made, or the start deadline's error. */
async function startAllWithinDeadline(state: StartState): Promise<void> {
  const { config } = state;
  const all = Promise.all([
    state.proxiesReady,
    ...startOrder(config.services).map((id) => startService(state, id).healthy),
  ]);
  const deadline = state.clock.sleep(config.deadlines.stackStartMs, state.signal).then(() => {
    throw new StackStartError(
      `Stack "${config.name}" did not start within ${config.deadlines.stackStartMs}ms (deadlines.stackStartMs)`,
    );
  });
  await Promise.race([all, deadline]);
}

/** Phase 5: the started stack and its handle. */
async function finishStart(state: StartState): Promise<StartedStack> {
  const { config, options } = state;
  state.abort.abort('started');
  // A detached stack outlives this process: its logs are written whole by `readiness down`.
  if (options.detached) await state.logs.stop(0);
  const handle: StackHandle = {
    schemaVersion: 1,
    runId: options.runId,
    stack: config.name,
    seed: options.seed,
    createdAt: new Date(state.clock.now()).toISOString(),
    ownerPid: process.pid,
    network: state.networkName,
    logsDir: options.logsDir,
    services: state.services,
    toxiproxy: await state.proxiesReady,
  };
  return new StartedStack(handle, state.containers, state.teardowns);
}

/** On failure: everything started is torn down, and the error to throw is decided. */
async function failStart(state: StartState, error: unknown): Promise<unknown> {
  state.abort.abort(error);
  await state.teardowns.run();
  return startFailure(state.config.name, error, state.options.signal);
}

/** The error a failed start throws: the caller's abort reason, a start error as is, anything else wrapped. */
export function startFailure(stackName: string, error: unknown, outer: AbortSignal | undefined): unknown {
  if (outer?.aborted) return outer.reason instanceof Error ? outer.reason : error;
  if (error instanceof StackStartError) return error;
  return new StackStartError(
    `Stack "${stackName}" failed to start: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
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
