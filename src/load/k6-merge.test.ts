import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigSchema } from '../config/stages/load.ts';
import { RECORDED } from '../../test/fixtures/load/record/record-k6.ts';
import {
  MERGE_RELATIVE_PRECISION,
  MergedSamples,
  ValueAggregate,
  holds,
  mergeSampleFiles,
  mergeSelectors,
  mergedSummary,
  mergedSummaryExport,
} from './k6-merge.ts';
import { buildK6Options } from './k6-options.ts';
import { k6Percentile, readMetricSamples } from './k6-samples.ts';
import { parseK6Summary, readK6Summary, runDurationMs } from './k6-summary.ts';
import { executorLoads, sampledMetrics, thresholdChecks } from './scenario-judge.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/load');
const RUNNERS = [1, 2].map((i) => join(FIXTURES, `sharded.runner-${i}.samples.ndjson`));

const load = loadConfigSchema.parse(RECORDED.tagged);
const scenario = load.scenarios[0] ?? expect.fail('no scenario');
const options = buildK6Options(load, scenario);

/** Within the merge's histogram precision of the exact value. */
const near = (value: number, exact: number): void => {
  expect(Math.abs(value - exact)).toBeLessThanOrEqual(Math.abs(exact) * MERGE_RELATIVE_PRECISION);
};

describe('ValueAggregate (bounded memory)', () => {
  it("gives k6's interpolated percentiles within its precision, min and max exactly, on values of any sign", () => {
    const values = Array.from({ length: 5_001 }, (_, i) => ((i * 7919) % 5_001) / 13 - 40);
    const aggregate = new ValueAggregate();
    for (const [i, v] of values.entries()) aggregate.add(v, i);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [1, 50, 90, 95, 99, 99.9]) near(aggregate.percentile(p), k6Percentile(sorted, p));
    expect(aggregate.percentile(0)).toBe(sorted[0]);
    expect(aggregate.percentile(100)).toBe(sorted.at(-1));
    expect(aggregate.count).toBe(values.length);
    expect(aggregate.last).toBe(values.at(-1));
  });

  it('keeps the same few buckets however many samples it holds', () => {
    const aggregate = new ValueAggregate();
    for (let i = 0; i < 200_000; i += 1) aggregate.add(1 + (i % 1000), i);
    // 1..1000 ms at 0.1% per bucket: ln(1000)/ln(1.001) ~ 6900 buckets at most.
    expect(aggregate.buckets).toBeLessThan(7_000);
    expect(aggregate.percentile(50)).toBeCloseTo(500.5, 0);
  });
});

describe('merging the samples of 2 k6 runners (recorded: execution segments 0:1/2 and 1/2:1)', () => {
  it("counts every runner's requests: the merged counts are the sum of each runner's own k6 summary", async () => {
    const merged = await mergeSampleFiles(RUNNERS, mergeSelectors(options));
    const own = await Promise.all([1, 2].map((i) => readK6Summary(join(FIXTURES, `sharded.runner-${i}.summary.json`))));
    const seconds = Math.max(...own.map((s) => (runDurationMs(s) ?? 0) / 1000));
    const summary = mergedSummary(options, merged, load.customMetrics, seconds);
    for (const selector of ['http_reqs{phase:steady}', 'http_reqs{phase:warmup}']) {
      const perRunner = own.map((s) => s.metrics[selector]?.count ?? Number.NaN);
      expect(perRunner.every((c) => c > 0)).toBe(true);
      expect(summary.metrics[selector]?.count).toBe((perRunner[0] ?? 0) + (perRunner[1] ?? 0));
    }
    // Each runner ran its half of the rate: neither one alone holds the run's requests.
    const steady = summary.metrics['http_reqs{phase:steady}']?.count ?? 0;
    expect(steady).toBeGreaterThan(180);
    for (const s of own) expect(s.metrics['http_reqs{phase:steady}']?.count).toBeLessThan(steady * 0.6);
  });

  it('judges every threshold on the merged samples: the p95 of all requests, not of one runner', async () => {
    const merged = await mergeSampleFiles(RUNNERS, mergeSelectors(options));
    const summary = mergedSummary(options, merged, load.customMetrics, 10);
    const all = (await Promise.all(RUNNERS.map((f) => readMetricSamples(f, sampledMetrics(options))))).flat();
    const list = all
      .filter((s) => s.metric === 'http_req_duration' && s.tags.phase === 'steady' && s.tags.name === 'list')
      .map((s) => s.value)
      .sort((a, b) => a - b);
    const threshold = summary.thresholds.find((t) => t.selector === 'http_req_duration{phase:steady,name:list}');
    expect(threshold?.expression).toBe('p(95)<200');
    near(threshold?.observed ?? Number.NaN, k6Percentile(list, 95));
    expect(threshold?.passed).toBe(true);
    // Checks on the merge agree with the same checks on every sample held in memory.
    const fromMerge = thresholdChecks(load, scenario, summary, merged);
    const fromAll = thresholdChecks(load, scenario, summary, all);
    expect(fromMerge.map((c) => [c.id, c.outcome.status])).toEqual(fromAll.map((c) => [c.id, c.outcome.status]));
    const samplesOf = (c: (typeof fromAll)[number]): number | undefined =>
      c.outcome.metrics?.find((m) => m.name === 'samples')?.value;
    expect(fromMerge.map(samplesOf)).toEqual(fromAll.map(samplesOf));
    expect(executorLoads(options, merged)).toEqual(executorLoads(options, all));
  });

  it("evaluates thresholds as k6 does: on one runner's samples the merge gives k6's own verdicts and p95", async () => {
    const merged = await mergeSampleFiles([join(FIXTURES, 'tagged.samples.ndjson')], mergeSelectors(options));
    const k6 = await readK6Summary(join(FIXTURES, 'tagged.summary.json'));
    const ours = mergedSummary(options, merged, load.customMetrics, (runDurationMs(k6) ?? 0) / 1000);
    const verdicts = (s: typeof k6): [string, boolean][] =>
      s.thresholds.map((t): [string, boolean] => [`${t.selector} ${t.expression}`, t.passed]).sort();
    expect(verdicts(ours)).toEqual(verdicts(k6));
    near(
      ours.metrics['http_req_duration{phase:steady}']?.['p(95)'] ?? Number.NaN,
      k6.metrics['http_req_duration{phase:steady}']?.['p(95)'] ?? Number.NaN,
    );
    expect(ours.metrics['http_reqs{phase:steady}']?.count).toBe(k6.metrics['http_reqs{phase:steady}']?.count);
  });

  it("writes the merged verdicts in k6's summary-export shape, read back as they were judged", async () => {
    const merged = await mergeSampleFiles(RUNNERS, mergeSelectors(options));
    const summary = mergedSummary(options, merged, load.customMetrics, 10);
    const text = mergedSummaryExport(summary, { runners: 2 });
    expect(parseK6Summary(JSON.parse(text) as unknown)).toEqual(summary);
  });

  it('refuses a selector it was not asked to merge (it would read as no samples)', () => {
    const merged = new MergedSamples([{ metric: 'http_reqs', tags: {} }]);
    expect(() => merged.count('http_reqs', { phase: 'steady' })).toThrow(/not registered/);
  });
});

describe('holds', () => {
  it.each([
    ['p(95)<200', 199, true],
    ['p(95)<200', 200, false],
    ['rate<=0.01', 0.01, true],
    ['rate>0.99', 0.99, false],
    ['count>=0', 0, true],
    ['value==3', 3, true],
    ['value!=3', 3, false],
  ] as const)('%s at %d is %s', (expression, observed, expected) => {
    expect(holds(expression, observed)).toBe(expected);
  });
});
