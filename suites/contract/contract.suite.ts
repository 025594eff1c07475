import { planContractStage, runContractChecks } from '../../src/contracts/index.ts';
import { defineSuite } from '../../src/runner/index.ts';

export default defineSuite({
  stage: 'contract',
  name: 'Every consumer pact is honoured by the running providers',
  plan: planContractStage,
  run: runContractChecks,
});
