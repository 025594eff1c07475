import type { ExperimentRun } from './run-experiment-state.ts';
import { recordCheck } from './run-experiment-state.ts';
import { judgeLoadPhase } from './run-experiment-judge.ts';

/** Phase 0: starts the k6 load an experiment declares, behind everything else; a start that fails is a reason kept. */
export async function startLoad(run: ExperimentRun): Promise<void> {
  const { context, experiment, options, timeline } = run;
  const plan = experiment.load;
  if (!plan || !options.loadDriver) return;
  try {
    const load = await options.loadDriver(
      context,
      {
        ratePerSec: plan.ratePerSec,
        maxDurationSec: plan.maxDurationSec ?? 300,
        slo: plan.slo,
        ...(plan.exec === undefined ? {} : { exec: plan.exec }),
        ...(plan.maxVUs === undefined ? {} : { maxVUs: plan.maxVUs }),
      },
      `chaos-${experiment.id}`,
    );
    run.load = load;
    context.teardowns.add(`stop the k6 load behind ${experiment.id}`, async () => {
      await load.stop();
    });
    load.mark('baseline');
    run.loadPhaseAt = context.clock.monotonicMs();
    timeline.log(`k6 load started: ${plan.ratePerSec} iterations/s`);
  } catch (error) {
    run.loadProblem = `k6 load did not start: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Keeps the current load phase going until it has lasted `minPhaseSec`. */
export async function holdLoadPhase(run: ExperimentRun, phase: string): Promise<void> {
  const { clock, signal } = run.context;
  if (!run.load || !run.experiment.load) return;
  const waitMs = (run.experiment.load.minPhaseSec ?? 5) * 1000 - (clock.monotonicMs() - run.loadPhaseAt);
  if (waitMs <= 0) return;
  run.timeline.log(`k6 load: ${phase} phase held ${Math.round(waitMs)}ms more`);
  await clock.sleep(waitMs, signal);
}

/** Marks the next load phase from now. */
export function markLoadPhase(run: ExperimentRun, phase: 'fault' | 'recovery'): void {
  run.load?.mark(phase);
  run.loadPhaseAt = run.context.clock.monotonicMs();
}

/** Phase 6: holds the recovery phase, stops k6 and records one check per phase SLO. */
export async function recordLoadPhases(run: ExperimentRun): Promise<void> {
  const plan = run.experiment.load;
  if (!plan) return;
  await holdLoadPhase(run, 'recovery');
  const outcome = run.load ? await run.load.stop() : undefined;
  for (const phase of Object.keys(plan.slo)) {
    await recordCheck(
      run,
      `load.${phase}`,
      () => Promise.resolve(judgeLoadPhase(outcome, phase, run.loadProblem)),
      plan.remediation ?? run.experiment.remediation,
    );
  }
}
