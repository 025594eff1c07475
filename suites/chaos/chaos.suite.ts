import { planChaosStage, runChaosStage } from '../../src/faults/index.ts';
import { startPhaseLoad } from '../../src/load/index.ts';
import { defineSuite } from '../../src/runner/index.ts';

export default defineSuite({
  stage: 'chaos',
  name: 'Chaos experiments: faults take effect, the system degrades as declared and recovers',
  plan: planChaosStage,
  run: async (context) => {
    // The suite joins the two stage modules: an experiment that declares load runs behind k6.
    await runChaosStage(context, { loadDriver: startPhaseLoad });
  },
});
