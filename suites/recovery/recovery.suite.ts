import { planRecoveryStage, runRecoveryStage } from '../../src/recovery/index.ts';
import { defineSuite } from '../../src/runner/index.ts';

export default defineSuite({
  stage: 'recovery',
  name: 'Recovery drills: backups restore, services come back, deployments drop no requests',
  plan: planRecoveryStage,
  run: async (context) => {
    await runRecoveryStage(context);
  },
});
