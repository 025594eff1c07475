import type { LoadConfig, LoadScenario, LoadSlo } from '../config/stages/load.ts';
import { KNEE_PREALLOCATED_VUS } from '../config/stages/load.ts';

/** A k6 options object as `--config` takes it (scenarios and thresholds only; the script adds nothing). */
export interface K6Options {
  readonly scenarios: Record<string, Record<string, unknown>>;
  readonly thresholds: Record<string, string[]>;
  readonly summaryTrendStats: readonly string[];
  readonly setupTimeout: string;
  readonly discardResponseBodies?: boolean;
}

/** A threshold in k6's object form: `abortOnFail` ends the test once it fails (not before `delayAbortEval`). */
interface K6AbortingThreshold {
  readonly threshold: string;
  readonly abortOnFail: true;
  readonly delayAbortEval: string;
}

/** k6 options as a run writes them: a threshold is an expression or its aborting object form. */
export type K6RunOptions = Omit<K6Options, 'thresholds'> & {
  readonly thresholds: Readonly<Record<string, readonly (string | K6AbortingThreshold)[]>>;
};

/** How long an aborting threshold waits before k6 evaluates it, so a few slow first requests cannot abort the run. */
const ABORT_DELAY = '10s';

/**
 * The options with every threshold `aborts(selector, expression)` selects in its aborting form
 * (`--fail-fast` on a critical threshold); export-only thresholds never abort. A new object: the options stay as built.
 */
export function withAbortOnFail(
  options: K6Options,
  aborts: (selector: string, expression: string) => boolean,
): K6RunOptions {
  const thresholds: Record<string, (string | K6AbortingThreshold)[]> = {};
  for (const [selector, expressions] of Object.entries(options.thresholds)) {
    const metric = selector.split('{')[0] ?? selector;
    thresholds[selector] = expressions.map((threshold) =>
      !isExportOnly(metric, threshold) && aborts(selector, threshold)
        ? { threshold, abortOnFail: true, delayAbortEval: ABORT_DELAY }
        : threshold,
    );
  }
  return { ...options, thresholds };
}

/** Whether the run options make `expression` on `selector` abort the test when it fails. */
export function isAbortOnFail(options: K6RunOptions, selector: string, expression: string): boolean {
  return (options.thresholds[selector] ?? []).some((t) => typeof t !== 'string' && t.threshold === expression);
}

/**
 * Thresholds that always hold, only so k6 exports the sub-metric of a phase or scenario (k6 reports a
 * tagged sub-metric only when a threshold names it); never turned into checks.
 */
export const EXPORT_ONLY_THRESHOLDS: Readonly<Record<string, string>> = {
  http_reqs: 'count>=0',
  http_req_duration: 'max>=0',
  http_req_failed: 'rate>=0',
  checks: 'rate>=0',
};

/** Whether `expression` on `metric` is one of the export-only thresholds. */
export function isExportOnly(metric: string, expression: string): boolean {
  return EXPORT_ONLY_THRESHOLDS[metric] === expression;
}

/** One phase of a run: a window of the constant rate, its requests tagged `phase:<name>`. */
export interface PhaseWindow {
  readonly name: string;
  readonly startSec: number;
  readonly durationSec: number;
  readonly fault: boolean;
}

const TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'] as const;

/** The k6 thresholds an SLO stands for, on the metrics filtered by `filter` (e.g. `{phase:fault}`). */
function sloThresholds(slo: LoadSlo, filter = ''): Record<string, string[]> {
  const exported: Record<string, string[]> = {};
  if (filter !== '') {
    for (const [metric, expression] of Object.entries(EXPORT_ONLY_THRESHOLDS))
      exported[`${metric}${filter}`] = [expression];
  }
  const duration = [
    ...(slo.p95Ms === undefined ? [] : [`p(95)<${slo.p95Ms}`]),
    ...(slo.p99Ms === undefined ? [] : [`p(99)<${slo.p99Ms}`]),
  ];
  const slos: Record<string, string[]> = {
    ...(duration.length > 0 ? { [`http_req_duration${filter}`]: duration } : {}),
    ...(slo.maxErrorRate === undefined ? {} : { [`http_req_failed${filter}`]: [`rate<${slo.maxErrorRate}`] }),
    ...(slo.minCheckRate === undefined ? {} : { [`checks${filter}`]: [`rate>${slo.minCheckRate}`] }),
  };
  merge(exported, slos);
  return exported;
}

function merge(into: Record<string, string[]>, from: Readonly<Record<string, readonly string[]>>): void {
  for (const [selector, expressions] of Object.entries(from)) {
    into[selector] = [...new Set([...(into[selector] ?? []), ...expressions])];
  }
}

/** The phase windows of a scenario (one window named after the scenario when it has no phases). */
export function phaseWindows(scenario: LoadScenario): PhaseWindow[] {
  if (!scenario.phases) return [];
  let startSec = 0;
  return scenario.phases.map((p) => {
    const window = { name: p.name, startSec, durationSec: p.durationSec, fault: p.fault };
    startSec += p.durationSec;
    return window;
  });
}

/** Total planned seconds of a scenario's load (without setup). */
export function plannedSeconds(scenario: LoadScenario): number {
  if (scenario.phases) return scenario.phases.reduce((sum, p) => sum + p.durationSec, 0);
  if (scenario.stages) return scenario.stages.reduce((sum, s) => sum + s.durationSec, 0);
  return scenario.durationSec ?? 0;
}

/**
 * k6 options for one scenario: its executor(s) and the thresholds of its SLO. A scenario with
 * phases becomes one k6 scenario per phase (same rate, `startTime` back to back, tag `phase`),
 * so each phase's SLO is a threshold on the tagged sub-metric (`http_req_duration{phase:fault}`).
 */
export function buildK6Options(config: LoadConfig, scenario: LoadScenario): K6Options {
  const slo: LoadSlo = { ...config.slo, ...scenario.slo };
  const thresholds: Record<string, string[]> = {};
  const scenarios: Record<string, Record<string, unknown>> = {};
  const vus = { preAllocatedVUs: scenario.preAllocatedVUs, maxVUs: scenario.maxVUs };
  const windows = phaseWindows(scenario);
  if (windows.length > 0) {
    for (const window of windows) {
      const phase = scenario.phases?.find((p) => p.name === window.name);
      scenarios[window.name] = {
        executor: 'constant-arrival-rate',
        exec: scenario.exec,
        rate: scenario.ratePerSec,
        timeUnit: '1s',
        duration: `${window.durationSec}s`,
        startTime: `${window.startSec}s`,
        gracefulStop: '5s',
        tags: { phase: window.name },
        ...vus,
      };
      // A phase's own SLO replaces the scenario's (a fault phase usually bounds latency only).
      merge(thresholds, sloThresholds(phase?.slo ?? slo, `{phase:${window.name}}`));
    }
  } else if (scenario.stages) {
    scenarios[scenario.id] = {
      executor: 'ramping-arrival-rate',
      exec: scenario.exec,
      startRate: scenario.startRatePerSec,
      timeUnit: '1s',
      stages: scenario.stages.map((s) => ({ target: s.target, duration: `${s.durationSec}s` })),
      gracefulStop: '5s',
      ...vus,
    };
    merge(thresholds, sloThresholds(slo, `{scenario:${scenario.id}}`));
  } else {
    scenarios[scenario.id] = {
      executor: 'constant-arrival-rate',
      exec: scenario.exec,
      rate: scenario.ratePerSec,
      timeUnit: '1s',
      duration: `${scenario.durationSec ?? 0}s`,
      gracefulStop: '5s',
      ...vus,
    };
    merge(thresholds, sloThresholds(slo, `{scenario:${scenario.id}}`));
  }
  merge(thresholds, scenario.thresholds);
  // Arrival-rate executors drop iterations when VUs run out: a generator limit, shown, never hidden.
  return { scenarios, thresholds, summaryTrendStats: TREND_STATS, setupTimeout: '120s', discardResponseBodies: false };
}

/** k6 options of the knee probe: one ramping-arrival-rate scenario, no thresholds (judged per window afterwards). */
export function buildKneeOptions(knee: NonNullable<LoadConfig['knee']>): K6Options {
  return {
    scenarios: {
      knee: {
        executor: 'ramping-arrival-rate',
        exec: knee.exec,
        startRate: knee.fromRatePerSec,
        timeUnit: '1s',
        stages: [{ target: knee.toRatePerSec, duration: `${knee.durationSec}s` }],
        preAllocatedVUs: Math.min(knee.maxVUs, KNEE_PREALLOCATED_VUS),
        maxVUs: knee.maxVUs,
        gracefulStop: '3s',
      },
    },
    thresholds: {},
    summaryTrendStats: TREND_STATS,
    setupTimeout: '120s',
  };
}
