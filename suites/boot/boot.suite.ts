import { planBootStage, runBootChecks } from '../../src/boot/index.ts';
import { defineSuite } from '../../src/runner/index.ts';

export default defineSuite({
  stage: 'boot',
  name: 'Services start healthy and readiness tells the truth',
  plan: planBootStage,
  run: runBootChecks,
});
