import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { K6_BUILTIN_METRICS } from '../config/stages/load.ts';
import type { K6MetricType } from '../config/stages/load.ts';
import type { Metric } from '../core/check-result.ts';
import type { K6Options, K6RunOptions } from './k6-options.ts';
import { aggregationOf, parseSelector } from './k6-summary.ts';
import type { K6Summary, ThresholdResult } from './k6-summary.ts';

/**
 * Relative width of a bucket of the merged latency histograms: a merged percentile is within
 * half of it (0.05%) of the exact value, and a histogram holds a few thousand buckets at most
 * whatever the number of samples, so merging N runners' samples takes bounded memory.
 */
export const MERGE_RELATIVE_PRECISION = 0.001;
const LOG_BASE = Math.log1p(MERGE_RELATIVE_PRECISION);

const round = (n: number): number => Math.round(n * 1000) / 1000;

/** A metric and the tags its samples must carry (`http_req_duration{phase:steady}`). */
interface SampleSelector {
  readonly metric: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** One key per selector whatever the order of its tags. */
function selectorKey(metric: string, tags: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(tags)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}:${v}`);
  return pairs.length === 0 ? metric : `${metric}{${pairs.join(',')}}`;
}

/** The values of one selector, in memory bounded by the value range, not the count: sums, extremes, last and a log histogram. */
export class ValueAggregate {
  count = 0;
  sum = 0;
  nonZero = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  /** The value with the latest time (a gauge's value). */
  last = 0;
  private lastT = Number.NEGATIVE_INFINITY;
  private zeros = 0;
  private readonly positive = new Map<number, number>();
  private readonly negative = new Map<number, number>();
  private ranked: { readonly value: number; readonly upTo: number }[] | undefined;

  /** Histogram buckets in use (what its memory grows with). */
  get buckets(): number {
    return this.positive.size + this.negative.size + (this.zeros > 0 ? 1 : 0);
  }

  add(value: number, t: number): void {
    this.count += 1;
    this.sum += value;
    if (value !== 0) this.nonZero += 1;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (t >= this.lastT) {
      this.lastT = t;
      this.last = value;
    }
    if (value === 0) this.zeros += 1;
    else {
      const buckets = value > 0 ? this.positive : this.negative;
      const key = Math.floor(Math.log(Math.abs(value)) / LOG_BASE);
      buckets.set(key, (buckets.get(key) ?? 0) + 1);
    }
    this.ranked = undefined;
  }

  /** The value of rank `rank` (0-based) of the sorted values, within the histogram's precision; min and max exactly. */
  valueAtRank(rank: number): number {
    if (this.count === 0) return 0;
    if (rank <= 0) return this.min;
    if (rank >= this.count - 1) return this.max;
    this.ranked ??= this.rank();
    for (const bucket of this.ranked) {
      if (rank < bucket.upTo) return Math.min(this.max, Math.max(this.min, bucket.value));
    }
    return this.max;
  }

  /** A percentile as k6 computes a Trend's `p(N)` (linear between the nearest ranks), on the histogram. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const i = (p / 100) * (this.count - 1);
    const low = this.valueAtRank(Math.floor(i));
    const high = this.valueAtRank(Math.ceil(i));
    return low + (high - low) * (i - Math.floor(i));
  }

  private rank(): { value: number; upTo: number }[] {
    const middle = (key: number): number => Math.exp((key + 0.5) * LOG_BASE);
    const buckets = [
      ...[...this.negative.entries()].sort(([a], [b]) => b - a).map(([key, n]) => ({ value: -middle(key), n })),
      ...(this.zeros > 0 ? [{ value: 0, n: this.zeros }] : []),
      ...[...this.positive.entries()].sort(([a], [b]) => a - b).map(([key, n]) => ({ value: middle(key), n })),
    ];
    let upTo = 0;
    return buckets.map(({ value, n }) => {
      upTo += n;
      return { value, upTo };
    });
  }
}

/** Reads sample counts and figures of a run by selector: from a recorded sample list, or the runners' merged samples. */
export interface SampleView {
  /** Samples of `metric` carrying every tag of `tags`. */
  count(metric: string, tags: Readonly<Record<string, string>>): number;
  /** The sum of their values (a counter's total). */
  sum(metric: string, tags: Readonly<Record<string, string>>): number;
  /** p95/p99/avg latency, requests, rps, error rate and check rate of the requests `tags` match. */
  figures(tags: Readonly<Record<string, string>>, windowSec: number): Metric[];
}

/** The metrics whose samples give a selector's figures (`SampleView.figures`). */
const FIGURE_METRICS = ['http_req_duration', 'http_req_failed', 'http_reqs', 'checks'] as const;

/**
 * The samples of several k6 runners of one test, merged into one aggregate per selector registered
 * up front: each NDJSON line is parsed and dropped, so memory does not grow with the run's length.
 */
export class MergedSamples implements SampleView {
  /** Sample points read (of registered metrics), over every runner. */
  points = 0;
  private readonly byMetric = new Map<
    string,
    { tags: Readonly<Record<string, string>>; aggregate: ValueAggregate }[]
  >();
  private readonly byKey = new Map<string, ValueAggregate>();

  constructor(selectors: Iterable<SampleSelector>) {
    for (const { metric, tags } of selectors) {
      const key = selectorKey(metric, tags);
      if (this.byKey.has(key)) continue;
      const aggregate = new ValueAggregate();
      this.byKey.set(key, aggregate);
      const list = this.byMetric.get(metric) ?? [];
      list.push({ tags, aggregate });
      this.byMetric.set(metric, list);
    }
  }

  /** One sample point into every registered selector it matches. */
  addPoint(metric: string, t: number, value: number, tags: Readonly<Record<string, string>>): void {
    const selectors = this.byMetric.get(metric);
    if (!selectors) return;
    this.points += 1;
    for (const selector of selectors) {
      if (Object.entries(selector.tags).every(([k, v]) => tags[k] === v)) selector.aggregate.add(value, t);
    }
  }

  /** One line of k6's `--out json` NDJSON (metric declarations and unregistered metrics are skipped unparsed). */
  addLine(line: string): void {
    if (!line.includes('"type":"Point"')) return;
    const name = /"metric":"([^"]+)"/.exec(line)?.[1];
    if (name === undefined || !this.byMetric.has(name)) return;
    const point = JSON.parse(line) as { data: { time: string; value: number; tags?: Record<string, string> } };
    this.addPoint(name, Date.parse(point.data.time), point.data.value, point.data.tags ?? {});
  }

  /** The aggregate of a registered selector; an unregistered one is a harness error (it would read as no samples). */
  aggregate(metric: string, tags: Readonly<Record<string, string>>): ValueAggregate {
    const aggregate = this.byKey.get(selectorKey(metric, tags));
    if (!aggregate) throw new Error(`selector ${selectorKey(metric, tags)} was not registered for the merge`);
    return aggregate;
  }

  count(metric: string, tags: Readonly<Record<string, string>>): number {
    return this.aggregate(metric, tags).count;
  }

  sum(metric: string, tags: Readonly<Record<string, string>>): number {
    return this.aggregate(metric, tags).sum;
  }

  figures(tags: Readonly<Record<string, string>>, windowSec: number): Metric[] {
    const durations = this.aggregate('http_req_duration', tags);
    const failed = this.aggregate('http_req_failed', tags);
    const requests = this.aggregate('http_reqs', tags).count;
    const checks = this.aggregate('checks', tags);
    return [
      ...(durations.count === 0
        ? []
        : [
            { name: 'p95_ms', value: round(durations.percentile(95)), unit: 'ms' },
            { name: 'p99_ms', value: round(durations.percentile(99)), unit: 'ms' },
            { name: 'avg_ms', value: round(durations.sum / durations.count), unit: 'ms' },
          ]),
      { name: 'requests', value: requests, unit: 'count' },
      ...(windowSec > 0 ? [{ name: 'rps', value: round(requests / windowSec), unit: 'req/s' }] : []),
      ...(failed.count === 0
        ? []
        : [{ name: 'error_rate', value: round(failed.nonZero / failed.count), unit: 'ratio' }]),
      ...(checks.count === 0
        ? []
        : [{ name: 'check_rate', value: round(checks.nonZero / checks.count), unit: 'ratio' }]),
    ];
  }
}

/** Streams each runner's NDJSON file, one after the other, into the merge. */
export async function mergeSampleFiles(
  files: readonly string[],
  selectors: Iterable<SampleSelector>,
): Promise<MergedSamples> {
  const merged = new MergedSamples(selectors);
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) merged.addLine(line);
  }
  return merged;
}

/**
 * What a scenario's merge must aggregate: every threshold selector of its k6 options, the figure
 * metrics of each of their tag sets, and each executor's completed and dropped iterations.
 */
export function mergeSelectors(options: K6Options | K6RunOptions): SampleSelector[] {
  const selectors: SampleSelector[] = [{ metric: 'dropped_iterations', tags: {} }];
  for (const selector of Object.keys(options.thresholds)) {
    const { metric, tags } = parseSelector(selector);
    selectors.push({ metric, tags }, ...FIGURE_METRICS.map((m) => ({ metric: m, tags })));
  }
  for (const executor of Object.keys(options.scenarios)) {
    selectors.push(
      { metric: 'iterations', tags: { scenario: executor } },
      { metric: 'dropped_iterations', tags: { scenario: executor } },
    );
  }
  return selectors;
}

const TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'] as const;

/** A selector's stats as k6's summary export names them, for its metric type. */
function statsOf(
  aggregate: ValueAggregate,
  type: K6MetricType,
  seconds: number,
  asked: readonly string[],
): Record<string, number> {
  if (type === 'counter') return { count: aggregate.sum, rate: seconds > 0 ? aggregate.sum / seconds : 0 };
  if (type === 'rate')
    return {
      value: aggregate.count === 0 ? 0 : aggregate.nonZero / aggregate.count,
      passes: aggregate.nonZero,
      fails: aggregate.count - aggregate.nonZero,
    };
  if (type === 'gauge')
    return aggregate.count === 0
      ? { value: 0, min: 0, max: 0 }
      : { value: aggregate.last, min: aggregate.min, max: aggregate.max };
  const stats: Record<string, number> = {};
  for (const stat of new Set([...TREND_STATS, ...asked.filter((a) => /^p\([\d.]+\)$/.test(a))])) {
    if (aggregate.count === 0) stats[stat] = 0;
    else if (stat === 'avg') stats[stat] = aggregate.sum / aggregate.count;
    else if (stat === 'min') stats[stat] = aggregate.min;
    else if (stat === 'max') stats[stat] = aggregate.max;
    else if (stat === 'med') stats[stat] = aggregate.percentile(50);
    else stats[stat] = aggregate.percentile(Number(stat.slice(2, -1)));
  }
  return stats;
}

/** Whether `observed` satisfies a threshold expression's comparison (`p(95)<200`). */
export function holds(expression: string, observed: number): boolean {
  const match = /(<=|>=|<|>|===|==|!=)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(expression);
  if (!match) throw new Error(`"${expression}" is not a threshold expression`);
  const bound = Number(match[2]);
  const op = match[1] ?? '==';
  if (op === '<') return observed < bound;
  if (op === '<=') return observed <= bound;
  if (op === '>') return observed > bound;
  if (op === '>=') return observed >= bound;
  if (op === '!=') return observed !== bound;
  return observed === bound;
}

/**
 * The run's summary judged by the harness on the merged samples of every runner: each threshold of the
 * options evaluated as k6 would on one process (a counter's `rate` over `seconds`), and the stats of
 * each selector. No single runner's own summary can judge a sharded run.
 */
export function mergedSummary(
  options: K6Options | K6RunOptions,
  merged: MergedSamples,
  custom: Readonly<Record<string, K6MetricType>>,
  seconds: number,
): K6Summary {
  const metrics: Record<string, Record<string, number>> = {};
  const thresholds: ThresholdResult[] = [];
  for (const [selector, entries] of Object.entries(options.thresholds)) {
    const { metric, tags } = parseSelector(selector);
    const type = (K6_BUILTIN_METRICS as Record<string, K6MetricType>)[metric] ?? custom[metric];
    if (type === undefined) throw new Error(`metric ${metric} has no known type`);
    const expressions = entries.map((e) => (typeof e === 'string' ? e : e.threshold));
    const stats = statsOf(merged.aggregate(metric, tags), type, seconds, expressions.map(aggregationOf));
    metrics[selector] = stats;
    for (const expression of expressions) {
      const aggregation = aggregationOf(expression);
      const observed = aggregation === 'rate' && type === 'rate' ? stats.value : stats[aggregation];
      if (observed === undefined) throw new Error(`${metric} is a ${type}: no ${aggregation} to judge ${expression}`);
      thresholds.push({
        selector,
        metric,
        tags,
        expression,
        aggregation,
        passed: holds(expression, observed),
        observed,
      });
    }
  }
  metrics.dropped_iterations = statsOf(merged.aggregate('dropped_iterations', {}), 'counter', seconds, []);
  return { thresholds, metrics, testRunDurationMs: Math.round(seconds * 1000) };
}

/**
 * A merged summary in the shape of k6's `--summary-export` (stats per selector, `thresholds` as
 * expression -> failed), so what reads one process's export reads it too; `origin` says where it came from.
 */
export function mergedSummaryExport(summary: K6Summary, origin: Readonly<Record<string, unknown>>): string {
  const metrics: Record<string, Record<string, number | Record<string, boolean>>> = {};
  for (const [selector, stats] of Object.entries(summary.metrics)) metrics[selector] = { ...stats };
  for (const t of summary.thresholds) {
    const entry = metrics[t.selector] ?? {};
    const thresholds = entry.thresholds;
    entry.thresholds = { ...(typeof thresholds === 'object' ? thresholds : {}), [t.expression]: !t.passed };
    metrics[t.selector] = entry;
  }
  const text = JSON.stringify(
    {
      ...origin,
      percentileRelativePrecision: MERGE_RELATIVE_PRECISION,
      state: { testRunDurationMs: summary.testRunDurationMs },
      metrics,
    },
    null,
    2,
  );
  return `${text}\n`;
}
