import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pollUntil, systemClock } from '../core/clock.ts';
import type { Clock } from '../core/clock.ts';
import { exec, tail } from '../core/exec.ts';
import type { K6RunOptions, PhaseWindow } from './k6-options.ts';

/** k6's exit code when thresholds failed (https://grafana.com/docs/k6/latest/using-k6/thresholds/). */
const K6_THRESHOLDS_FAILED = 99;

/** What a run of k6 gave: `thresholds-failed` is data (exit 99), `broken` any other non-zero exit. */
export type K6RunOutcome =
  | {
      readonly kind: 'ok' | 'thresholds-failed';
      readonly summaryFile: string;
      readonly durationMs: number;
      readonly stderrTail: string;
    }
  | {
      readonly kind: 'broken';
      readonly exitCode: number | null;
      readonly message: string;
      readonly stderrTail: string;
    };

/** A run with `rawOutput: true`: when k6 finished, its samples are in `rawFile` (NDJSON). */
export type K6RawRunOutcome =
  | Extract<K6RunOutcome, { kind: 'broken' }>
  | (Exclude<K6RunOutcome, { kind: 'broken' }> & { readonly rawFile: string });

/** Called at the start and end of each phase, timed from the moment k6's scenarios start (after `setup()`). */
export type PhaseHook = (window: PhaseWindow, edge: 'start' | 'end') => Promise<void>;

export interface RunK6Options {
  readonly k6: string;
  readonly script: string;
  readonly options: K6RunOptions;
  /** Folder for the options, summary and raw output files (`<label>.*`). */
  readonly outDir: string;
  readonly label: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  readonly phases?: readonly PhaseWindow[];
  readonly onPhase?: PhaseHook;
  /** Also write every sample as NDJSON (`--out json=`), e.g. for the knee probe. */
  readonly rawOutput?: boolean;
  /** Called once the scenarios run (after `setup()`), with the wall-clock start. */
  readonly onRunning?: (startedAt: number) => void;
  /**
   * When this settles, the run is stopped early through k6's REST API (its planned duration is then
   * an upper bound); k6's exit for that (103) counts as a finished run, not a broken one.
   */
  readonly stopWhen?: Promise<unknown>;
  /** This process's share of a sharded run (k6's execution segments); none runs the whole test. */
  readonly segment?: ExecutionSegment;
}

/** k6's exit code when the run was stopped through its REST API (errext/exitcodes). */
const K6_STOPPED_FROM_API = 103;

async function stopK6(apiPort: number): Promise<void> {
  await fetch(`http://127.0.0.1:${apiPort}/v1/status`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data: { type: 'status', id: 'default', attributes: { stopped: true } } }),
    signal: AbortSignal.timeout(2_000),
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** k6's execution status (lib.ExecutionStatus): 7 = running, after setup(). */
const K6_STATUS_RUNNING = 7;

async function k6Status(apiPort: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${apiPort}/v1/status`, { signal: AbortSignal.timeout(1_000) });
  const body = (await response.json()) as { data?: { attributes?: { status?: number } } };
  return body.data?.attributes?.status ?? -1;
}

/**
 * Removes `setup_data` from a `--summary-export` file: k6 writes there whatever `setup()` returned
 * (the tokens of the users it logged in) and has no option to leave it out; nothing reads it.
 */
export async function dropSetupData(summaryFile: string): Promise<void> {
  const text = await readFile(summaryFile, 'utf8').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  });
  if (text === null) return;
  let summary: unknown;
  try {
    summary = JSON.parse(text);
  } catch (error) {
    // An unreadable summary is reported by its reader; the run folder's redaction still covers it.
    if (error instanceof SyntaxError) return;
    throw error;
  }
  if (typeof summary !== 'object' || summary === null || !('setup_data' in summary)) return;
  const { setup_data: _dropped, ...rest } = summary as Record<string, unknown>;
  await writeFile(summaryFile, `${JSON.stringify(rest, null, 2)}\n`);
}

/** One runner's share of a sharded run: segment `index/count:(index+1)/count` of the even sequence. */
interface ExecutionSegment {
  readonly index: number;
  readonly count: number;
}

/**
 * k6's own sharding flags for one runner of `count`: `--execution-segment i/N:(i+1)/N` within
 * `--execution-segment-sequence 0,1/N,...,1` (none for a single runner, whose run is unchanged).
 */
export function segmentArgs(segment: ExecutionSegment | undefined): string[] {
  if (!segment || segment.count === 1) return [];
  const { index, count } = segment;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count)
    throw new Error(`execution segment ${index} of ${count} is not a runner of the sequence`);
  const at = (i: number): string => (i === 0 ? '0' : i === count ? '1' : `${i}/${count}`);
  const sequence = Array.from({ length: count + 1 }, (_, i) => at(i)).join(',');
  return ['--execution-segment', `${at(index)}:${at(index + 1)}`, '--execution-segment-sequence', sequence];
}

interface K6Files {
  readonly configFile: string;
  readonly summaryFile: string;
  readonly rawFile: string;
}

function k6Args(options: RunK6Options, files: K6Files, apiPort: number): string[] {
  return [
    'run',
    '--config',
    files.configFile,
    '--summary-export',
    files.summaryFile,
    '--address',
    `127.0.0.1:${apiPort}`,
    '--no-color',
    '--quiet',
    '--no-usage-report',
    ...segmentArgs(options.segment),
    ...(options.rawOutput ? ['--out', `json=${files.rawFile}`] : []),
    options.script,
  ];
}

/**
 * Calls `onPhase` at each phase boundary, timed from `t0` (a monotonic time of `clock`), until
 * `isFinished`; the first hook that throws ends the schedule and is rethrown.
 */
export async function runPhaseEdges(
  t0: number,
  phases: readonly PhaseWindow[],
  onPhase: PhaseHook,
  timing: { readonly clock: Clock; readonly signal?: AbortSignal | undefined; readonly isFinished: () => boolean },
): Promise<void> {
  const edges = phases.flatMap((w) => [
    { w, edge: 'start' as const, atSec: w.startSec },
    { w, edge: 'end' as const, atSec: w.startSec + w.durationSec },
  ]);
  for (const { w, edge, atSec } of edges) {
    const waitMs = t0 + atSec * 1000 - timing.clock.monotonicMs();
    if (waitMs > 0) await timing.clock.sleep(waitMs, timing.signal);
    if (timing.isFinished()) return;
    await onPhase(w, edge);
  }
}

/** Polls k6's REST API until its scenarios run (after `setup()`); false when k6 ended or the wait timed out. */
async function waitUntilRunning(
  apiPort: number,
  options: RunK6Options,
  clock: Clock,
  isFinished: () => boolean,
): Promise<boolean> {
  const running = await pollUntil(
    // Not listening yet (or any more) is an answer too, so the accept check sees k6's exit at once.
    () => k6Status(apiPort).catch(() => -1),
    (s) => s >= K6_STATUS_RUNNING || isFinished(),
    {
      timeoutMs: options.timeoutMs,
      intervalMs: 50,
      clock,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  return running.ok && !isFinished();
}

/** What k6's exit means: a failed phase hook or a timeout is broken; 0, 99 and a requested stop (103) finished. */
function k6Outcome(
  result: Awaited<ReturnType<typeof exec>>,
  options: RunK6Options,
  files: K6Files,
  state: { readonly stopRequested: boolean; readonly hookErrors: readonly unknown[] },
): K6RunOutcome & { readonly rawFile?: string } {
  const stderrTail = tail(result.stderr, 15);
  if (state.hookErrors.length > 0) {
    const first = state.hookErrors[0];
    return {
      kind: 'broken',
      exitCode: result.exitCode,
      message: `phase hook failed: ${first instanceof Error ? first.message : String(first)}`,
      stderrTail,
    };
  }
  if (result.timedOut) {
    return {
      kind: 'broken',
      exitCode: result.exitCode,
      message: `k6 did not finish within ${options.timeoutMs}ms`,
      stderrTail,
    };
  }
  const stoppedOnRequest = state.stopRequested && result.exitCode === K6_STOPPED_FROM_API;
  if (result.exitCode === 0 || result.exitCode === K6_THRESHOLDS_FAILED || stoppedOnRequest) {
    return {
      kind: result.exitCode === K6_THRESHOLDS_FAILED ? 'thresholds-failed' : 'ok',
      summaryFile: files.summaryFile,
      durationMs: Math.round(result.durationMs),
      stderrTail,
      ...(options.rawOutput ? { rawFile: files.rawFile } : {}),
    };
  }
  return {
    kind: 'broken',
    exitCode: result.exitCode,
    message: `k6 exited ${result.exitCode ?? `on signal ${result.signal ?? '?'}`} (${result.command})`,
    stderrTail,
  };
}

/**
 * Runs one k6 test: options through `--config`, results through `--summary-export`. With phases,
 * polls k6's REST API for the end of `setup()` and calls `onPhase` at each phase boundary.
 */
export function runK6(options: RunK6Options & { readonly rawOutput: true }): Promise<K6RawRunOutcome>;
export function runK6(options: RunK6Options): Promise<K6RunOutcome & { readonly rawFile?: string }>;
export async function runK6(options: RunK6Options): Promise<K6RunOutcome & { readonly rawFile?: string }> {
  const clock = options.clock ?? systemClock;
  const base = join(options.outDir, options.label);
  const files: K6Files = {
    configFile: `${base}.k6-options.json`,
    summaryFile: `${base}.summary.json`,
    rawFile: `${base}.samples.ndjson`,
  };
  await writeFile(files.configFile, `${JSON.stringify(options.options, null, 2)}\n`);
  const apiPort = await freePort();
  const run = exec(options.k6, k6Args(options, files, apiPort), {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env, K6_NO_USAGE_REPORT: 'true' },
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  // Set when k6 exits and when `stopWhen` asks it to stop; read across awaits (through an object and
  // a function, so no stale narrowing applies).
  const state: { finished: boolean; stopRequested: boolean; hookErrors: unknown[] } = {
    finished: false,
    stopRequested: false,
    hookErrors: [],
  };
  const isFinished = (): boolean => state.finished;
  const scheduler = (async (): Promise<void> => {
    if (!options.onRunning && !(options.phases?.length && options.onPhase)) return;
    if (!(await waitUntilRunning(apiPort, options, clock, isFinished))) return;
    const t0 = clock.monotonicMs();
    options.onRunning?.(clock.now());
    if (!options.onPhase) return;
    await runPhaseEdges(t0, options.phases ?? [], options.onPhase, { clock, signal: options.signal, isFinished });
  })().catch((error: unknown) => {
    state.hookErrors.push(error);
  });
  void options.stopWhen
    ?.catch(() => undefined)
    .then(async () => {
      if (isFinished()) return;
      state.stopRequested = true;
      // A stop that fails leaves k6 to its planned duration, which bounds it anyway.
      await stopK6(apiPort).catch(() => undefined);
    });
  const result = await run;
  state.finished = true;
  await dropSetupData(files.summaryFile);
  await scheduler;
  return k6Outcome(result, options, files, state);
}
