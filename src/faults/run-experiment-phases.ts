import { actAs } from '../auth/act-as.ts';
import { pollUntil } from '../core/clock.ts';
import { SystemFailureError } from '../core/errors.ts';
import type { CheckResult } from '../core/check-result.ts';
import type { CheckOutcome } from '../runner/suite.ts';
import { dockerClient } from '../stack/containers.ts';
import { isToxic } from './catalog.ts';
import type { Expectation, ProbeOutcome } from './experiment.ts';
import { injectFault } from './injector.ts';
import { readMetricBaselines, slug } from './probes.ts';
import {
  baselinesUnread,
  judgeFaultEffect,
  judgeRecovery,
  judgeSamples,
  judgeSteadyState,
  judgeWithin,
  recoveryUnmeasurable,
  steadyStateRefused,
} from './run-experiment-judge.ts';
import type { ProbeStep } from './run-experiment-judge.ts';
import { writeLedgerDuringFault } from './run-experiment-ledger.ts';
import { linkTargetOf, observeFaultOnLink, observeMany } from './run-experiment-link.ts';
import { holdLoadPhase, markLoadPhase } from './run-experiment-load.ts';
import { eventually, probeInTurn, probeOnce, recordCheck } from './run-experiment-state.ts';
import type { ExperimentRun } from './run-experiment-state.ts';

/** Phase 1: acts as `chaos.as`, then every steady-state probe must hold within `settleMs` before anything is injected. */
export function checkSteadyState(run: ExperimentRun): Promise<CheckResult> {
  const { context, experiment, chaos, timeline } = run;
  return recordCheck(run, 'steady-state', async () => {
    if (chaos.as !== undefined) {
      try {
        run.identity = await actAs(run.authenticator, chaos.as, experiment.id, context.config.auth?.disposable?.like);
        timeline.log(`acting as ${run.identity.principal}: ${run.identity.evidence.join('; ')}`);
      } catch (error) {
        // The service refusing a sign-up or a login is the system's state, with its answer as evidence.
        if (!(error instanceof SystemFailureError)) throw error;
        return steadyStateRefused(error);
      }
    }
    return judgeSteadyState(await probeInTurn(run, experiment.steadyState, () => chaos.settleMs));
  });
}

/** Phase 2a: what the link and the metrics show right before the fault, to compare with what they show under it. */
export async function readBaselines(run: ExperimentRun): Promise<void> {
  const { context, experiment, chaos, timeline } = run;
  const linkTarget = linkTargetOf(context, chaos, experiment.fault);
  run.linkTarget = linkTarget;
  run.baselineObs = linkTarget && isToxic(experiment.fault) ? await observeMany(linkTarget, 3, 1_500) : [];
  if (run.baselineObs.length > 0)
    timeline.log(`baseline through ${linkTarget?.via}: ${run.baselineObs.map((o) => o.detail).join('; ')}`);
  run.baselines = await readMetricBaselines(
    [...(experiment.proof ?? []), ...experiment.during, ...experiment.recovery.probes],
    (name, labels, from) => run.api.metric(name, labels, from),
  );
  for (const line of [...run.baselines.lines, ...run.baselines.problems.map((p) => `baseline NOT read: ${p}`)])
    timeline.log(line);
}

/** Puts the fault in place and starts the fault load phase; returns how long the injection took. */
async function inject(run: ExperimentRun): Promise<number> {
  const { context, experiment, options, timeline } = run;
  const { clock } = context;
  run.injectedAt = clock.monotonicMs();
  run.active = await injectFault(
    {
      handle: context.handle,
      teardowns: context.teardowns,
      handleFiles: options.handleFiles,
      docker: dockerClient,
      log: (line) => timeline.log(line),
    },
    experiment.fault,
    `readiness-${options.runTag}-${experiment.id}`,
  );
  markLoadPhase(run, 'fault');
  const injectMs = clock.monotonicMs() - run.injectedAt;
  // Detection is timed from the moment the fault is in place.
  run.injectedAt = clock.monotonicMs();
  run.ledgerLoop?.stop();
  return injectMs;
}

/** Polls the control plane until it shows the fault in place, or `proofWithinMs` runs out. */
async function awaitControlPlane(run: ExperimentRun): Promise<{ readonly ok: boolean; readonly line: string }> {
  const { clock, signal } = run.context;
  const control = await pollUntil(
    () => run.active?.control() ?? Promise.reject(new Error('not injected')),
    (c) => c.ok,
    { timeoutMs: run.chaos.proofWithinMs, intervalMs: 100, clock, signal },
  );
  const line = control.ok ? control.value.detail : (control.last?.detail ?? String(control.lastError));
  run.timeline.log(`control plane: ${line}`);
  return { ok: control.ok, line };
}

/** Phase 2b: injects the fault and proves it took effect (control plane, link, the experiment's proof probes). */
export function injectAndProve(run: ExperimentRun): Promise<CheckResult> {
  const { experiment, chaos, timeline } = run;
  const { clock } = run.context;
  return recordCheck(run, 'fault-effect', async () => {
    if (run.baselines.problems.length > 0) {
      run.ledgerLoop?.stop();
      return baselinesUnread(run.baselines.problems);
    }
    const injectMs = await inject(run);
    const control = await awaitControlPlane(run);
    const effects: ProbeStep[] = [];
    let detectMs: number | undefined;
    for (const probe of experiment.proof ?? []) {
      const result = await eventually(run, probe, chaos.proofWithinMs, 100);
      effects.push({ name: probe.name, result });
      if (result.ok) detectMs = clock.monotonicMs() - run.injectedAt;
    }
    const link = await observeFaultOnLink(run.linkTarget, experiment.fault, run.baselineObs);
    timeline.log(`probe through the link: ${link.verdict}: ${link.detail}`);
    detectMs ??= clock.monotonicMs() - run.injectedAt;
    return judgeFaultEffect({ fault: experiment.fault, control, link, effects, injectMs, detectMs });
  });
}

/** Measures one expectation while the fault is in place: polled until its deadline, or sampled. */
async function measureExpectation(run: ExperimentRun, expectation: Expectation): Promise<CheckOutcome> {
  const { clock, signal } = run.context;
  if (expectation.withinMs !== undefined)
    return judgeWithin(
      expectation.withinMs,
      await eventually(run, expectation, expectation.withinMs, expectation.intervalMs ?? 200),
    );
  const samples = expectation.samples ?? (expectation.kind === 'fn' ? 1 : 3);
  if (samples < 1) return { status: 'unknown', message: `samples is ${samples}: no sample was taken` };
  const outcomes: ProbeOutcome[] = [];
  for (let i = 0; i < samples; i += 1) {
    if (i > 0) await clock.sleep(expectation.intervalMs ?? 200, signal);
    const r = await probeOnce(run, expectation);
    run.timeline.log(`${expectation.name} [${i + 1}/${samples}]: ${r.detail}`);
    outcomes.push(r);
  }
  return judgeSamples(outcomes);
}

/** Phase 3: each expectation while the fault is in place (unknown when the fault did not take effect), and the ledger's writes. */
export async function expectDuringFault(run: ExperimentRun, tookEffect: boolean): Promise<void> {
  const { experiment } = run;
  for (const expectation of experiment.during) {
    const id = `during.${slug(expectation.name)}`;
    if (tookEffect)
      await recordCheck(
        run,
        id,
        () => measureExpectation(run, expectation),
        expectation.remediation ?? experiment.remediation,
      );
    else
      await recordCheck(run, id, () =>
        Promise.resolve({ status: 'unknown', message: 'Not measured: the fault did not take effect' }),
      );
  }
  if (tookEffect) await writeLedgerDuringFault(run);
  await run.ledgerLoop?.done;
}

/** Phase 4: rolls the fault back, then every recovery probe must hold within `recovery.withinMs` of the rollback. */
export async function rollBackAndRecover(run: ExperimentRun): Promise<void> {
  const { experiment, timeline } = run;
  const { clock } = run.context;
  if (run.active) await holdLoadPhase(run, 'fault');
  const rollbackStart = clock.monotonicMs();
  await run.active?.rollback();
  markLoadPhase(run, 'recovery');
  timeline.log(
    `rolled back in ${Math.round(clock.monotonicMs() - rollbackStart)}ms (fault active ${Math.round(clock.monotonicMs() - run.injectedAt)}ms)`,
  );
  const { withinMs, probes } = experiment.recovery;
  await recordCheck(
    run,
    'recovery',
    async () => {
      const unmeasurable = recoveryUnmeasurable(run.active !== undefined, probes.length);
      if (unmeasurable) return unmeasurable;
      const steps = await probeInTurn(run, probes, () => Math.max(0, withinMs - (clock.monotonicMs() - rollbackStart)));
      return judgeRecovery(steps, withinMs, Math.round(clock.monotonicMs() - rollbackStart));
    },
    experiment.recovery.remediation ?? experiment.remediation,
  );
}
