export { findSuites, runStage } from './run-stage.ts';
export type { StageRunOptions } from './run-stage.ts';
export { defineSuite, runCheck } from './suite.ts';
export type { CheckOutcome, CheckSpec, Suite, SuiteContext } from './suite.ts';
export { TargetNotAllowedError, assertAllowedTarget, runHostnames } from './blast-radius.ts';
export { applyNotApplicable, notApplicableMessage, notConfiguredCheck } from './not-applicable.ts';
export type { NotConfiguredFamily } from './not-applicable.ts';
