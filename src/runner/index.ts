export { findSuites, runStage } from './run-stage.ts';
export type { StageRunOptions } from './run-stage.ts';
export { defineSuite, runCheck } from './suite.ts';
export type { CheckOutcome, CheckSpec, Suite, SuiteContext } from './suite.ts';
export { TargetNotAllowedError, assertAllowedTarget } from './blast-radius.ts';
export { notConfiguredCheck } from './not-applicable.ts';
