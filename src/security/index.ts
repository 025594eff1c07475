export { SecurityContext, resolveValue } from './context.ts';
export type { Identity } from './context.ts';
export { CONFIDENCES, RISKS, SCANNERS, describeRisk } from './finding.ts';
export type { Confidence, Finding, FindingInstance, Risk, Scanner } from './finding.ts';
export { SecurityHttp, fillTemplate, fromTemplate } from './http.ts';
export { buildSarif, checkResults, findingResults } from './sarif.ts';
export { parseSchemathesisReport, schemathesisArgs, schemathesisFindings } from './scanners/schemathesis.ts';
export { parseZapReport, zapApiScanArgs, zapCheckStatus, zapExitOutcome } from './scanners/zap.ts';
export { runSchemathesisCheck, runZapCheck, SECURITY_REQUIREMENTS } from './scanner-checks.ts';
export {
  notConfiguredFamilies,
  planSecurityChecks,
  runSecurityStage,
  sarifPath,
  SECURITY_CHECK_FAMILIES,
} from './stage.ts';
export { applyPolicy, loadRulesPolicy, parseRulesTsv, policyVerdict, zapRulesTsv } from './zap-policy.ts';
export type { EvaluatedFinding, PolicyLevel, RulesPolicy } from './zap-policy.ts';
