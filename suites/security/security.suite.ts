import { defineSuite } from '../../src/runner/index.ts';
import { planSecurityChecks, runSecurityStage } from '../../src/security/index.ts';

export default defineSuite({
  stage: 'security',
  name: 'Security: native checks of the HTTP surface, schemathesis and ZAP under one policy',
  plan: planSecurityChecks,
  run: runSecurityStage,
});
