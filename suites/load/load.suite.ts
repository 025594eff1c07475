import { planLoadStage, runLoadStage } from '../../src/load/index.ts';
import { defineSuite } from '../../src/runner/index.ts';

export default defineSuite({
  stage: 'load',
  name: 'k6 scenarios meet their SLOs, per fault phase, without leaking',
  plan: planLoadStage,
  run: runLoadStage,
});
