import { readdir, realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResolvedConfig } from '../config/load-config.ts';
import type { CheckResult } from '../core/check-result.ts';
import type { Clock } from '../core/clock.ts';
import type { Redactor } from '../core/redact.ts';
import type { Reporter } from '../core/reporter.ts';
import { writeCheckResult } from '../core/results.ts';
import type { Stage } from '../core/stage.ts';
import { Teardowns } from '../core/teardown.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { assertAllowedTarget } from './blast-radius.ts';
import { unrecordedChecks } from './check-plan.ts';
import { applyNotApplicable } from './not-applicable.ts';
import type { FailFast, PlanContext, PlannedCheck, Suite, SuiteContext } from './suite.ts';

export interface StageRunOptions {
  readonly config: ResolvedConfig;
  readonly handle: StackHandle;
  readonly stage: Stage;
  readonly runDir: string;
  readonly resultsDir: string;
  readonly seed: number;
  readonly clock: Clock;
  readonly reporter: Reporter;
  readonly redact: Redactor;
  readonly signal: AbortSignal;
  /** Only suites whose file name (without `.suite.ts`) is listed, e.g. one drill. */
  readonly only?: readonly string[];
  /** Where the built-in suites are (default `BUILT_IN_SUITES_DIR`); tests point it at their own folder. */
  readonly builtInSuitesDir?: string;
  /** `--fail-fast`: the first `failed` check it calls critical stops the stage (its teardowns still run). */
  readonly failFast?: FailFast;
  /** `certify --target <file>`: the handle file of the stack the stages run against, named in reasons about what it lacks. */
  readonly targetFile?: string;
}

/** Why the rest of a stage did not run after `--fail-fast` stopped it on `checkId`. */
export const failFastReason = (checkId: string): string => `not run: --fail-fast stopped after ${checkId} failed`;

/**
 * The built-in stage suites shipped with readiness: `suites/` of the checkout when running from
 * source, `dist/suites/` of the installed package (both two folders above this module).
 */
export const BUILT_IN_SUITES_DIR = fileURLToPath(new URL('../../suites/', import.meta.url));

/**
 * Suite files of a stage: the built-in ones, then the config's own (`<suitesDir>/<stage>/`), which
 * add to them and never replace them; the same file reached through both is run once.
 */
export async function findStageSuites(
  suitesDir: string,
  stage: Stage,
  builtInSuitesDir = BUILT_IN_SUITES_DIR,
): Promise<string[]> {
  const builtIn = await findSuites(builtInSuitesDir, stage);
  const own = await findSuites(suitesDir, stage);
  const seen = new Set(await Promise.all(builtIn.map((file) => realpath(file))));
  const added: string[] = [];
  for (const file of own) {
    const real = await realpath(file);
    if (!seen.has(real)) {
      seen.add(real);
      added.push(file);
    }
  }
  return [...builtIn, ...added];
}

/** Suite files of a stage in one folder: `<suitesDir>/<stage>/*.suite.ts` (or `.suite.js` when built). */
export async function findSuites(suitesDir: string, stage: Stage): Promise<string[]> {
  try {
    const names = await readdir(join(suitesDir, stage));
    return names
      .filter((n) => n.endsWith('.suite.ts') || n.endsWith('.suite.js'))
      .sort()
      .map((n) => join(suitesDir, stage, n));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Read through a call: TypeScript narrows `signal.aborted` as if it could not change during an await. */
const isAborted = (signal: AbortSignal): boolean => signal.aborted;

const suiteId = (file: string): string => basename(file).replace(/\.suite\.[tj]s$/, '');

/** Imports a suite file; it must default-export a suite of this stage. */
async function importSuite(file: string, stage: Stage): Promise<Suite> {
  const mod = (await import(pathToFileURL(file).href)) as { default?: Suite };
  const suite = mod.default;
  if (!suite || typeof suite.run !== 'function' || suite.stage !== stage) {
    throw new Error(`${file} must default-export defineSuite({ stage: '${stage}', ... })`);
  }
  return suite;
}

/**
 * Runs every suite of a stage under the stage deadline, writing each check as it is recorded.
 * Each suite's plan is taken first; a planned check without a result when its suite ends is
 * recorded `unknown` with the reason. A check whose id the config's `notApplicable` lists is recorded
 * `not-applicable` with the config's reason, whatever the suite observed. A suite that throws yields a `broken` check; a stage with no
 * suite yields an `unknown` one.
 */
export async function runStage(options: StageRunOptions): Promise<CheckResult[]> {
  const { config, stage, reporter } = options;
  // Aborted by --fail-fast; the suite sees it through its signal, its teardowns still run.
  const base: StageState = { options, results: [], stopped: new AbortController() };
  reporter.onStageStart?.(stage);
  const files = (await findStageSuites(config.suitesDir, stage, options.builtInSuitesDir)).filter(
    (f) => !options.only || options.only.includes(suiteId(f)),
  );
  if (files.length === 0) await recordCheck(base, noSuiteCheck(options, options.clock.now()));
  const state = armDeadline(base);
  const loaded = await loadSuites(state, files);
  if (loaded.length > 0)
    reporter.onInfo?.(
      `${stage}: ${loaded.reduce((n, l) => n + l.plan.length, 0)} checks planned by ${loaded.length} suite(s)`,
    );
  for (const suite of loaded) {
    const why = await runLoadedSuite(state, suite);
    const recorded = new Set(state.results.map((r) => r.id));
    for (const check of unrecordedChecks(suite.plan, recorded, why, options.clock.now()))
      await recordCheck(state, check);
  }
  reporter.onStageEnd?.(stage, state.results);
  return state.results;
}

type CheckInput = Parameters<SuiteContext['record']>[0];

/** A stage being run: its options, the checks written so far, and the --fail-fast stop. */
interface StageState {
  readonly options: StageRunOptions;
  readonly results: CheckResult[];
  readonly stopped: AbortController;
}

/** A stage past its start: the signal suites run under and the one deadline every wait races. */
interface ArmedStage extends StageState {
  /** Aborts on interrupt, the stage deadline or --fail-fast. */
  readonly stageSignal: AbortSignal;
  readonly untilDeadline: <T>(work: Promise<T>) => Promise<T>;
  readonly planContext: PlanContext;
}

/** A suite file, its suite when it could be imported, and its planned checks. */
interface LoadedSuite {
  readonly file: string;
  readonly suite?: Suite;
  readonly plan: readonly PlannedCheck[];
}

/**
 * Writes one check (a suite's or a planned one's fill-in), as not applicable when the config says so, and
 * stops the stage when --fail-fast calls it a critical failure.
 */
async function recordCheck(state: StageState, check: CheckInput): Promise<CheckResult> {
  const { options, stopped } = state;
  const applicable = applyNotApplicable(check, options.config.notApplicable);
  const written = await writeCheckResult(options.resultsDir, { ...applicable, stage: options.stage }, options.redact);
  state.results.push(written);
  options.reporter.onCheckResult?.(written);
  if (
    options.failFast &&
    !stopped.signal.aborted &&
    written.status === 'failed' &&
    options.failFast.isCritical(written)
  ) {
    options.reporter.onInfo?.(`--fail-fast: ${written.id} failed; stopping ${options.stage} after its teardowns`);
    stopped.abort(failFastReason(written.id));
  }
  return written;
}

/** The check of a stage that has no suite file: unknown, so the stage has no evidence rather than a pass. */
export function noSuiteCheck(
  options: Pick<StageRunOptions, 'stage' | 'builtInSuitesDir'> & { readonly config: Pick<ResolvedConfig, 'suitesDir'> },
  now: number,
): CheckInput {
  const { stage, config } = options;
  return {
    id: `${stage}.no-suite`,
    name: `No ${stage} suite found`,
    feature: 'harness',
    severity: 'critical',
    status: 'unknown',
    message: `No suite file for the ${stage} stage in ${join(options.builtInSuitesDir ?? BUILT_IN_SUITES_DIR, stage)} (built in) or ${join(config.suitesDir, stage)} (config suitesDir; expected *.suite.ts): the ${stage} stage has no evidence`,
    remediation: `Add a suite under ${join(config.suitesDir, stage)} or remove "${stage}" from the config's stages`,
    startedAt: now,
    finishedAt: now,
  };
}

/** Starts the stage deadline: one for the whole stage (not a listener per plan and per run); nobody may await it. */
function armDeadline(state: StageState): ArmedStage {
  const { options } = state;
  const stageSignal = AbortSignal.any([
    options.signal,
    AbortSignal.timeout(options.config.deadlines.stageMs),
    state.stopped.signal,
  ]);
  const deadline = new Promise<never>((_, reject) => {
    const fail = (): void => {
      reject(new Error(`stage deadline or interrupt (${String(stageSignal.reason)})`));
    };
    if (stageSignal.aborted) fail();
    else stageSignal.addEventListener('abort', fail, { once: true });
  });
  deadline.catch(() => undefined);
  return {
    ...state,
    stageSignal,
    untilDeadline: <T>(work: Promise<T>): Promise<T> => Promise.race([work, deadline]),
    planContext: {
      config: options.config,
      handle: options.handle,
      stage: options.stage,
      runDir: options.runDir,
      seed: options.seed,
    },
  };
}

/** Why a suite failed: the interrupt, the stage deadline, or its own error. */
export function suiteFailureMessage(input: {
  readonly suite: string;
  readonly interrupted: boolean;
  readonly deadlinePassed: boolean;
  readonly stageMs: number;
  readonly what: string;
  readonly error: unknown;
}): string {
  if (input.interrupted) return `Interrupted while running ${input.suite}`;
  if (input.deadlinePassed) return `Suite ${input.suite} did not finish within deadlines.stageMs=${input.stageMs}ms`;
  return `Suite ${input.suite} ${input.what}: ${input.error instanceof Error ? input.error.message : String(input.error)}`;
}

/**
 * Records a suite that failed (or failed to plan, with `idSuffix` `.plan`) as a broken check and returns why.
 * Stopped on purpose (--fail-fast): the planned checks left say so (unknown), no broken check is added.
 */
async function suiteFailed(
  state: ArmedStage,
  file: string,
  startedAt: number,
  error: unknown,
  idSuffix = '',
  what = 'failed',
): Promise<string> {
  const { options, stopped } = state;
  if (stopped.signal.aborted) return String(stopped.signal.reason);
  const message = suiteFailureMessage({
    suite: suiteId(file),
    interrupted: isAborted(options.signal),
    deadlinePassed: state.stageSignal.aborted,
    stageMs: options.config.deadlines.stageMs,
    what,
    error,
  });
  await recordCheck(state, {
    id: `${options.stage}.suite.${suiteId(file)}${idSuffix}`,
    name: idSuffix ? `Suite ${suiteId(file)} planned its checks` : `Suite ${suiteId(file)} completed`,
    feature: 'harness',
    severity: 'critical',
    status: 'broken',
    message,
    startedAt,
    finishedAt: options.clock.now(),
  });
  return message;
}

/** Imports every suite and takes its plan: the plan of every suite is fixed before the first one runs. */
async function loadSuites(state: ArmedStage, files: readonly string[]): Promise<LoadedSuite[]> {
  const { clock, stage } = state.options;
  const loaded: LoadedSuite[] = [];
  for (const file of files) {
    const startedAt = clock.now();
    let suite: Suite;
    try {
      suite = await importSuite(file, stage);
    } catch (error) {
      await suiteFailed(state, file, startedAt, error);
      loaded.push({ file, plan: [] });
      continue;
    }
    try {
      const plan = await state.untilDeadline(Promise.resolve(suite.plan?.(state.planContext) ?? []));
      loaded.push({ file, suite, plan });
    } catch (error) {
      // The suite still runs: its checks count, only the safety net of its plan is missing.
      await suiteFailed(state, file, startedAt, error, '.plan', 'could not plan its checks');
      loaded.push({ file, suite, plan: [] });
    }
  }
  return loaded;
}

/** Why a loaded suite is not run: the run was interrupted, or --fail-fast stopped the stage (its reason); else undefined. */
export function skipReason(input: {
  readonly file: string;
  readonly interrupted: boolean;
  readonly stopReason: string | undefined;
}): string | undefined {
  if (input.interrupted) return `the run was interrupted before suite ${suiteId(input.file)} ran`;
  return input.stopReason;
}

/** Runs one suite with its own teardowns; returns why its planned checks left unrecorded are unknown. */
async function runLoadedSuite(state: ArmedStage, { file, suite }: LoadedSuite): Promise<string> {
  const { options, stopped } = state;
  if (!suite) return `suite ${suiteId(file)} could not be loaded`;
  const skipped = skipReason({
    file,
    interrupted: options.signal.aborted,
    stopReason: stopped.signal.aborted ? String(stopped.signal.reason) : undefined,
  });
  if (skipped !== undefined) return skipped;
  let why = 'the suite ended without recording it';
  const teardowns = new Teardowns();
  const startedAt = options.clock.now();
  const context: SuiteContext = {
    ...state.planContext,
    clock: options.clock,
    signal: state.stageSignal,
    reporter: options.reporter,
    teardowns,
    redact: options.redact,
    record: (check) => recordCheck(state, check),
    ...(options.failFast ? { failFast: options.failFast } : {}),
    ...(options.targetFile === undefined ? {} : { targetFile: options.targetFile }),
    assertTarget: (target) => assertAllowedTarget(target, options.handle, options.config.allowTargets),
  };
  try {
    await state.untilDeadline(suite.run(context));
  } catch (error) {
    why = await suiteFailed(state, file, startedAt, error);
  } finally {
    const errors = await teardowns.run();
    for (const error of errors) options.reporter.onInfo?.(`rollback problem: ${error.message}`);
  }
  return why;
}
