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
  const { config, stage, clock, reporter } = options;
  const results: CheckResult[] = [];
  // Aborted by --fail-fast; the suite sees it through its signal, its teardowns still run.
  const stopped = new AbortController();
  const record = async (check: Parameters<SuiteContext['record']>[0]): Promise<CheckResult> => {
    // Covers checks a suite records itself and the planned-but-missing fill-in alike.
    const applicable = applyNotApplicable(check, config.notApplicable);
    const written = await writeCheckResult(options.resultsDir, { ...applicable, stage }, options.redact);
    results.push(written);
    reporter.onCheckResult?.(written);
    if (
      options.failFast &&
      !stopped.signal.aborted &&
      written.status === 'failed' &&
      options.failFast.isCritical(written)
    ) {
      reporter.onInfo?.(`--fail-fast: ${written.id} failed; stopping ${stage} after its teardowns`);
      stopped.abort(failFastReason(written.id));
    }
    return written;
  };
  reporter.onStageStart?.(stage);
  const files = (await findStageSuites(config.suitesDir, stage, options.builtInSuitesDir)).filter(
    (f) => !options.only || options.only.includes(suiteId(f)),
  );
  if (files.length === 0) {
    const now = clock.now();
    await record({
      id: `${stage}.no-suite`,
      name: `No ${stage} suite found`,
      feature: 'harness',
      severity: 'critical',
      status: 'unknown',
      message: `No suite file for the ${stage} stage in ${join(options.builtInSuitesDir ?? BUILT_IN_SUITES_DIR, stage)} (built in) or ${join(config.suitesDir, stage)} (config suitesDir; expected *.suite.ts): the ${stage} stage has no evidence`,
      remediation: `Add a suite under ${join(config.suitesDir, stage)} or remove "${stage}" from the config's stages`,
      startedAt: now,
      finishedAt: now,
    });
  }
  const stageSignal = AbortSignal.any([options.signal, AbortSignal.timeout(config.deadlines.stageMs), stopped.signal]);
  // One deadline for the whole stage (not a listener per plan and per run); nobody may await it.
  const deadline = new Promise<never>((_, reject) => {
    const fail = (): void => {
      reject(new Error(`stage deadline or interrupt (${String(stageSignal.reason)})`));
    };
    if (stageSignal.aborted) fail();
    else stageSignal.addEventListener('abort', fail, { once: true });
  });
  deadline.catch(() => undefined);
  const untilDeadline = <T>(work: Promise<T>): Promise<T> => Promise.race([work, deadline]);
  const suiteFailed = async (
    file: string,
    startedAt: number,
    error: unknown,
    idSuffix = '',
    what = 'failed',
  ): Promise<string> => {
    // Stopped on purpose: the planned checks left say so (unknown), no broken check is added.
    if (stopped.signal.aborted) return String(stopped.signal.reason);
    const interrupted = isAborted(options.signal);
    const message = interrupted
      ? `Interrupted while running ${suiteId(file)}`
      : stageSignal.aborted
        ? `Suite ${suiteId(file)} did not finish within deadlines.stageMs=${config.deadlines.stageMs}ms`
        : `Suite ${suiteId(file)} ${what}: ${error instanceof Error ? error.message : String(error)}`;
    await record({
      id: `${stage}.suite.${suiteId(file)}${idSuffix}`,
      name: idSuffix ? `Suite ${suiteId(file)} planned its checks` : `Suite ${suiteId(file)} completed`,
      feature: 'harness',
      severity: 'critical',
      status: 'broken',
      message,
      startedAt,
      finishedAt: clock.now(),
    });
    return message;
  };
  const planContext: PlanContext = {
    config,
    handle: options.handle,
    stage,
    runDir: options.runDir,
    seed: options.seed,
  };

  // The plan of every suite is fixed before the first one runs.
  const loaded: { file: string; suite?: Suite; plan: readonly PlannedCheck[] }[] = [];
  for (const file of files) {
    const startedAt = clock.now();
    let suite: Suite;
    try {
      suite = await importSuite(file, stage);
    } catch (error) {
      await suiteFailed(file, startedAt, error);
      loaded.push({ file, plan: [] });
      continue;
    }
    try {
      loaded.push({ file, suite, plan: await untilDeadline(Promise.resolve(suite.plan?.(planContext) ?? [])) });
    } catch (error) {
      // The suite still runs: its checks count, only the safety net of its plan is missing.
      await suiteFailed(file, startedAt, error, '.plan', 'could not plan its checks');
      loaded.push({ file, suite, plan: [] });
    }
  }
  if (loaded.length > 0)
    reporter.onInfo?.(
      `${stage}: ${loaded.reduce((n, l) => n + l.plan.length, 0)} checks planned by ${loaded.length} suite(s)`,
    );

  for (const { file, suite, plan } of loaded) {
    let why = 'the suite ended without recording it';
    if (!suite) why = `suite ${suiteId(file)} could not be loaded`;
    else if (options.signal.aborted) why = `the run was interrupted before suite ${suiteId(file)} ran`;
    else if (stopped.signal.aborted) why = String(stopped.signal.reason);
    else {
      const teardowns = new Teardowns();
      const startedAt = clock.now();
      const context: SuiteContext = {
        ...planContext,
        clock,
        signal: stageSignal,
        reporter,
        teardowns,
        redact: options.redact,
        record,
        ...(options.failFast ? { failFast: options.failFast } : {}),
        assertTarget: (target) => assertAllowedTarget(target, options.handle, config.allowTargets),
      };
      try {
        await untilDeadline(suite.run(context));
      } catch (error) {
        why = await suiteFailed(file, startedAt, error);
      } finally {
        const errors = await teardowns.run();
        for (const error of errors) reporter.onInfo?.(`rollback problem: ${error.message}`);
      }
    }
    const recorded = new Set(results.map((r) => r.id));
    for (const check of unrecordedChecks(plan, recorded, why, clock.now())) await record(check);
  }
  reporter.onStageEnd?.(stage, results);
  return results;
}
