import { defineSuite } from '../../src/runner/index.ts';
import { planInputChecks, runSecurityStage } from '../../src/security/index.ts';

export default defineSuite({
  stage: 'security',
  name: 'Security: native checks of the HTTP surface, schemathesis and ZAP under one policy',
  // Planned so far: the error-hygiene and injection checks; the other native checks still record without a plan.
  plan: planInputChecks,
  run: runSecurityStage,
});
