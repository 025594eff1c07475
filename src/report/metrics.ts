import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckResult, Metric } from '../core/check-result.ts';

/** Allure 3 reads `*-perf.json` files of a results directory as metric samples (its "Metrics" section). */
const ALLURE_METRICS_FILE = 'readiness-perf.json';

/** One Allure 3 metric sample (`AllurePerformanceResult` plus display fields). */
interface AllureMetricSample {
  readonly id: string;
  /** Unique per check and metric: Allure averages samples that share a key. */
  readonly key: string;
  readonly value: number;
  readonly start: number;
  readonly stop: number;
  readonly title: string;
  readonly unit: string;
  /** The stage, so the report groups metrics by stage. */
  readonly group: string;
  readonly groupTitle: string;
  readonly better?: 'lower' | 'higher';
}

/** Durations and error counts are better lower, throughput better higher; anything else has no direction. */
export function metricDirection(metric: Pick<Metric, 'name' | 'unit'>): 'lower' | 'higher' | undefined {
  const unit = metric.unit.toLowerCase();
  const name = metric.name.toLowerCase();
  if (['ms', 's', 'us', 'µs'].includes(unit)) return 'lower';
  if (/(rps|per_s|throughput|qps)/.test(name) || /\/s$/.test(unit)) return 'higher';
  if (/(error|fail|lost|duplicat|drop)/.test(name)) return 'lower';
  return undefined;
}

/** The Allure metric samples of a run's checks: one per check metric (p95, RTO, time to recover...). */
export function allureMetricSamples(checks: readonly CheckResult[]): AllureMetricSample[] {
  const samples: AllureMetricSample[] = [];
  for (const check of checks) {
    for (const metric of check.metrics) {
      if (!Number.isFinite(metric.value)) continue;
      const better = metricDirection(metric);
      samples.push({
        id: `${check.id}:${metric.name}`,
        key: `${check.id}:${metric.name}`,
        value: metric.value,
        start: check.startedAt,
        stop: check.finishedAt,
        title: `${check.name}: ${metric.name}`,
        unit: metric.unit,
        group: check.stage,
        groupTitle: `Stage ${check.stage}`,
        ...(better === undefined ? {} : { better }),
      });
    }
  }
  return samples;
}

/** Writes the metric file into a results directory; returns its path, or undefined when no check has a metric. */
export async function writeAllureMetrics(
  resultsDir: string,
  checks: readonly CheckResult[],
): Promise<string | undefined> {
  const samples = allureMetricSamples(checks);
  if (samples.length === 0) return undefined;
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, ALLURE_METRICS_FILE);
  await writeFile(file, `${JSON.stringify(samples, null, 2)}\n`);
  return file;
}
