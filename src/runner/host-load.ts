import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import type { Evidence, Metric } from '../core/check-result.ts';

/** Cumulative CPU time of the host in clock ticks, from the `cpu` line of /proc/stat. */
interface CpuTicks {
  readonly total: number;
  /** Everything but idle and iowait (steal included: time the hypervisor gave to someone else). */
  readonly busy: number;
  readonly steal: number;
}

/** One reading of the host: the 1-minute load average per core and, where /proc/stat exists, CPU ticks. */
interface HostLoadSample {
  readonly loadPerCore: number;
  readonly cores: number;
  readonly cpu?: CpuTicks;
}

/** Reads the host's load; injected in tests, the system's by default. */
export interface HostLoadSampler {
  sample(): HostLoadSample;
}

/** When the host counts as saturated (config `hostSaturation`). */
interface HostSaturationThresholds {
  readonly maxLoadPerCore: number;
  readonly maxBusyRatio: number;
}

/** The host's load over one check's window. */
export interface HostLoad {
  readonly cores: number;
  /** The highest 1-minute load average per core seen in the window. */
  readonly maxLoadPerCore: number;
  /** Share of CPU time busy over the window; absent without /proc/stat or on a window too short to tell (< 10 ticks). */
  readonly busyRatio?: number;
  /**
   * The highest busy share between two consecutive samples (about 5 s apart): a burst the window's average
   * hides, e.g. another job that started during the last phase of a load run. Absent as `busyRatio` is.
   */
  readonly peakBusyRatio?: number;
  readonly stealRatio?: number;
  readonly samples: number;
}

/** Below this many ticks (100 ms at the usual 100 Hz) a busy share says nothing. */
const MIN_TICKS = 10;

/** The `cpu` line of /proc/stat as ticks; undefined when the text has none. */
export function parseProcStat(text: string): CpuTicks | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return undefined;
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user/nice.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { total, busy: total - idle - iowait, steal };
}

/** The host's own sampler: `os.loadavg()` per `os.availableParallelism()` core, plus /proc/stat where it exists. */
export function systemHostLoadSampler(procStat = '/proc/stat'): HostLoadSampler {
  let hasProcStat = true;
  return {
    sample: () => {
      const cores = availableParallelism();
      const loadPerCore = (loadavg()[0] ?? 0) / cores;
      let cpu: CpuTicks | undefined;
      if (hasProcStat) {
        try {
          cpu = parseProcStat(readFileSync(procStat, 'utf8'));
        } catch {
          // No readable /proc/stat (macOS, Windows, a locked-down container): the load average alone judges.
          hasProcStat = false;
        }
      }
      return { loadPerCore, cores, ...(cpu ? { cpu } : {}) };
    },
  };
}

/** Folds samples taken over a window (first to last) into the window's host load. */
export function summarizeHostLoad(samples: readonly HostLoadSample[]): HostLoad | undefined {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last) return undefined;
  const maxLoadPerCore = Math.max(...samples.map((s) => s.loadPerCore));
  const round = (n: number): number => Math.round(n * 1000) / 1000;
  const ticks = first.cpu && last.cpu ? last.cpu.total - first.cpu.total : 0;
  // Busy share of each interval between consecutive samples that is long enough to tell.
  const intervals = samples.slice(1).flatMap((sample, i) => {
    const before = samples[i]?.cpu;
    const span = sample.cpu && before ? sample.cpu.total - before.total : 0;
    return sample.cpu && before && span >= MIN_TICKS ? [(sample.cpu.busy - before.busy) / span] : [];
  });
  const cpu =
    first.cpu && last.cpu && ticks >= MIN_TICKS
      ? {
          busyRatio: round((last.cpu.busy - first.cpu.busy) / ticks),
          peakBusyRatio: round(Math.max((last.cpu.busy - first.cpu.busy) / ticks, ...intervals)),
          stealRatio: round((last.cpu.steal - first.cpu.steal) / ticks),
        }
      : {};
  return { cores: last.cores, maxLoadPerCore: round(maxLoadPerCore), samples: samples.length, ...cpu };
}

/**
 * The worse of two windows' host loads, e.g. the window a check's figures were measured in and the window
 * it judged them in: the higher load per core, busy and steal share; undefined only when both are.
 */
export function worseHostLoad(a: HostLoad | undefined, b: HostLoad | undefined): HostLoad | undefined {
  if (!a || !b) return a ?? b;
  const max = (x: number | undefined, y: number | undefined): number | undefined =>
    x === undefined ? y : y === undefined ? x : Math.max(x, y);
  const busyRatio = max(a.busyRatio, b.busyRatio);
  const peakBusyRatio = max(a.peakBusyRatio, b.peakBusyRatio);
  const stealRatio = max(a.stealRatio, b.stealRatio);
  return {
    cores: Math.max(a.cores, b.cores),
    maxLoadPerCore: Math.max(a.maxLoadPerCore, b.maxLoadPerCore),
    samples: a.samples + b.samples,
    ...(busyRatio === undefined ? {} : { busyRatio }),
    ...(peakBusyRatio === undefined ? {} : { peakBusyRatio }),
    ...(stealRatio === undefined ? {} : { stealRatio }),
  };
}

/**
 * Why the host counts as saturated over the window, or undefined when it does not. The CPU busy share over
 * the window decides when it was measured: the 1-minute load average lags the window by up to a minute and
 * counts tasks asleep on I/O (measured here: load 1.52 per core while the CPU was 77% idle), so it judges
 * only a window without a busy share (no /proc/stat, or under 100 ms). A burst counts: the busiest interval
 * between two samples (about 5 s) at the threshold saturates the window too.
 */
export function saturationReason(load: HostLoad, thresholds: HostSaturationThresholds): string | undefined {
  if (load.busyRatio !== undefined) {
    const stolen = load.stealRatio ? ` (${Math.round(load.stealRatio * 100)}% stolen)` : '';
    const threshold = `(threshold ${Math.round(thresholds.maxBusyRatio * 100)}%)`;
    if (load.busyRatio >= thresholds.maxBusyRatio)
      return `CPU ${Math.round(load.busyRatio * 100)}% busy${stolen} ${threshold}`;
    const peak = load.peakBusyRatio ?? load.busyRatio;
    return peak >= thresholds.maxBusyRatio
      ? `CPU ${Math.round(peak * 100)}% busy over part of the window (${Math.round(load.busyRatio * 100)}% over all of it) ${threshold}`
      : undefined;
  }
  return load.maxLoadPerCore > thresholds.maxLoadPerCore
    ? `load ${load.maxLoadPerCore} per core on ${load.cores} cores (threshold ${thresholds.maxLoadPerCore}; no CPU busy share measured)`
    : undefined;
}

/** The window's host load as check metrics. */
export function hostLoadMetrics(load: HostLoad): Metric[] {
  return [
    { name: 'host_load_per_core', value: load.maxLoadPerCore, unit: 'ratio' },
    { name: 'host_cores', value: load.cores, unit: 'count' },
    ...(load.busyRatio === undefined ? [] : [{ name: 'host_cpu_busy_ratio', value: load.busyRatio, unit: 'ratio' }]),
    ...(load.peakBusyRatio === undefined
      ? []
      : [{ name: 'host_cpu_peak_busy_ratio', value: load.peakBusyRatio, unit: 'ratio' }]),
    ...(load.stealRatio === undefined ? [] : [{ name: 'host_cpu_steal_ratio', value: load.stealRatio, unit: 'ratio' }]),
  ];
}

/** The window's host load as a line of evidence. */
export function hostLoadEvidence(load: HostLoad, thresholds: HostSaturationThresholds): Evidence {
  const cpu =
    load.busyRatio === undefined
      ? 'CPU busy share not measured (no /proc/stat or a window under 100 ms)'
      : `CPU busy ${load.busyRatio} (busiest interval ${load.peakBusyRatio ?? load.busyRatio}), steal ${load.stealRatio ?? 0}`;
  return {
    name: 'host load during the check',
    contentType: 'text/plain',
    content: `1-minute load average per core (max of ${load.samples} samples): ${load.maxLoadPerCore} on ${load.cores} cores; ${cpu}; thresholds: load ${thresholds.maxLoadPerCore} per core, CPU busy ${thresholds.maxBusyRatio}`,
  };
}

/** Samples the host from `start()` to `stop()`, every `periodMs` in between (a timer that `stop()` always clears). */
export class HostLoadMonitor {
  readonly #sampler: HostLoadSampler;
  readonly #periodMs: number;
  readonly #samples: HostLoadSample[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  /** At most this many periodic samples are kept: bounded memory on a check of any length. */
  static readonly MAX_SAMPLES = 120;

  constructor(sampler: HostLoadSampler, periodMs = 5_000) {
    this.#sampler = sampler;
    this.#periodMs = periodMs;
  }

  start(): void {
    this.#take();
    if (this.#periodMs > 0) {
      this.#timer = setInterval(() => {
        if (this.#samples.length < HostLoadMonitor.MAX_SAMPLES) this.#take();
      }, this.#periodMs);
      this.#timer.unref();
    }
  }

  stop(): HostLoad | undefined {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#take();
    return summarizeHostLoad(this.#samples);
  }

  #take(): void {
    this.#samples.push(this.#sampler.sample());
  }
}
