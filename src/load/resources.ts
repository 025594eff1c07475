import type Dockerode from 'dockerode';
import { getContainerRuntimeClient } from 'testcontainers';
import type { StackHandle } from '../stack/stack-handle.ts';

/** One Docker stats sample of a container. */
export interface ResourceSample {
  readonly atMs: number;
  /** CPU use in cores (1.0 = one core busy). */
  readonly cpuCores: number;
  /** Memory in use without page cache (as `docker stats` shows it), MB. */
  readonly memoryMb: number;
}

export interface ResourceSeries {
  readonly service: string;
  readonly samples: readonly ResourceSample[];
}

/** Least-squares slope of memory over time, MB per minute; undefined with fewer than 3 samples. */
export function memorySlopeMbPerMin(samples: readonly ResourceSample[]): number | undefined {
  if (samples.length < 3) return undefined;
  const xs = samples.map((s) => s.atMs / 60_000);
  const ys = samples.map((s) => s.memoryMb);
  const n = samples.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - mx;
    num += dx * ((ys[i] ?? 0) - my);
    den += dx * dx;
  }
  return den === 0 ? undefined : num / den;
}

interface DockerStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

/** CPU (cores) and memory (MB, minus inactive file cache) of one `stats({stream:false})` answer. */
export function readDockerStats(stats: DockerStats): { cpuCores: number; memoryMb: number } {
  const cpu = stats.cpu_stats;
  const pre = stats.precpu_stats;
  const cpuDelta = (cpu?.cpu_usage?.total_usage ?? 0) - (pre?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu?.system_cpu_usage ?? 0) - (pre?.system_cpu_usage ?? 0);
  const cores = cpu?.online_cpus ?? 1;
  const cpuCores = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cores : 0;
  const usage = stats.memory_stats?.usage ?? 0;
  const cache = stats.memory_stats?.stats?.inactive_file ?? stats.memory_stats?.stats?.total_inactive_file ?? 0;
  return { cpuCores, memoryMb: Math.max(0, usage - cache) / (1024 * 1024) };
}

/** Samples the given services' containers every `intervalMs` until `stop()`; a failed sample is skipped, not invented. */
export class ResourceSampler {
  readonly #series = new Map<string, ResourceSample[]>();
  readonly #containers: readonly { service: string; id: string }[];
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #docker: Dockerode | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #t0 = 0;
  #stopped = false;

  constructor(handle: StackHandle, services: readonly string[], intervalMs: number) {
    this.#containers = services.flatMap((service) => {
      const entry = handle.services[service];
      return entry ? [{ service, id: entry.containerId }] : [];
    });
    this.#intervalMs = intervalMs;
  }

  async start(): Promise<void> {
    this.#docker = (await getContainerRuntimeClient()).container.dockerode;
    this.#t0 = performance.now();
    const tick = (): void => {
      if (this.#stopped) return;
      this.#inFlight = this.#sample();
      this.#timer = setTimeout(() => {
        void this.#inFlight.then(tick);
      }, this.#intervalMs);
    };
    tick();
  }

  async #sample(): Promise<void> {
    const docker = this.#docker;
    if (!docker) return;
    await Promise.all(
      this.#containers.map(async ({ service, id }) => {
        const stats = (await docker
          .getContainer(id)
          .stats({ stream: false })
          .catch(() => undefined)) as DockerStats | undefined;
        if (!stats?.memory_stats?.usage) return;
        const list = this.#series.get(service) ?? [];
        list.push({ atMs: Math.round(performance.now() - this.#t0), ...readDockerStats(stats) });
        this.#series.set(service, list);
      }),
    );
  }

  async stop(): Promise<ResourceSeries[]> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
    return this.#containers.map(({ service }) => ({ service, samples: this.#series.get(service) ?? [] }));
  }
}
