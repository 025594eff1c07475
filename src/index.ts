// The public entry of the readiness package: what a team's config, experiments and own suites
// import (`import { defineConfig } from 'readiness'`). Everything else is internal and may move.
export { defineConfig } from './config/define-config.ts';
export type { ResolvedConfig } from './config/load-config.ts';
export type { ReadinessConfigInput as ReadinessConfig } from './config/schema.ts';
export { defineExperiment } from './faults/experiment.ts';
export type { Experiment, Expectation, Probe } from './faults/experiment.ts';
export { defineSuite, runCheck } from './runner/suite.ts';
export type { CheckOutcome, CheckSpec, Suite, SuiteContext } from './runner/suite.ts';
export { CHECK_STATUSES, SEVERITIES } from './core/check-result.ts';
export type { CheckResult, CheckStatus, Severity } from './core/check-result.ts';
export { STAGES } from './core/stage.ts';
export type { Stage } from './core/stage.ts';
export { stageAuthenticator } from './auth/stage.ts';
export type { Authenticator, Credentials } from './auth/authenticator.ts';
export type { AuthConfigInput as AuthConfig, PrincipalConfig } from './config/auth.ts';
