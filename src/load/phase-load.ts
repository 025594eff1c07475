import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadSlo } from '../config/stages/load.ts';
import type { SuiteContext } from '../runner/suite.ts';
import { serviceUrl } from '../stack/stack-handle.ts';
import { percentile, readRequestSamples } from './k6-samples.ts';
import type { TimedSample } from './k6-samples.ts';
import { K6_OVERHEAD_MS, ensureK6, resolvePath } from './load-stage.ts';
import { runK6 } from './run-k6.ts';

/**
 * Constant-rate k6 load behind something else that runs (a chaos experiment), judged per phase the
 * caller marks as it goes: k6 cannot know when a fault is injected, so every request sample keeps its
 * timestamp and is assigned to the phase that was current when it was sent.
 */
interface PhaseLoadPlan {
  /** Iterations per second of the script's `exec` function. */
  readonly ratePerSec: number;
  /** Upper bound of the run; `stop()` ends it earlier. */
  readonly maxDurationSec: number;
  readonly exec?: string;
  readonly maxVUs?: number;
  /** SLO per phase name; a phase without one is measured, not judged. */
  readonly slo?: Readonly<Record<string, LoadSlo>>;
}

interface PhaseLoadStats {
  readonly phase: string;
  readonly requests: number;
  readonly seconds: number;
  readonly ratePerSec: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly errorRate: number;
  readonly slo?: LoadSlo;
  /** What the phase crossed of its SLO (empty: held); undefined without an SLO or without requests. */
  readonly breaches?: readonly string[];
}

type PhaseLoadResult =
  | { readonly kind: 'measured'; readonly phases: readonly PhaseLoadStats[]; readonly csv: string }
  | { readonly kind: 'broken'; readonly message: string; readonly stderrTail: string };

interface PhaseLoad {
  /** The phase from now on (wall clock); the first mark is usually `baseline`. */
  mark(phase: string): void;
  /** Stops k6 and judges each marked phase on the samples sent during it. */
  stop(): Promise<PhaseLoadResult>;
}

/** Each phase's figures from timed samples and the marks `[phase, fromMs]` (a phase lasts until the next mark or `endMs`). */
export function statsByPhase(
  samples: readonly TimedSample[],
  marks: readonly (readonly [string, number])[],
  endMs: number,
  slo: Readonly<Record<string, LoadSlo>> = {},
): PhaseLoadStats[] {
  return marks.map(([phase, from], i) => {
    const to = marks[i + 1]?.[1] ?? endMs;
    const inPhase = samples.filter((s) => s.t >= from && s.t < to);
    const durations = inPhase.flatMap((s) => (s.durationMs === undefined ? [] : [s.durationMs])).sort((a, b) => a - b);
    const outcomes = inPhase.flatMap((s) => (s.failed === undefined ? [] : [s.failed]));
    const requests = outcomes.length;
    const seconds = Math.max(0, (to - from) / 1000);
    const errorRate = requests === 0 ? 0 : outcomes.filter(Boolean).length / requests;
    const p95Ms = percentile(durations, 95);
    const p99Ms = percentile(durations, 99);
    const target = slo[phase];
    const breaches =
      target === undefined || requests === 0
        ? undefined
        : [
            ...(target.p95Ms !== undefined && p95Ms >= target.p95Ms
              ? [`p95 ${round(p95Ms)}ms >= ${target.p95Ms}ms`]
              : []),
            ...(target.p99Ms !== undefined && p99Ms >= target.p99Ms
              ? [`p99 ${round(p99Ms)}ms >= ${target.p99Ms}ms`]
              : []),
            ...(target.maxErrorRate !== undefined && errorRate >= target.maxErrorRate
              ? [`error rate ${round(errorRate)} >= ${target.maxErrorRate}`]
              : []),
          ];
    return {
      phase,
      requests,
      seconds: round(seconds),
      ratePerSec: seconds === 0 ? 0 : round(requests / seconds),
      p95Ms: round(p95Ms),
      p99Ms: round(p99Ms),
      errorRate: round(errorRate),
      ...(target ? { slo: target } : {}),
      ...(breaches ? { breaches } : {}),
    };
  });
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * Starts k6 on the load stage's script and target (`load.script`, `load.target`, `load.env`) and
 * resolves once its scenarios run (after `setup()`), so the caller's first phase sees load.
 * Rejects when k6 ends before it runs; the caller must call `stop()` (register it as a teardown).
 */
export async function startPhaseLoad(context: SuiteContext, plan: PhaseLoadPlan, label: string): Promise<PhaseLoad> {
  const load = context.config.load;
  if (!load)
    throw new Error(
      `no load section in ${context.config.configFile}: an experiment under load needs load.script and load.target`,
    );
  const k6 = await ensureK6(load, context);
  const baseUrl = serviceUrl(context.handle, load.target.service, load.target.port);
  context.assertTarget(baseUrl);
  const outDir = context.runDir;
  const scenario = label.replace(/[^A-Za-z0-9_]/g, '_');
  let stopNow: () => void = () => undefined;
  const stopWhen = new Promise<void>((resolve) => (stopNow = resolve));
  let started: (at: number) => void = () => undefined;
  const running = new Promise<number>((resolve) => (started = resolve));
  const run = runK6({
    k6,
    script: resolvePath(context, load.script),
    options: {
      scenarios: {
        [scenario]: {
          executor: 'constant-arrival-rate',
          exec: plan.exec ?? 'default',
          rate: plan.ratePerSec,
          timeUnit: '1s',
          duration: `${plan.maxDurationSec}s`,
          gracefulStop: '2s',
          preAllocatedVUs: Math.min(20, plan.maxVUs ?? 50),
          maxVUs: plan.maxVUs ?? 50,
        },
      },
      thresholds: {},
      summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
      setupTimeout: '60s',
      discardResponseBodies: false,
    },
    outDir,
    label: `load-${label}`,
    env: { ...load.env, BASE_URL: baseUrl, READINESS_SEED: String(context.seed) },
    timeoutMs: plan.maxDurationSec * 1000 + K6_OVERHEAD_MS,
    signal: context.signal,
    clock: context.clock,
    rawOutput: true,
    onRunning: (at) => started(at),
    stopWhen,
  });
  const ended = run.then((outcome) => {
    throw new Error(
      `k6 ended before its load ran${outcome.kind === 'broken' ? `: ${outcome.message}\n${outcome.stderrTail}` : ''}`,
    );
  });
  await Promise.race([running, ended]).catch((error: unknown) => {
    stopNow();
    throw error;
  });
  const marks: [string, number][] = [];
  let stopped: Promise<PhaseLoadResult> | undefined;
  return {
    mark(phase) {
      marks.push([phase, context.clock.now()]);
    },
    stop() {
      stopped ??= (async (): Promise<PhaseLoadResult> => {
        const endMs = context.clock.now();
        stopNow();
        const outcome = await run;
        if (outcome.kind === 'broken')
          return { kind: 'broken', message: outcome.message, stderrTail: outcome.stderrTail };
        const samples = await readRequestSamples(outcome.rawFile, scenario);
        // Every sample of every metric: the per-phase table below is the evidence that is kept.
        await rm(outcome.rawFile, { force: true });
        const phases = statsByPhase(samples, marks, endMs, plan.slo);
        const csv = [
          'phase,seconds,requests,rps,p95_ms,p99_ms,error_rate,slo_breaches',
          ...phases.map(
            (p) =>
              `${p.phase},${p.seconds},${p.requests},${p.ratePerSec},${p.p95Ms},${p.p99Ms},${p.errorRate},"${(p.breaches ?? []).join('; ')}"`,
          ),
        ].join('\n');
        await writeFile(`${join(outDir, `load-${label}`)}.phases.csv`, `${csv}\n`);
        return { kind: 'measured', phases, csv };
      })();
      return stopped;
    },
  };
}
