import { relative } from 'node:path';
import type { ResolvedConfig } from '../../config/load-config.ts';
import type { CheckResult } from '../../core/check-result.ts';
import { systemClock } from '../../core/clock.ts';
import { ConfigError, EXIT } from '../../core/errors.ts';
import type { ExitCode } from '../../core/errors.ts';
import type { Reporter } from '../../core/reporter.ts';
import { writeCheckResult } from '../../core/results.ts';
import { newSeed } from '../../core/seed.ts';
import { Teardowns } from '../../core/teardown.ts';
import { runChaosStage, stageExperiments } from '../../faults/index.ts';
import { startPhaseLoad } from '../../load/index.ts';
import { assertAllowedTarget } from '../../runner/blast-radius.ts';
import type { SuiteContext } from '../../runner/suite.ts';
import { readStackHandle, writeStackHandle } from '../../stack/stack-handle.ts';
import { preflight } from '../preflight.ts';
import { createRunFolder, newRunId } from '../run-folder.ts';
import { emptyCounts } from '../../certify/pass-rates.ts';
import { configRedactor } from './certify.ts';
import { defaultHandleFile } from './up-down.ts';

interface DrillOptions {
  readonly config: ResolvedConfig;
  /** Experiment id (`readiness drill postgres-latency`). */
  readonly id: string | undefined;
  readonly handleFile?: string;
  readonly seed?: number;
  readonly json: boolean;
  readonly reporter: Reporter;
  readonly signal: AbortSignal;
  readonly out: (text: string) => void;
}

/**
 * `readiness drill <experiment-id>`: runs one chaos experiment against the stack `readiness up`
 * left running, writes its checks to a run folder, and removes the fault whatever happens
 * (including Ctrl-C). Exit 0 passed, 1 failed (the system is not ready), 3 broken, 130 interrupted.
 */
export async function drill(options: DrillOptions): Promise<ExitCode> {
  const { config, reporter, signal } = options;
  const chaos = config.chaos;
  if (!chaos) throw new ConfigError([`${config.configFile}: chaos is not configured; declare chaos: { target, ... }`]);
  // Every experiment file validates (and load.script is there when one runs under load) before any fault.
  await preflight(config, ['chaos']);
  const stage = await stageExperiments(config);
  // Any hand-written experiment (selected by chaos.experiments or not) and every derived cell.
  const known = [...stage.handWritten, ...stage.experiments.filter((e) => e.cell !== undefined)].map(
    (e) => e.experiment.id,
  );
  if (!options.id || !known.includes(options.id)) {
    throw new ConfigError([
      `${options.id ? `no experiment "${options.id}"` : 'name an experiment'}: readiness drill <id> (known: ${known.join(', ') || 'none'})`,
    ]);
  }
  const id = options.id;
  const handleFile = options.handleFile ?? defaultHandleFile(config);
  const handle = await readStackHandle(handleFile);
  const seed = options.seed ?? newSeed();
  const redact = configRedactor(config);
  const folder = await createRunFolder(config.reportsDir, newRunId());
  await writeStackHandle(folder.handleFile, handle);
  reporter.onInfo?.(`drill ${id} on stack ${handle.stack} (run ${handle.runId}), seed ${seed} -> ${folder.dir}`);
  const teardowns = new Teardowns();
  const results: CheckResult[] = [];
  const context: SuiteContext = {
    config,
    handle,
    stage: 'chaos',
    runDir: folder.dir,
    seed,
    clock: systemClock,
    signal,
    reporter,
    teardowns,
    redact,
    record: async (check) => {
      const written = await writeCheckResult(folder.resultsDir, { ...check, stage: 'chaos' }, redact);
      results.push(written);
      reporter.onCheckResult?.(written);
      return written;
    },
    assertTarget: (target) => assertAllowedTarget(target, handle, config.allowTargets),
    targetFile: handleFile,
  };
  const replay = `readiness drill ${id} --seed ${seed}`;
  let interrupted = false;
  try {
    const interruptedRun = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(new Error('interrupted')), { once: true });
    });
    await Promise.race([
      runChaosStage(context, {
        only: [id],
        handleFiles: [handleFile],
        replay: () => replay,
        loadDriver: startPhaseLoad,
      }),
      interruptedRun,
    ]);
  } catch (error) {
    interrupted = signal.aborted;
    if (!interrupted) throw error;
  } finally {
    const errors = await teardowns.run();
    for (const error of errors) reporter.onInfo?.(`rollback problem: ${error.message}`);
    if (signal.aborted) reporter.onInfo?.('interrupted: the fault was rolled back');
  }
  const counts = emptyCounts();
  for (const r of results) counts[r.status] += 1;
  const unseeded = results.find((r) => r.parameters['unseeded'])?.parameters['unseeded'];
  if (options.json)
    options.out(
      JSON.stringify({ experiment: id, seed, replay, unseeded, runDir: folder.dir, counts, checks: results }, null, 2),
    );
  else {
    for (const r of results) {
      options.out(
        `${r.status.toUpperCase().padEnd(8)} ${r.id}${r.status === 'passed' ? '' : `\n         ${(r.message ?? '').split('\n')[0] ?? ''}`}`,
      );
      if (r.status === 'failed' && r.remediation) options.out(`         fix: ${r.remediation}`);
    }
    options.out(
      `${id}: ${counts.passed} passed, ${counts.failed} failed, ${counts.broken} broken, ${counts.skipped} skipped, ${counts.unknown} unknown, ${counts['not-applicable']} not applicable`,
    );
    options.out(`results: ${relative(process.cwd(), folder.resultsDir)}`);
    options.out(`replay: ${replay}`);
    if (unseeded) options.out(`not replayed: ${unseeded}`);
  }
  if (interrupted || signal.aborted) return EXIT.interrupted;
  if (counts.failed > 0) return EXIT.notCertified;
  if (counts.broken > 0 || counts.unknown > 0 || counts.passed === 0) return EXIT.harness;
  return EXIT.certified;
}
