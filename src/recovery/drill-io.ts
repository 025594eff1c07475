import { getContainerRuntimeClient } from 'testcontainers';
import type { RecoveryConfig } from '../config/stages/recovery.ts';
import { pollUntil } from '../core/clock.ts';
import { httpExchange, refusedOutcome, requestHeaders, sendAndLoseResponse } from '../runner/http.ts';
import type { HttpOutcome, HttpRequest } from '../runner/http.ts';
import type { Identity } from '../auth/act-as.ts';
import type { SuiteContext } from '../runner/suite.ts';
import type { LedgerIo } from '../runner/write-ledger.ts';
import { dockerClient, inspectContainer, refreshServicePorts } from '../stack/containers.ts';
import type { ContainerState } from '../stack/containers.ts';
import { observeHealth } from '../stack/health.ts';
import { containerIdOf, serviceUrl } from '../stack/stack-handle.ts';

/** What a command run in a container returned. */
interface ExecOutcome {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly elapsedMs: number;
}

const tailOf = (text: string, n = 600): string => (text.length > n ? `…${text.slice(-n)}` : text);

/** Runs an argv in a service's container, bounded by `timeoutMs` (a hung command is an error, not a hang). */
export async function execIn(
  context: Pick<SuiteContext, 'handle' | 'signal'>,
  service: string,
  argv: readonly string[],
  timeoutMs: number,
): Promise<ExecOutcome> {
  const containerId = containerIdOf(context.handle, service);
  const client = await getContainerRuntimeClient();
  const docker = client.container.dockerode;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${argv[0] ?? ''} in ${service} did not finish within ${timeoutMs}ms`));
    }, timeoutMs);
  });
  try {
    const result = await Promise.race([client.container.exec(docker.getContainer(containerId), [...argv]), timeout]);
    context.signal.throwIfAborted();
    return {
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      elapsedMs: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** `argv -> exit N: stderr tail`, for messages. */
export function describeExec(argv: readonly string[], outcome: ExecOutcome): string {
  const err = (outcome.stderr || outcome.stdout).trim();
  return `${argv.join(' ')} -> exit ${outcome.exitCode}${err ? `: ${tailOf(err, 400)}` : ''}`;
}

/** One observation of a service's configured health check, through its current host ports. */
async function serviceHealth(
  context: Pick<SuiteContext, 'config' | 'handle' | 'signal'>,
  service: string,
): Promise<{ healthy: boolean; detail: string }> {
  const health = context.config.services[service]?.health;
  const entry = context.handle.services[service];
  if (!health || !entry) return { healthy: false, detail: `${service} has no health check or is not in the stack` };
  return observeHealth(health, {
    host: entry.endpoint.host,
    hostPort: (p) => {
      const port = entry.endpoint.ports[String(p)];
      if (port === undefined) throw new Error(`${service} does not expose port ${p}`);
      return port;
    },
    exec: async (command) => {
      const out = await execIn(context, service, command, 10_000);
      return { exitCode: out.exitCode, output: out.stdout + out.stderr };
    },
  });
}

/** Polls a service's health until healthy or `withinMs` (from now) runs out. */
export async function waitHealthy(
  context: Pick<SuiteContext, 'config' | 'handle' | 'signal' | 'clock'>,
  service: string,
  withinMs: number,
  intervalMs = 100,
): Promise<{ healthy: boolean; elapsedMs: number; detail: string }> {
  const outcome = await pollUntil(
    () => serviceHealth(context, service),
    (o) => o.healthy,
    { timeoutMs: withinMs, intervalMs, clock: context.clock, signal: context.signal },
  );
  const last = outcome.ok ? outcome.value : outcome.last;
  return { healthy: outcome.ok, elapsedMs: outcome.elapsedMs, detail: last?.detail ?? 'no observation' };
}

/** Docker operations on a service's container; each start re-reads its host ports into the handle. */
export class ServiceContainer {
  readonly #context: SuiteContext;
  readonly #service: string;
  readonly #handleFiles: readonly string[];

  constructor(context: SuiteContext, service: string, handleFiles: readonly string[]) {
    this.#context = context;
    this.#service = service;
    this.#handleFiles = handleFiles;
  }

  get #id(): string {
    return containerIdOf(this.#context.handle, this.#service);
  }

  async state(): Promise<ContainerState> {
    return inspectContainer(await dockerClient(), this.#id);
  }

  async kill(): Promise<void> {
    await (await dockerClient()).getContainer(this.#id).kill({ signal: 'SIGKILL' });
  }

  /** Sends one signal to the container's main process (`docker kill -s`). */
  async signal(signal: 'SIGTERM' | 'SIGINT'): Promise<void> {
    await (await dockerClient()).getContainer(this.#id).kill({ signal });
  }

  /** Resolves with the exit code at the container's next exit: call it before signalling the container. */
  async nextExit(): Promise<number> {
    const answer: unknown = await (await dockerClient()).getContainer(this.#id).wait({ condition: 'next-exit' });
    const code = (answer as { StatusCode?: unknown } | null)?.StatusCode;
    if (typeof code !== 'number') throw new Error(`docker wait on ${this.#service} answered without an exit code`);
    return code;
  }

  /** `docker stop -t`: SIGTERM (the image's stop signal), then SIGKILL after the grace period. */
  async stop(graceSec: number): Promise<void> {
    await (await dockerClient()).getContainer(this.#id).stop({ t: graceSec });
  }

  async restart(graceSec: number): Promise<void> {
    await (await dockerClient()).getContainer(this.#id).restart({ t: graceSec });
    await this.refreshPorts();
  }

  /** Starts the container when it is not running (the same container: same name, network alias and volumes). */
  async ensureRunning(): Promise<boolean> {
    const docker = await dockerClient();
    const now = await inspectContainer(docker, this.#id);
    let started = false;
    if (now.paused) await docker.getContainer(this.#id).unpause();
    else if (!now.running) {
      await docker.getContainer(this.#id).start();
      started = true;
    }
    await this.refreshPorts();
    return started;
  }

  async refreshPorts(): Promise<void> {
    const docker = await dockerClient();
    await refreshServicePorts(
      this.#context.handle,
      this.#service,
      await inspectContainer(docker, this.#id),
      this.#handleFiles,
    );
  }
}

/** HTTP to the stack's services as the drill's identity (`recovery.as`); URLs are resolved per request (ports move on restart). */
export class ApiClient {
  readonly #context: SuiteContext;
  readonly #recovery: RecoveryConfig;
  readonly #identity: Identity | undefined;

  constructor(context: SuiteContext, recovery: RecoveryConfig, identity: Identity | undefined) {
    this.#context = context;
    this.#recovery = recovery;
    this.#identity = identity;
  }

  #headers(req: HttpRequest) {
    return requestHeaders(req, this.#identity, `${this.#context.config.configFile}: recovery.as`);
  }

  #url(service: string, port: number, path: string): URL {
    return this.#context.assertTarget(`${serviceUrl(this.#context.handle, service, port)}${path}`);
  }

  /** One request to `service:port` (the request's own service/port win). */
  async request(target: { service: string; port: number }, req: HttpRequest): Promise<HttpOutcome> {
    const service = req.service ?? target.service;
    const port = req.port ?? target.port;
    const url = this.#url(service, port, req.path).href;
    const prepared = await this.#headers(req);
    if ('refused' in prepared) return refusedOutcome(prepared.refused);
    return httpExchange(url, {
      method: req.method ?? 'GET',
      headers: prepared.headers,
      ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
      timeoutMs: req.timeoutMs ?? this.#recovery.probeTimeoutMs,
      signal: this.#context.signal,
    });
  }

  /** The ledger's I/O against one target. */
  ledgerIo(target: { service: string; port: number }, random: () => number): LedgerIo {
    const { clock, signal } = this.#context;
    return {
      request: (req) => this.request(target, req),
      sendAndLose: async (req) => {
        const url = this.#url(req.service ?? target.service, req.port ?? target.port, req.path);
        const prepared = await this.#headers(req);
        if ('refused' in prepared) return { answered: false, detail: prepared.refused };
        return sendAndLoseResponse(
          url.hostname,
          Number(url.port),
          {
            method: req.method ?? 'POST',
            path: req.path,
            headers: prepared.headers,
            body: JSON.stringify(req.body ?? null),
          },
          this.#recovery.probeTimeoutMs,
        );
      },
      random,
      sleep: (ms) => clock.sleep(ms, signal),
      now: () => clock.monotonicMs(),
      signal,
    };
  }
}
