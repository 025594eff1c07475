import type { PlanContext, PlannedCheck } from '../runner/suite.ts';
import { experimentsDirOf, loadExperiments, scopeOfHandle } from './experiment-files.ts';
import { planExperiment } from './run-experiment.ts';

/**
 * The chaos stage's plan: every check of every experiment the config selects (`chaos.experiments`,
 * else all of `chaos.experimentsDir`), known before the first experiment runs. Files that do not
 * load are left to the stage, which records them broken.
 */
export async function planChaosStage(context: PlanContext): Promise<PlannedCheck[]> {
  const chaos = context.config.chaos;
  if (!chaos) return [];
  const { experiments } = await loadExperiments(experimentsDirOf(context, chaos), {
    scope: scopeOfHandle(context.handle),
  });
  const wanted = chaos.experiments;
  return experiments
    .filter((e) => !wanted || wanted.includes(e.experiment.id))
    .flatMap((e) => planExperiment(e.experiment));
}
