import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/** One metric in k6's `--summary-export` JSON: stats as numbers, plus `thresholds` (expression -> failed). */
const metricSchema = z
  .object({ thresholds: z.record(z.string(), z.boolean()).optional() })
  .catchall(z.union([z.number(), z.record(z.string(), z.boolean())]));

const k6SummarySchema = z.object({
  metrics: z.record(z.string(), metricSchema),
  state: z.object({ testRunDurationMs: z.number() }).partial().optional(),
});

/** A threshold as k6 evaluated it. */
export interface ThresholdResult {
  /** `http_req_duration{phase:fault}` */
  readonly selector: string;
  readonly metric: string;
  /** `{phase:'fault'}` */
  readonly tags: Readonly<Record<string, string>>;
  /** `p(95)<200` */
  readonly expression: string;
  /** `p(95)` */
  readonly aggregation: string;
  readonly passed: boolean;
  /** The aggregated value k6 compared, when the summary carries it. */
  readonly observed: number | undefined;
}

export interface K6Summary {
  readonly thresholds: readonly ThresholdResult[];
  /** selector -> stat -> value, e.g. `http_req_duration` -> `p(95)` -> 12.3 */
  readonly metrics: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly testRunDurationMs: number | undefined;
}

/** `metric{a:b,c:d}` -> metric and tags. */
export function parseSelector(selector: string): { metric: string; tags: Record<string, string> } {
  const brace = selector.indexOf('{');
  if (brace < 0) return { metric: selector, tags: {} };
  const inner = selector.slice(brace + 1, selector.lastIndexOf('}'));
  const tags: Record<string, string> = {};
  for (const pair of inner.split(',')) {
    const colon = pair.indexOf(':');
    if (colon > 0) tags[pair.slice(0, colon).trim()] = pair.slice(colon + 1).trim();
  }
  return { metric: selector.slice(0, brace), tags };
}

/** The aggregation a threshold expression reads: `p(95)` of `p(95)<200`. */
export function aggregationOf(expression: string): string {
  return /^\s*([a-z]+(?:\([\d.]+\))?)/.exec(expression)?.[1] ?? expression;
}

/** The stat of a summary metric a threshold's aggregation reads (`rate` of a Rate is its `value`). */
function observedValue(stats: Readonly<Record<string, number>>, aggregation: string): number | undefined {
  if (aggregation in stats) return stats[aggregation];
  if (aggregation === 'rate' && 'value' in stats) return stats.value;
  return undefined;
}

/** Parses k6's `--summary-export` JSON (legacy summary format: `thresholds` map an expression to whether it failed). */
export function parseK6Summary(json: unknown): K6Summary {
  const parsed = k6SummarySchema.parse(json);
  const metrics: Record<string, Record<string, number>> = {};
  const thresholds: ThresholdResult[] = [];
  for (const [selector, entry] of Object.entries(parsed.metrics)) {
    const stats: Record<string, number> = {};
    for (const [key, value] of Object.entries(entry)) if (typeof value === 'number') stats[key] = value;
    metrics[selector] = stats;
    const { metric, tags } = parseSelector(selector);
    for (const [expression, failed] of Object.entries(entry.thresholds ?? {})) {
      const aggregation = aggregationOf(expression);
      thresholds.push({
        selector,
        metric,
        tags,
        expression,
        aggregation,
        passed: !failed,
        observed: observedValue(stats, aggregation),
      });
    }
  }
  return { thresholds, metrics, testRunDurationMs: parsed.state?.testRunDurationMs };
}

/**
 * How long the test ran (ms): the export's `state.testRunDurationMs`, else what a counter's count over
 * its rate gives (k6 divides a counter by the run's duration); undefined when neither is there.
 */
export function runDurationMs(summary: K6Summary): number | undefined {
  if (summary.testRunDurationMs !== undefined) return summary.testRunDurationMs;
  for (const name of ['iterations', 'http_reqs']) {
    const stats = summary.metrics[name];
    if (stats?.count !== undefined && stats.rate !== undefined && stats.count > 0 && stats.rate > 0)
      return (stats.count / stats.rate) * 1000;
  }
  return undefined;
}

export async function readK6Summary(file: string): Promise<K6Summary> {
  return parseK6Summary(JSON.parse(await readFile(file, 'utf8')) as unknown);
}
