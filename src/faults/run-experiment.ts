import type { Authenticator } from '../auth/authenticator.ts';
import type { LoadSlo } from '../config/stages/load.ts';
import type { ChaosConfig } from '../config/stages/chaos.ts';
import type { CheckResult } from '../core/check-result.ts';
import type { PlannedCheck, SuiteContext } from '../runner/suite.ts';
import { describeFault } from './catalog.ts';
import type { Experiment, Expectation, LoadDriver } from './experiment.ts';
import { slug } from './probes.ts';
import { recordLedger, startLedger, startLedgerLoop } from './run-experiment-ledger.ts';
import { holdLoadPhase, recordLoadPhases, startLoad } from './run-experiment-load.ts';
import {
  checkSteadyState,
  expectDuringFault,
  injectAndProve,
  readBaselines,
  rollBackAndRecover,
} from './run-experiment-phases.ts';
import { recordNotRun, startRun } from './run-experiment-state.ts';

/** What the chaos stage passes to each experiment besides the suite context. */
export interface ExperimentRunOptions {
  readonly chaos: ChaosConfig;
  /** Handle files to rewrite when a restarted container gets new host ports. */
  readonly handleFiles: readonly string[];
  /** Short unique tag of this run, in user names and toxic names. */
  readonly runTag: string;
  /** How to replay this experiment, printed with its checks. */
  readonly replay: string;
  /** Starts k6 load behind an experiment that declares `load` (the load stage's `startPhaseLoad`). */
  readonly loadDriver?: LoadDriver;
  /** The stage's authenticator (principals' credentials are obtained once per stage); default: one for this experiment. */
  readonly authenticator?: Authenticator;
}

const loadCheckName = (plan: NonNullable<Experiment['load']>, phase: string, slo: LoadSlo): string => {
  const bounds = [
    slo.p95Ms === undefined ? '' : `p95 < ${slo.p95Ms}ms`,
    slo.p99Ms === undefined ? '' : `p99 < ${slo.p99Ms}ms`,
    slo.maxErrorRate === undefined ? '' : `errors < ${slo.maxErrorRate * 100}%`,
  ].filter(Boolean);
  return `under ${plan.ratePerSec}/s k6 load, the ${phase} phase holds ${bounds.join(', ') || 'its SLO'}`;
};

/** Whether an expectation's verdict rests on a time bound (a deadline, a latency bound, or said so). */
function expectationJudgesTiming(expectation: Expectation): boolean {
  if (expectation.judgesTiming !== undefined) return expectation.judgesTiming;
  if (expectation.withinMs !== undefined) return true;
  return (
    expectation.kind === 'http' &&
    (expectation.expect.maxLatencyMs !== undefined || expectation.expect.minLatencyMs !== undefined)
  );
}

/** An experiment's checks, in order: the id after `chaos.<experiment>.`, the name after its title, whether it judges timing. */
function experimentChecks(
  experiment: Experiment,
): { readonly id: string; readonly name: string; readonly judgesTiming?: boolean }[] {
  const load = experiment.load;
  return [
    { id: 'steady-state', name: 'steady state holds before the fault' },
    { id: 'fault-effect', name: `the fault took effect (${describeFault(experiment.fault)})` },
    ...experiment.during.map((e) => ({
      id: `during.${slug(e.name)}`,
      name: e.name,
      judgesTiming: expectationJudgesTiming(e),
    })),
    // The recovery phase has a deadline: its verdict is a time bound.
    { id: 'recovery', name: `recovered within ${experiment.recovery.withinMs}ms`, judgesTiming: true },
    ...(experiment.ledger
      ? [{ id: 'ledger', name: 'every acknowledged write is stable, none lost or duplicated' }]
      : []),
    ...(load
      ? Object.entries(load.slo).map(([phase, slo]) => ({
          id: `load.${phase}`,
          name: loadCheckName(load, phase, slo),
          // A phase SLO with a latency bound; an error-rate-only SLO is not a timing judgement.
          judgesTiming: slo.p95Ms !== undefined || slo.p99Ms !== undefined,
        }))
      : []),
  ];
}

/** The checks an experiment is due to record, known from its definition before it runs. */
export function planExperiment(experiment: Experiment): PlannedCheck[] {
  const tags = ['chaos', experiment.fault.kind, ...(experiment.tags ?? [])];
  return experimentChecks(experiment).map((c) => ({
    id: `chaos.${experiment.id}.${c.id}`,
    name: `${experiment.title}: ${c.name}`,
    feature: `chaos: ${experiment.id}`,
    severity: experiment.severity,
    tags,
    ...(c.judgesTiming ? { judgesTiming: true } : {}),
  }));
}

/** Runs one experiment and records its checks: steady state, fault effect, each expectation, recovery, ledger, load. */
export async function runExperiment(
  context: SuiteContext,
  experiment: Experiment,
  options: ExperimentRunOptions,
): Promise<CheckResult[]> {
  const run = startRun(context, experiment, options, planExperiment(experiment));
  run.timeline.log(`experiment ${experiment.id} (seed ${context.seed}): ${describeFault(experiment.fault)}`);
  await startLoad(run);
  const steady = await checkSteadyState(run);
  if (steady.status !== 'passed') {
    // Not run: its load must not run on behind the next experiment.
    await run.load?.stop();
    await recordNotRun(
      run,
      `the steady state did not hold before the fault (${steady.status}), so the fault was not injected`,
    );
    return run.results;
  }
  await holdLoadPhase(run, 'baseline');
  await readBaselines(run);
  await startLedger(run);
  await startLedgerLoop(run);
  const effect = await injectAndProve(run);
  await expectDuringFault(run, effect.status === 'passed');
  await rollBackAndRecover(run);
  await recordLedger(run);
  await recordLoadPhases(run);
  return run.results;
}
