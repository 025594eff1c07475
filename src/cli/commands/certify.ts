import { join } from 'node:path';
import { credentialHeaderNames } from '../../config/auth.ts';
import type { ResolvedConfig } from '../../config/load-config.ts';
import { systemClock } from '../../core/clock.ts';
import { ConfigError, EXIT, InterruptedError, ServiceStartError, describeError } from '../../core/errors.ts';
import type { ExitCode } from '../../core/errors.ts';
import { createRedactor } from '../../core/redact.ts';
import type { Redactor } from '../../core/redact.ts';
import type { Reporter } from '../../core/reporter.ts';
import { writeCheckResult } from '../../core/results.ts';
import { newSeed } from '../../core/seed.ts';
import { isCritical } from '../../certify/policy.ts';
import type { RunSigning } from '../../certify/sign.ts';
import type { CheckResult } from '../../core/check-result.ts';
import { isStage } from '../../core/stage.ts';
import type { Stage } from '../../core/stage.ts';
import { Teardowns } from '../../core/teardown.ts';
import { ServiceLogFollower } from '../../stack/service-logs.ts';
import { noContainerAccessReason, writeStackHandle } from '../../stack/stack-handle.ts';
import type { StackHandle } from '../../stack/stack-handle.ts';
import { reapOrphans } from '../../stack/reap.ts';
import { preflight } from '../preflight.ts';
import { readTargetHandle } from '../target.ts';
import { createRunFolder, newRunId } from '../run-folder.ts';
import type { RunFolder } from '../run-folder.ts';
import { failFastReason, runStage } from '../../runner/run-stage.ts';
import type { StageRunOptions } from '../../runner/run-stage.ts';
import { STAGE_TIMES_FILE, StageTimer, writeStageTimes } from '../../runner/stage-times.ts';
import { systemHostLoadSampler } from '../../runner/host-load.ts';

interface CertifyOptions {
  readonly config: ResolvedConfig;
  readonly stages?: readonly string[];
  readonly seed?: number;
  readonly json: boolean;
  readonly reporter: Reporter;
  readonly signal: AbortSignal;
  readonly out: (text: string) => void;
  /** Signs the run folder (from READINESS_SIGNING_KEY[_FILE]); unsigned when absent. */
  readonly signing?: RunSigning;
  /** `--fail-fast`: stop at the first failed critical check; the stages left are recorded unknown (not run). */
  readonly failFast?: boolean;
  /** `--target <file>`: run against a stack something else started (its handle); nothing is started or torn down. */
  readonly target?: string;
}

/** Which stages run: all enabled ones, or a subset given with --stages (each must be enabled). */
function selectStages(config: ResolvedConfig, requested: readonly string[] | undefined): Stage[] {
  if (!requested || requested.length === 0) return [...config.stages];
  const problems: string[] = [];
  const selected: Stage[] = [];
  for (const name of requested) {
    if (!isStage(name))
      problems.push(`--stages: "${name}" is not a stage (boot, contract, security, load, chaos, recovery)`);
    else if (!config.stages.includes(name))
      problems.push(`--stages: "${name}" is not enabled in ${config.configFile} (stages: ${config.stages.join(', ')})`);
    else selected.push(name);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config.stages.filter((s) => selected.includes(s));
}

/** The run's redactor: the config's `secrets`, env values whose names say they are secret, and the headers its principals send credentials in. */
export function configRedactor(config: ResolvedConfig): Redactor {
  const secretEnv = /(password|secret|token|key)/i;
  const values = Object.values(config.services).flatMap((s) =>
    Object.entries(s.env)
      .filter(([k]) => secretEnv.test(k) || s.secretEnv.includes(k))
      .map(([, v]) => v),
  );
  const credentialHeaders = [
    ...credentialHeaderNames(config.auth),
    ...Object.values(config.contract?.providers ?? {}).map((p) => p.auth?.header),
  ];
  return createRedactor([...config.secrets, ...values], {
    credentialHeaders: credentialHeaders.filter((h): h is string => h !== undefined),
  });
}

/**
 * Records a `failed` check when the system under test did not start (a service exited or never
 * became healthy within its budget): the system's fault, with its exit code and log tail as evidence.
 */
async function recordServiceStartFailure(
  folder: RunFolder,
  stage: Stage,
  error: ServiceStartError,
  redact: Redactor,
): Promise<void> {
  const now = Date.now();
  await writeCheckResult(
    folder.resultsDir,
    {
      id: `${stage}.stack`,
      stage,
      name: 'Stack started',
      feature: 'startup',
      severity: 'critical',
      status: 'failed',
      message: error.message,
      remediation: `Make service "${error.service}" start and turn healthy within its budget: read its log (logs/${error.service}.log) for the error, then fix its configuration or image.`,
      parameters: { service: error.service },
      startedAt: now,
      finishedAt: now,
    },
    redact,
  );
}

/** Records a `broken` check for a harness failure so the verdict can never pass on missing evidence. */
async function recordHarnessFailure(
  folder: RunFolder,
  stage: Stage,
  id: string,
  name: string,
  error: unknown,
  redact: Redactor,
): Promise<void> {
  const now = Date.now();
  await writeCheckResult(
    folder.resultsDir,
    {
      id: `${stage}.${id}`,
      stage,
      name,
      feature: 'harness',
      severity: 'critical',
      status: 'broken',
      message: describeError(error),
      remediation:
        'Fix the harness or environment problem in the message, then run again (see logs/ in the run folder)',
      startedAt: now,
      finishedAt: now,
    },
    redact,
  );
}

/**
 * Records one `unknown` critical check per stage `--fail-fast` left out, naming the check that stopped
 * the run: the verdict can then never certify, and its reasons say why the stage has no evidence.
 */
export async function recordStagesNotRun(
  resultsDir: string,
  stages: readonly Stage[],
  stoppedBy: Pick<CheckResult, 'id' | 'stage'>,
  redact: Redactor,
  nowMs: number,
): Promise<void> {
  for (const stage of stages) {
    await writeCheckResult(
      resultsDir,
      {
        id: `${stage}.not-run`,
        stage,
        name: `Stage ${stage} ran`,
        feature: 'harness',
        severity: 'critical',
        status: 'unknown',
        tags: ['fail-fast'],
        message: `${failFastReason(stoppedBy.id)} (stage ${stoppedBy.stage})`,
        remediation: `Fix ${stoppedBy.id}, or run without --fail-fast for the evidence of every stage`,
        startedAt: nowMs,
        finishedAt: nowMs,
      },
      redact,
    );
  }
}

interface StackSetup {
  readonly folder: RunFolder;
  readonly redact: Redactor;
  readonly reporter: Reporter;
  readonly teardowns: Teardowns;
}

/**
 * `--target`: the stages run against a stack something else started. Its service logs are followed
 * into this run's folder; nothing of it is stopped or removed; when a fault restarted a container
 * on new host ports (the handle is updated in place), the target's handle file is rewritten.
 */
async function attachTarget(target: StackHandle, file: string, setup: StackSetup): Promise<StackHandle> {
  setup.reporter.onInfo?.(`--target: running against the stack of run ${target.runId}, which is left running`);
  const noContainers = noContainerAccessReason(target, file);
  if (noContainers !== undefined) {
    // Nothing reaches Docker: no logs to follow, and no fault can move a container's host ports.
    setup.reporter.onInfo?.(`--target: ${noContainers}: container faults, logs and Docker stats are not applicable`);
    return target;
  }
  const { getContainerRuntimeClient } = await import('testcontainers');
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const logs = new ServiceLogFollower(docker, target.runId, setup.folder.logsDir, setup.redact);
  await logs.start();
  setup.teardowns.add('close logs', () => logs.stop());
  setup.teardowns.add('update the target handle', () => writeStackHandle(file, target));
  return target;
}

/** Provisions the images, removes leftovers of crashed runs and starts the stack, torn down with the run. */
async function startStack(
  config: ResolvedConfig,
  state: { images: Record<string, string> },
  setup: StackSetup & { readonly seed: number; readonly signal: AbortSignal },
): Promise<StackHandle> {
  const [{ StackProvider, stackImageRefs }, { provisionImages }, { getContainerRuntimeClient }] = await Promise.all([
    import('../../stack/stack-provider.ts'),
    import('../provisioning.ts'),
    import('testcontainers'),
  ]);
  state.images = await provisionImages(config, stackImageRefs(config), setup.reporter);
  setup.signal.throwIfAborted();
  // A crashed earlier run (kill -9) leaves containers; they go before we add ours.
  const reaped = await reapOrphans((await getContainerRuntimeClient()).container.dockerode);
  if (reaped.length > 0) setup.reporter.onInfo?.(`removed leftovers of crashed runs: ${reaped.join(', ')}`);
  const provider = new StackProvider(config, {
    runId: setup.folder.runId,
    seed: setup.seed,
    logsDir: setup.folder.logsDir,
    images: state.images,
    redact: setup.redact,
    reporter: setup.reporter,
    clock: systemClock,
    signal: setup.signal,
  });
  const stack = await provider.start();
  setup.teardowns.add('stop stack', async () => {
    setup.reporter.onInfo?.('tearing down the stack');
    await stack.stop();
  });
  return stack.handle;
}

/** What the stage loop of `certify` needs. */
interface StageLoop {
  readonly config: ResolvedConfig;
  readonly handle: StackHandle;
  readonly folder: RunFolder;
  readonly seed: number;
  readonly reporter: Reporter;
  readonly redact: Redactor;
  readonly signal: AbortSignal;
  readonly timer: StageTimer;
  readonly failFast: StageRunOptions['failFast'];
  /** `--target <file>`: named in reasons about what that stack lacks. */
  readonly targetFile: string | undefined;
}

/** Runs the selected stages in order, each timed; with --fail-fast the first failed critical check ends the loop. */
async function runStages(selected: readonly Stage[], loop: StageLoop): Promise<void> {
  const { config, handle, folder, seed, reporter, redact, signal, timer, failFast, targetFile } = loop;
  for (const [index, stage] of selected.entries()) {
    if (signal.aborted) break;
    const results = await timer.time(stage, () =>
      runStage({
        config,
        handle,
        stage,
        runDir: folder.dir,
        resultsDir: folder.resultsDir,
        seed,
        clock: systemClock,
        reporter,
        redact,
        signal,
        ...(failFast ? { failFast } : {}),
        ...(targetFile === undefined ? {} : { targetFile }),
      }),
    );
    // The first failed critical check is the one that stopped the stage.
    const stoppedBy = failFast && results.find((check) => check.status === 'failed' && failFast.isCritical(check));
    if (stoppedBy !== undefined) {
      const left = selected.slice(index + 1);
      if (left.length > 0) reporter.onInfo?.(`--fail-fast: not running ${left.join(', ')}`);
      await recordStagesNotRun(folder.resultsDir, left, stoppedBy, redact, Date.now());
      return;
    }
  }
}

/** Records why the run stopped early: an interrupt, a service that did not start (the system's), or the harness. */
async function recordRunFailure(
  folder: RunFolder,
  first: Stage,
  error: unknown,
  interrupted: boolean,
  redact: Redactor,
): Promise<void> {
  if (interrupted)
    await recordHarnessFailure(
      folder,
      first,
      'interrupted',
      'Run completed',
      new InterruptedError('Interrupted (SIGINT/SIGTERM) before the run finished'),
      redact,
    );
  else if (error instanceof ServiceStartError) await recordServiceStartFailure(folder, first, error, redact);
  else await recordHarnessFailure(folder, first, 'stack', 'Stack started', error, redact);
}

/** `readiness certify`: provision, start the stack (or take the `--target` one), run the stages, tear down what it started, certify, report. */
export async function certify(options: CertifyOptions): Promise<ExitCode> {
  const { config, reporter, signal } = options;
  const selected = selectStages(config, options.stages);
  // Every file the config names for these stages, before a run folder, an image or a container.
  await preflight(config, selected);
  // The target stack must be this config's, with every service and link it needs, before a run folder exists.
  const target = options.target === undefined ? undefined : await readTargetHandle(options.target, config);
  if (options.signing?.kind === 'none') reporter.onInfo?.(`unsigned run: ${options.signing.reason}`);
  // What starts things loads once the config's files are known to be there, so bad input exits 2 fast.
  const { finalizeRun } = await import('../finalize.ts');
  const seed = options.seed ?? newSeed();
  const redact = configRedactor(config);
  const startedAt = new Date();
  const folder = await createRunFolder(config.reportsDir, newRunId(startedAt));
  reporter.onInfo?.(`run ${folder.runId} (seed ${seed}) -> ${folder.dir}`);
  const teardowns = new Teardowns();
  // When stack-up, each stage and teardown ran, and how busy the host was meanwhile (stage-times.json).
  const timer = new StageTimer(systemClock, systemHostLoadSampler());
  const runSignal = AbortSignal.any([signal, AbortSignal.timeout(config.deadlines.runMs)]);
  let interrupted = false;
  // Filled as soon as the images are known, so a stack that fails to start still reports them.
  const state: { images: Record<string, string> } = {
    images: target ? Object.fromEntries(Object.entries(target.services).map(([id, s]) => [id, s.image])) : {},
  };
  const failFast = options.failFast
    ? {
        isCritical: (check: Pick<CheckResult, 'id' | 'severity'>): boolean => isCritical(check, config.policy),
      }
    : undefined;
  try {
    const handle = target
      ? await attachTarget(target, options.target ?? '', { folder, redact, reporter, teardowns })
      : await timer.time('stackUp', () =>
          startStack(config, state, { folder, seed, redact, reporter, teardowns, signal: runSignal }),
        );
    await writeStackHandle(folder.handleFile, handle);
    await runStages(selected, {
      config,
      handle,
      folder,
      seed,
      reporter,
      redact,
      signal: runSignal,
      timer,
      failFast,
      targetFile: options.target,
    });
  } catch (error) {
    interrupted = signal.aborted;
    await recordRunFailure(folder, selected[0] ?? 'boot', error, interrupted, redact);
  } finally {
    const errors = await timer.time('teardown', () => teardowns.run());
    for (const error of errors) reporter.onInfo?.(`teardown problem: ${error.message}`);
  }
  await writeStageTimes(join(folder.dir, STAGE_TIMES_FILE), timer);
  const exitCode = await finalizeRun({
    config,
    folder,
    selected,
    seed,
    startedAt,
    images: state.images,
    reporter,
    json: options.json,
    out: options.out,
    redact,
    ...(options.signing === undefined ? {} : { signing: options.signing }),
  });
  // An interrupt at any point, even while the report is written, ends in 130 (the report is still completed).
  return interrupted || signal.aborted ? EXIT.interrupted : exitCode;
}
