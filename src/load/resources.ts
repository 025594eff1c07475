import type Dockerode from 'dockerode';
import { getContainerRuntimeClient } from 'testcontainers';
import { metricValue, parsePrometheus } from '../runner/prometheus.ts';
import type { StackHandle } from '../stack/stack-handle.ts';

/** One Docker stats sample of a container. */
export interface ResourceSample {
  readonly atMs: number;
  /** CPU use in cores (1.0 = one core busy). */
  readonly cpuCores: number;
  /** Memory judged, MB: the service's Prometheus gauges when configured, else the container's (below). */
  readonly memoryMb: number;
  /** With a Prometheus source: the container's memory without page cache (as `docker stats` shows it), MB. */
  readonly containerMemoryMb?: number;
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

/** What a service kept after the load: its settled memory floor against its memory when the load began. */
interface RetainedMemory {
  /** The first sample, taken as the load began. */
  readonly baselineMb: number;
  readonly peakMb: number;
  /** The lowest sample of the second half of the settle window (after the runtime had time to collect). */
  readonly settledMb: number;
  readonly retainedMb: number;
  readonly settleSamples: number;
}

/**
 * Retained memory from samples spanning load and a quiet settle window that starts at `loadEndMs`;
 * undefined without a baseline or without samples in the second half of the settle window.
 */
export function retainedMemoryMb(
  samples: readonly ResourceSample[],
  loadEndMs: number,
  settleEndMs: number,
): RetainedMemory | undefined {
  const first = samples[0];
  if (!first || first.atMs >= loadEndMs) return undefined;
  const half = loadEndMs + (settleEndMs - loadEndMs) / 2;
  const settled = samples.filter((s) => s.atMs >= half);
  if (settled.length === 0) return undefined;
  const settledMb = Math.min(...settled.map((s) => s.memoryMb));
  return {
    baselineMb: first.memoryMb,
    peakMb: Math.max(...samples.map((s) => s.memoryMb)),
    settledMb,
    retainedMb: settledMb - first.memoryMb,
    settleSamples: settled.length,
  };
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

/**
 * The sum of every series of each named metric in a Prometheus text exposition (bytes -> MB);
 * undefined when one of them is absent (or not a finite number), so a renamed metric is noticed instead of read as 0.
 */
export function sumPrometheusMb(text: string, metrics: readonly string[]): number | undefined {
  const samples = parsePrometheus(text);
  let bytes = 0;
  for (const name of new Set(metrics)) {
    const value = metricValue(samples, name);
    if (value === undefined || !Number.isFinite(value)) return undefined;
    bytes += value;
  }
  return bytes / (1024 * 1024);
}

/** Where a service's memory is read from instead of Docker stats: its Prometheus endpoint. */
interface PrometheusMemorySource {
  readonly url: string;
  readonly metrics: readonly string[];
}

/**
 * Samples the given services' containers every `intervalMs` until `stop()`; a failed sample is skipped,
 * not invented. Memory comes from Docker stats, or from the service's own gauges when it has a source.
 */
export class ResourceSampler {
  readonly #series = new Map<string, ResourceSample[]>();
  readonly #containers: readonly { service: string; id: string }[];
  readonly #intervalMs: number;
  readonly #prometheus: Readonly<Record<string, PrometheusMemorySource>>;
  #timer: NodeJS.Timeout | undefined;
  #docker: Dockerode | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #t0 = 0;
  #stopped = false;

  constructor(
    handle: StackHandle,
    services: readonly string[],
    intervalMs: number,
    prometheus: Readonly<Record<string, PrometheusMemorySource>> = {},
  ) {
    this.#containers = services.flatMap((service) => {
      const id = handle.services[service]?.containerId;
      return id === undefined ? [] : [{ service, id }];
    });
    this.#intervalMs = intervalMs;
    this.#prometheus = prometheus;
  }

  async #scrape(source: PrometheusMemorySource): Promise<number | undefined> {
    try {
      const response = await fetch(source.url, { signal: AbortSignal.timeout(Math.max(500, this.#intervalMs)) });
      if (!response.ok) return undefined;
      return sumPrometheusMb(await response.text(), source.metrics);
    } catch {
      return undefined;
    }
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
        const source = this.#prometheus[service];
        const [stats, scraped] = await Promise.all([
          docker
            .getContainer(id)
            .stats({ stream: false })
            .catch(() => undefined) as Promise<DockerStats | undefined>,
          source ? this.#scrape(source) : Promise.resolve(undefined),
        ]);
        if (!stats?.memory_stats?.usage) return;
        if (source && scraped === undefined) return;
        const read = readDockerStats(stats);
        const list = this.#series.get(service) ?? [];
        list.push({
          atMs: this.elapsedMs(),
          cpuCores: read.cpuCores,
          memoryMb: scraped ?? read.memoryMb,
          ...(scraped === undefined ? {} : { containerMemoryMb: read.memoryMb }),
        });
        this.#series.set(service, list);
      }),
    );
  }

  /** Milliseconds since sampling started (the time base of the samples). */
  elapsedMs(): number {
    return Math.round(performance.now() - this.#t0);
  }

  async stop(): Promise<ResourceSeries[]> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
    return this.#containers.map(({ service }) => ({ service, samples: this.#series.get(service) ?? [] }));
  }
}
