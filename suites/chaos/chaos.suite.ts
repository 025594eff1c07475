import { runChaosStage } from '../../src/faults/index.ts';
import { defineSuite } from '../../src/runner/index.ts';

export default defineSuite({
  stage: 'chaos',
  name: 'Chaos experiments: faults take effect, the system degrades as declared and recovers',
  run: async (context) => {
    await runChaosStage(context);
  },
});
