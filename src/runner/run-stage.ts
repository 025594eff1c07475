import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
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
import type { Suite, SuiteContext } from './suite.ts';

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
}

/** Suite files of a stage: `<suitesDir>/<stage>/*.suite.ts`. */
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

/**
 * Runs every suite of a stage under the stage deadline, writing each check as it is recorded.
 * A suite that throws yields a `broken` check; a stage with no suite yields an `unknown` one.
 */
export async function runStage(options: StageRunOptions): Promise<CheckResult[]> {
  const { config, stage, clock, reporter } = options;
  const results: CheckResult[] = [];
  const record = async (check: Parameters<SuiteContext['record']>[0]): Promise<CheckResult> => {
    const written = await writeCheckResult(options.resultsDir, { ...check, stage }, options.redact);
    results.push(written);
    reporter.onCheckResult?.(written);
    return written;
  };
  reporter.onStageStart?.(stage);
  const files = (await findSuites(config.suitesDir, stage)).filter(
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
      message: `No suite file in ${join(config.suitesDir, stage)} (expected *.suite.ts): the ${stage} stage has no evidence`,
      remediation: `Add a suite under ${join(config.suitesDir, stage)} or remove "${stage}" from the config's stages`,
      startedAt: now,
      finishedAt: now,
    });
  }
  const stageSignal = AbortSignal.any([options.signal, AbortSignal.timeout(config.deadlines.stageMs)]);
  for (const file of files) {
    if (options.signal.aborted) break;
    const teardowns = new Teardowns();
    const startedAt = clock.now();
    const context: SuiteContext = {
      config,
      handle: options.handle,
      stage,
      runDir: options.runDir,
      seed: options.seed,
      clock,
      signal: stageSignal,
      reporter,
      teardowns,
      redact: options.redact,
      record,
      assertTarget: (target) => assertAllowedTarget(target, options.handle, config.allowTargets),
    };
    try {
      const mod = (await import(pathToFileURL(file).href)) as { default?: Suite };
      const suite = mod.default;
      if (!suite || typeof suite.run !== 'function' || suite.stage !== stage) {
        throw new Error(`${file} must default-export defineSuite({ stage: '${stage}', ... })`);
      }
      const deadline = new Promise<never>((_, reject) => {
        stageSignal.addEventListener(
          'abort',
          () => reject(new Error(`stage deadline or interrupt (${String(stageSignal.reason)})`)),
          { once: true },
        );
      });
      await Promise.race([suite.run(context), deadline]);
    } catch (error) {
      const interrupted = isAborted(options.signal);
      await record({
        id: `${stage}.suite.${suiteId(file)}`,
        name: `Suite ${suiteId(file)} completed`,
        feature: 'harness',
        severity: 'critical',
        status: 'broken',
        message: interrupted
          ? `Interrupted while running ${suiteId(file)}`
          : stageSignal.aborted
            ? `Suite ${suiteId(file)} did not finish within deadlines.stageMs=${config.deadlines.stageMs}ms`
            : `Suite ${suiteId(file)} failed: ${error instanceof Error ? error.message : String(error)}`,
        startedAt,
        finishedAt: clock.now(),
      });
    } finally {
      const errors = await teardowns.run();
      for (const error of errors) reporter.onInfo?.(`rollback problem: ${error.message}`);
    }
  }
  reporter.onStageEnd?.(stage, results);
  return results;
}
