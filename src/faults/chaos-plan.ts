import type { PlanContext, PlannedCheck } from '../runner/suite.ts';
import { scopeOfHandle, stageExperiments } from './experiment-files.ts';
import { planExperiment } from './run-experiment.ts';

/** The check that says the derived matrix could not run (nothing to probe), before any experiment. */
export const DERIVED_CHECK: PlannedCheck = {
  id: 'chaos.derived',
  name: 'The derived chaos matrix has something to probe',
  feature: 'harness',
  severity: 'normal',
  tags: ['chaos', 'derived'],
};

/**
 * The chaos stage's plan: every check of every experiment the stage runs (the hand-written ones
 * `chaos.experiments` selects, else all of `chaos.experimentsDir`, and the derived matrix's cells
 * none of them covers), known before the first experiment runs. Files that do not load are left to
 * the stage, which records them broken.
 */
export async function planChaosStage(context: PlanContext): Promise<PlannedCheck[]> {
  if (!context.config.chaos) return [];
  const scope = scopeOfHandle(context.handle, { links: context.config.links });
  const stage = await stageExperiments(context.config, { scope });
  return [
    ...(stage.derivedNotApplicable === undefined ? [] : [DERIVED_CHECK]),
    ...stage.experiments.flatMap((e) => planExperiment(e.experiment)),
  ];
}
