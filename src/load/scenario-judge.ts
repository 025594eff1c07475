import type { LoadConfig, LoadScenario } from '../config/stages/load.ts';
import type { CheckStatus, Metric } from '../core/check-result.ts';
import type { CheckOutcome } from '../runner/suite.ts';
import { EXPORT_ONLY_THRESHOLDS, buildK6Options, isExportOnly, phaseWindows, plannedSeconds } from './k6-options.ts';
import type { K6Options } from './k6-options.ts';
import { k6Percentile, matchesTags } from './k6-samples.ts';
import type { MetricSample } from './k6-samples.ts';
import { aggregationOf, parseSelector } from './k6-summary.ts';
import type { K6Summary, ThresholdResult } from './k6-summary.ts';
import type { SampleView } from './k6-merge.ts';

/** The metrics of a scenario's raw output the stage reads: its thresholds', the figures', and the generator's. */
export function sampledMetrics(options: K6Options): Set<string> {
  return new Set([
    ...Object.keys(options.thresholds).map((selector) => parseSelector(selector).metric),
    ...Object.keys(EXPORT_ONLY_THRESHOLDS),
    'iterations',
    'dropped_iterations',
  ]);
}

/** What one arrival-rate executor (a k6 scenario: a phase, or the whole scenario) was asked and did. */
interface ExecutorLoad {
  readonly executor: string;
  readonly seconds: number;
  /** Iterations the executor was asked to start: rate x duration (the area under a ramp). */
  readonly planned: number;
  readonly completed: number;
  readonly dropped: number;
}

const seconds = (duration: unknown): number => {
  const match = typeof duration === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(duration) : null;
  return match ? Number(match[1]) : Number.NaN;
};

/** Iterations an arrival-rate executor config plans, and over how many seconds (other executors plan no rate). */
function plannedIterations(executor: Readonly<Record<string, unknown>>): { planned: number; seconds: number } {
  const perSec = 1 / seconds(executor.timeUnit ?? '1s');
  if (executor.executor === 'constant-arrival-rate') {
    const duration = seconds(executor.duration);
    return { planned: Number(executor.rate) * perSec * duration, seconds: duration };
  }
  if (executor.executor === 'ramping-arrival-rate') {
    let rate = Number(executor.startRate ?? 0);
    let planned = 0;
    let total = 0;
    for (const stage of (executor.stages ?? []) as readonly { target: number; duration: string }[]) {
      const duration = seconds(stage.duration);
      planned += ((rate + stage.target) / 2) * perSec * duration;
      total += duration;
      rate = stage.target;
    }
    return { planned, seconds: total };
  }
  throw new Error(`executor ${String(executor.executor)} has no planned arrival rate`);
}

/** Per k6 scenario of a run: planned iterations against completed (`iterations`) and dropped (`dropped_iterations`) ones. */
export function executorLoads(options: K6Options, samples: readonly MetricSample[] | SampleView): ExecutorLoad[] {
  const view = viewOf(samples);
  return Object.entries(options.scenarios).map(([executor, config]) => {
    const ofExecutor = (metric: string): number => view.sum(metric, { scenario: executor });
    return {
      executor,
      ...plannedIterations(config),
      completed: ofExecutor('iterations'),
      dropped: ofExecutor('dropped_iterations'),
    };
  });
}

const round = (n: number): number => Math.round(n * 1000) / 1000;
const percent = (n: number): string => `${round(n * 100)}%`;

/**
 * Why the load generator, not the system, set the load of a scenario (empty: it held the asked rate):
 * k6 dropped more than `maxDroppedRatio` of an executor's planned iterations for want of a free VU, or
 * completed fewer than `minReachedRatio` of them.
 */
export function generatorProblems(
  loads: readonly ExecutorLoad[],
  limits: Pick<LoadConfig, 'maxDroppedRatio' | 'minReachedRatio'>,
  scenario: Pick<LoadScenario, 'preAllocatedVUs' | 'maxVUs'>,
): string[] {
  return loads.flatMap((l) => {
    if (l.planned <= 0) return [];
    const asked = `${round(l.planned / l.seconds)}/s`;
    if (l.dropped / l.planned > limits.maxDroppedRatio) {
      return [
        `k6 dropped ${l.dropped} of ${round(l.planned)} planned iterations (${percent(l.dropped / l.planned)}, limit ${percent(limits.maxDroppedRatio)}) of ${l.executor} at ${asked}: it ran out of VUs (preAllocatedVUs ${scenario.preAllocatedVUs}, maxVUs ${scenario.maxVUs}); raise them to rate x slowest iteration`,
      ];
    }
    if (l.completed / l.planned < limits.minReachedRatio) {
      return [
        `k6 completed ${l.completed} of ${round(l.planned)} planned iterations (${percent(l.completed / l.planned)}, at least ${percent(limits.minReachedRatio)} needed; ${l.dropped} dropped) of ${l.executor}: it did not hold ${asked} (k6 short of CPU, or iterations still running at the end of the window were cut off)`,
      ];
    }
    return [];
  });
}

/** Samples of `metric` whose tags match a selector's. */
function selectorSamples(
  samples: readonly MetricSample[],
  metric: string,
  tags: Readonly<Record<string, string>>,
): MetricSample[] {
  return samples.filter((s) => s.metric === metric && matchesTags(s, tags));
}

/** p95/p99/avg latency, requests, rps, error rate and check rate of the requests a selector's tags match. */
function selectorFigures(
  samples: readonly MetricSample[],
  tags: Readonly<Record<string, string>>,
  windowSec: number,
): Metric[] {
  const durations = selectorSamples(samples, 'http_req_duration', tags)
    .map((s) => s.value)
    .sort((a, b) => a - b);
  const failed = selectorSamples(samples, 'http_req_failed', tags);
  const requests = selectorSamples(samples, 'http_reqs', tags).length;
  const checks = selectorSamples(samples, 'checks', tags);
  const share = (of: readonly MetricSample[]): number => of.filter((s) => s.value !== 0).length / of.length;
  return [
    ...(durations.length === 0
      ? []
      : [
          { name: 'p95_ms', value: round(k6Percentile(durations, 95)), unit: 'ms' },
          { name: 'p99_ms', value: round(k6Percentile(durations, 99)), unit: 'ms' },
          { name: 'avg_ms', value: round(durations.reduce((a, b) => a + b, 0) / durations.length), unit: 'ms' },
        ]),
    { name: 'requests', value: requests, unit: 'count' },
    ...(windowSec > 0 ? [{ name: 'rps', value: round(requests / windowSec), unit: 'req/s' }] : []),
    ...(failed.length === 0 ? [] : [{ name: 'error_rate', value: round(share(failed)), unit: 'ratio' }]),
    ...(checks.length === 0 ? [] : [{ name: 'check_rate', value: round(share(checks)), unit: 'ratio' }]),
  ];
}

/** A recorded run's sample list read by selector (one k6 process: every sample in memory, exact figures). */
function arraySampleView(samples: readonly MetricSample[]): SampleView {
  return {
    count: (metric, tags) => selectorSamples(samples, metric, tags).length,
    sum: (metric, tags) => selectorSamples(samples, metric, tags).reduce((sum, s) => sum + s.value, 0),
    figures: (tags, windowSec) => selectorFigures(samples, tags, windowSec),
  };
}

const viewOf = (samples: readonly MetricSample[] | SampleView): SampleView =>
  Array.isArray(samples) ? arraySampleView(samples as readonly MetricSample[]) : (samples as SampleView);

/** The seconds a selector's requests were sent over: its phase's window, else the scenario's planned load. */
function selectorSeconds(scenario: LoadScenario, tags: Readonly<Record<string, string>>): number {
  const window = phaseWindows(scenario).find((w) => w.name === tags.phase);
  return window ? window.durationSec : plannedSeconds(scenario);
}

/** A threshold check's verdict before the generator's health is applied. */
interface ThresholdJudgement {
  readonly status: Extract<CheckStatus, 'passed' | 'failed' | 'unknown' | 'broken'>;
  /** Samples of the threshold's metric in its selector. */
  readonly samples: number;
  /** Why, when not k6's own verdict. */
  readonly reason?: string;
}

/**
 * A threshold as a check: `unknown` with the count when its selector holds fewer than `minSamples`
 * samples (k6 passes a threshold on none), `broken` when k6 did not report it, else k6's verdict.
 */
function judgeThreshold(
  selector: string,
  expression: string,
  evaluated: ThresholdResult | undefined,
  samples: readonly MetricSample[] | SampleView,
  minSamples: number,
): ThresholdJudgement {
  const { metric, tags } = parseSelector(selector);
  const count = viewOf(samples).count(metric, tags);
  if (count < minSamples) {
    return {
      status: 'unknown',
      samples: count,
      reason:
        count === 0
          ? `no sample of ${metric} matched ${selector} (check its tag values): ${expression} was not judged`
          : `only ${count} samples of ${metric} in ${selector}, fewer than load.minSamples (${minSamples}): ${expression} was not judged`,
    };
  }
  if (!evaluated)
    return {
      status: 'broken',
      samples: count,
      reason: `k6 did not report threshold ${expression} on ${selector}: it was not evaluated`,
    };
  return { status: evaluated.passed ? 'passed' : 'failed', samples: count };
}

/** Expected `selector -> expression` pairs of a scenario (what the harness asked k6 to evaluate), export-only ones left out. */
export function askedThresholds(load: LoadConfig, scenario: LoadScenario): [string, string][] {
  return Object.entries(buildK6Options(load, scenario).thresholds).flatMap(([selector, expressions]) =>
    expressions
      .filter((e) => !isExportOnly(parseSelector(selector).metric, e))
      .map((e): [string, string] => [selector, e]),
  );
}

function describeThreshold(t: ThresholdResult): string {
  const where = Object.entries(t.tags)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const observed = t.observed === undefined ? 'not reported' : `${t.aggregation}=${round(t.observed)}`;
  return `${t.expression} on ${t.selector}${where ? ` (${where})` : ''}: observed ${observed}`;
}

const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9._:-]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** `load.<scenario>.<metric>[.<tag>-<value>].<aggregation>`, e.g. `load.fault-phase.http_req_duration.phase-fault.p95`. */
export function thresholdCheckId(
  scenario: string,
  t: Pick<ThresholdResult, 'tags' | 'aggregation' | 'expression' | 'metric'>,
): string {
  const tags = Object.entries(t.tags)
    .filter(([k, v]) => !(k === 'scenario' && v === scenario))
    .map(([k, v]) => `${k}-${v}`);
  const aggregation = t.aggregation.replace(/[()]/g, '');
  const op = /(<=|>=|<|>|===|==|!=)/.exec(t.expression)?.[1];
  const suffix = op === '>' || op === '>=' ? `${aggregation}-min` : aggregation;
  return slug(['load', scenario, t.metric, ...tags, suffix].join('.'));
}

/** One threshold of a scenario as a check: its id, what it reads, and its outcome with its selector's own figures. */
export interface ThresholdCheck {
  readonly id: string;
  readonly selector: string;
  readonly expression: string;
  readonly metric: string;
  readonly phase: string | undefined;
  /** The threshold bounds a duration (`http_req_duration`, `iteration_duration`...), not a rate or a count. */
  readonly judgesTiming: boolean;
  readonly outcome: CheckOutcome;
}

/** k6's built-in trends measured in milliseconds: a threshold on one of them is a latency judgement. */
const TIMING_METRICS = new Set([
  'http_req_duration',
  'http_req_waiting',
  'http_req_blocked',
  'http_req_connecting',
  'http_req_tls_handshaking',
  'http_req_sending',
  'http_req_receiving',
  'iteration_duration',
  'group_duration',
]);

/**
 * Every asked threshold of a scenario as a check, judged on k6's summary and the run's samples: at
 * least `load.minSamples` samples in the selector, figures (p95/p99/rps/error rate) of the selector's
 * own requests. The generator's health is applied on top (`unlessGenerator`).
 */
export function thresholdChecks(
  load: LoadConfig,
  scenario: LoadScenario,
  summary: K6Summary,
  samples: readonly MetricSample[] | SampleView,
): ThresholdCheck[] {
  const view = viewOf(samples);
  const evaluated = new Map(summary.thresholds.map((t) => [`${t.selector} ${t.expression}`, t]));
  return askedThresholds(load, scenario).map(([selector, expression]) => {
    const t = evaluated.get(`${selector} ${expression}`);
    const { metric, tags } = parseSelector(selector);
    const judged = judgeThreshold(selector, expression, t, view, load.minSamples);
    const phase = tags.phase;
    const metrics: Metric[] = [
      { name: 'samples', value: judged.samples, unit: 'count' },
      ...view.figures(tags, selectorSeconds(scenario, tags)),
      ...(t?.observed === undefined ? [] : [{ name: 'observed', value: round(t.observed), unit: t.aggregation }]),
    ];
    const message =
      judged.reason !== undefined || !t
        ? `${judged.reason ?? 'not evaluated'} in scenario ${scenario.id}`
        : `${t.passed ? 'Held' : 'Crossed'}: ${describeThreshold(t)} over ${judged.samples} samples${phase ? ` [phase ${phase}]` : ''} in scenario ${scenario.id}`;
    return {
      id: thresholdCheckId(scenario.id, { metric, tags, expression, aggregation: aggregationOf(expression) }),
      selector,
      expression,
      metric,
      phase,
      judgesTiming: TIMING_METRICS.has(metric),
      outcome: { status: judged.status, message, metrics },
    };
  });
}

/** A check of a scenario whose generator did not deliver the asked load: `broken` with the reason, never passed or failed. */
export function unlessGenerator(outcome: CheckOutcome, problems: readonly string[], scenario: string): CheckOutcome {
  if (problems.length === 0) return outcome;
  return {
    ...outcome,
    status: 'broken',
    message: `Load generator, not the system: ${problems.join('; ')}. Not judged (the check alone: ${outcome.status}: ${outcome.message ?? ''})`,
    remediation: `Give k6 what scenario ${scenario} asks (VUs, CPU) so it holds the planned rate; the checks then judge the system`,
  };
}
