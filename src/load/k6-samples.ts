import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** One request: when it was sent (wall clock, ms), how long it took, whether it failed. */
export interface TimedSample {
  readonly t: number;
  readonly durationMs?: number;
  readonly failed?: boolean;
}

/**
 * The requests of one scenario from k6's `--out json` NDJSON, each placed at the time it was *sent*:
 * k6 stamps a request's samples with its end, so a request that hung through a fault would otherwise
 * count against the phase after it. A request's duration and failure points share time and tags.
 */
export async function readRequestSamples(file: string, scenario: string): Promise<TimedSample[]> {
  const requests = new Map<string, { end: number; durationMs?: number; failed?: boolean }>();
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.includes('"Point"') || !(line.includes('"http_req_duration"') || line.includes('"http_req_failed"')))
      continue;
    const point = JSON.parse(line) as {
      metric: string;
      data: { time: string; value: number; tags?: Record<string, string> };
    };
    if (point.data.tags?.scenario !== scenario) continue;
    const key = `${point.data.time} ${JSON.stringify(point.data.tags)}`;
    const request = requests.get(key) ?? { end: Date.parse(point.data.time) };
    if (point.metric === 'http_req_duration') request.durationMs = point.data.value;
    else request.failed = point.data.value !== 0;
    requests.set(key, request);
  }
  return [...requests.values()].map(({ end, durationMs, failed }) => ({
    t: end - (durationMs ?? 0),
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(failed === undefined ? {} : { failed }),
  }));
}

/**
 * The request samples of one k6 scenario from the raw outputs of every runner of a run (one file when
 * it ran as one process): each runner's requests carry wall-clock times, so windows over the union
 * count the whole rate.
 */
export async function readShardSamples(files: readonly string[], scenario: string): Promise<TimedSample[]> {
  const all: TimedSample[] = [];
  for (const file of files) for (const sample of await readRequestSamples(file, scenario)) all.push(sample);
  return all;
}

/** Nearest-rank percentile of sorted values (0 when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

/** One point of one metric from k6's `--out json` NDJSON: its time (when k6 emitted it, ms), value and tags. */
export interface MetricSample {
  readonly metric: string;
  readonly t: number;
  readonly value: number;
  readonly tags: Readonly<Record<string, string>>;
}

/** Every point of the named metrics in k6's `--out json` NDJSON (other metrics are skipped unparsed). */
export async function readMetricSamples(file: string, metrics: ReadonlySet<string>): Promise<MetricSample[]> {
  const samples: MetricSample[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.includes('"type":"Point"')) continue;
    const name = /"metric":"([^"]+)"/.exec(line)?.[1];
    if (name === undefined || !metrics.has(name)) continue;
    const point = JSON.parse(line) as { data: { time: string; value: number; tags?: Record<string, string> } };
    samples.push({
      metric: name,
      t: Date.parse(point.data.time),
      value: point.data.value,
      tags: point.data.tags ?? {},
    });
  }
  return samples;
}

/** Whether a sample carries every tag of a selector (`{phase:steady,name:list}`), as k6 matches sub-metrics. */
export function matchesTags(sample: MetricSample, tags: Readonly<Record<string, string>>): boolean {
  return Object.entries(tags).every(([key, value]) => sample.tags[key] === value);
}

/** A percentile as k6 computes a Trend's `p(N)`: linear interpolation between the nearest ranks (0 when empty). */
export function k6Percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = (p / 100) * (sorted.length - 1);
  const low = sorted[Math.floor(i)] ?? 0;
  const high = sorted[Math.ceil(i)] ?? low;
  return low + (high - low) * (i - Math.floor(i));
}
