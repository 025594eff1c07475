import { systemClock } from '../core/clock.ts';
import { runK6, runPhaseEdges } from './run-k6.ts';
import type { K6RawRunOutcome, K6RunOutcome, RunK6Options } from './run-k6.ts';

/**
 * The widest spread of the runners' starts (the end of each one's `setup()`) a sharded run is judged
 * with: each runner times its phases from its own start, the harness its faults from the last one.
 */
export const MAX_RUNNER_START_SKEW_MS = 1_000;

/** One runner of a sharded run that finished: its files (its own summary and thresholds are not trusted). */
interface RunnerResult {
  readonly summaryFile: string;
  readonly rawFile: string;
  readonly durationMs: number;
  /** When its scenarios started (wall clock, ms). */
  readonly startedAt: number;
}

/** A sharded run whose runners all finished; judged only on their merged samples. */
export interface K6ShardedOutcome {
  readonly kind: 'sharded';
  readonly runners: readonly RunnerResult[];
  /** Spread of the runners' starts (ms). */
  readonly startSkewMs: number;
}

/** A scenario's k6 run: one process as before, or `runners` of them sharing the load through execution segments. */
export type ScenarioK6Outcome = K6RawRunOutcome | K6ShardedOutcome;

type Broken = Extract<K6RunOutcome, { kind: 'broken' }>;

/**
 * Why a sharded run that finished is not fit to judge (empty: fit): the runners of a time-shaped load
 * (phases, whose windows and fault each runner times from its own start, or a ramp) started too far apart.
 * A constant rate without phases is the same load whenever each runner starts.
 */
export function shardProblems(outcome: K6ShardedOutcome, timeShaped: boolean): string[] {
  if (!timeShaped || outcome.startSkewMs <= MAX_RUNNER_START_SKEW_MS) return [];
  return [
    `the ${outcome.runners.length} k6 runners started ${Math.round(outcome.startSkewMs)}ms apart (limit ${MAX_RUNNER_START_SKEW_MS}ms): their phase windows and ramps did not line up`,
  ];
}

/**
 * Runs a test as `runners` k6 processes started together, runner i on execution segment i/N:(i+1)/N,
 * each writing its samples (`<label>.runner-<i>.samples.ndjson`). One time origin: `onRunning` and
 * the phase hooks fire once, timed from the moment every runner runs. A runner that breaks stops the
 * others and breaks the run. With one runner this is `runK6` itself.
 */
export async function runK6Shards(
  options: RunK6Options & { readonly rawOutput: true },
  runners: number,
): Promise<ScenarioK6Outcome> {
  if (runners === 1) return runK6(options);
  const clock = options.clock ?? systemClock;
  const abort = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, abort.signal]) : abort.signal;
  const starts: (number | undefined)[] = Array.from({ length: runners }, () => undefined);
  let allRunning: () => void = () => undefined;
  const running = new Promise<void>((resolve) => (allRunning = resolve));
  const state: { finished: boolean; firstBroken?: { index: number; outcome: Broken } } = { finished: false };
  const runs = Array.from({ length: runners }, (_, index) =>
    runK6({
      ...options,
      label: `${options.label}.runner-${index + 1}`,
      segment: { index, count: runners },
      signal,
      phases: [],
      onRunning: (at) => {
        starts[index] = at;
        if (starts.filter((s) => s !== undefined).length === runners) allRunning();
      },
    }).then((outcome) => {
      if (outcome.kind === 'broken' && !state.firstBroken) {
        state.firstBroken = { index, outcome };
        abort.abort();
      }
      return outcome;
    }),
  );
  const settled = Promise.all(runs).finally(() => {
    state.finished = true;
  });
  const hookErrors: unknown[] = [];
  const scheduler = (async (): Promise<void> => {
    if (!(await Promise.race([running.then(() => true), settled.then(() => false)]))) return;
    const t0 = clock.monotonicMs();
    options.onRunning?.(clock.now());
    if (!options.onPhase || !options.phases?.length) return;
    await runPhaseEdges(t0, options.phases, options.onPhase, {
      clock,
      signal: options.signal,
      isFinished: () => state.finished,
    });
  })().catch((error: unknown) => {
    hookErrors.push(error);
  });
  const outcomes = await settled;
  await scheduler;
  return shardedOutcome(outcomes, starts, hookErrors, state.firstBroken);
}

function shardedOutcome(
  outcomes: readonly K6RawRunOutcome[],
  starts: readonly (number | undefined)[],
  hookErrors: readonly unknown[],
  firstBroken: { index: number; outcome: Broken } | undefined,
): ScenarioK6Outcome {
  const count = outcomes.length;
  if (firstBroken) {
    const { index, outcome } = firstBroken;
    return { ...outcome, message: `runner ${index + 1} of ${count}: ${outcome.message}` };
  }
  if (hookErrors.length > 0) {
    const first = hookErrors[0];
    return {
      kind: 'broken',
      exitCode: null,
      message: `phase hook failed: ${first instanceof Error ? first.message : String(first)}`,
      stderrTail: '',
    };
  }
  const results: RunnerResult[] = [];
  for (const [index, outcome] of outcomes.entries()) {
    const startedAt = starts[index];
    if (outcome.kind === 'broken' || startedAt === undefined)
      return {
        kind: 'broken',
        exitCode: null,
        message: `runner ${index + 1} of ${count} ended before its scenarios ran`,
        stderrTail: outcome.stderrTail,
      };
    results.push({
      summaryFile: outcome.summaryFile,
      rawFile: outcome.rawFile,
      durationMs: outcome.durationMs,
      startedAt,
    });
  }
  const at = results.map((r) => r.startedAt);
  return { kind: 'sharded', runners: results, startSkewMs: Math.max(...at) - Math.min(...at) };
}
