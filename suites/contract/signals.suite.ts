import { defineSuite } from '../../src/runner/index.ts';
import { planSignals, runSignalChecks } from '../../src/signals/index.ts';

// Named to sort after the stage's other built-in suite: it judges the logs of the stage that ran.
export default defineSuite({
  stage: 'contract',
  name: 'Services log no error signals outside fault windows',
  plan: planSignals,
  run: runSignalChecks,
});
