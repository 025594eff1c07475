export {
  READINESS_CATEGORIES,
  findAnalytics,
  formatProperties,
  generateAllureReport,
  stripAnalytics,
  writeAllureMetadata,
} from './allure.ts';
export type { AllureCategory, AllureExecutor, AllureMetadata, GenerateAllureReportOptions } from './allure.ts';
export {
  describeFigureMove,
  formatVerdictTable,
  notCoveredChecks,
  partialHeadline,
  propertyStatusLabel,
  renderSummaryMarkdown,
  skippedCell,
  skippedChecks,
  verdictLabel,
} from './summary.ts';
export type { NotCoveredLine, SkippedLine } from './summary.ts';
export { CERTIFICATE_HTML_FILE, CERTIFICATE_PDF_FILE, htmlEscape, renderCertificateHtml } from './certificate.ts';
export type { CertificateGate, CertificateModel } from './certificate.ts';
export { pdfPageCount, printPdf } from './certificate-pdf.ts';
export { CHECK_CHANGES, compareRuns, formatComparison, readRunSnapshot } from './compare.ts';
export type { CheckChange, CheckDelta, RunComparison, RunSnapshot, StageDelta } from './compare.ts';
export { JUNIT_FILE, renderJunitXml, xmlEscape } from './junit.ts';
export { ALLURE_METRICS_FILE, allureMetricSamples, metricDirection, writeAllureMetrics } from './metrics.ts';
export {
  QUALITY_GATE_CONFIG_FILE,
  QUALITY_GATE_FILE,
  confirmByQualityGate,
  describeQualityGate,
  evaluateQualityGate,
  gateVerdict,
  parseGateFailures,
  planQualityGate,
  qualityGateRecord,
  qualityGateRecordSchema,
  renderQualityGateConfig,
  runQualityGate,
} from './quality-gate.ts';
export type { GatePlan, GateRuleset, QualityGateRecord, QualityGateRun } from './quality-gate.ts';
export { ALLURE_HISTORY_FILE, SECURITY_SARIF_FILE, SUMMARY_FILE, writeRunArtifacts } from './run-artifacts.ts';
export type { RunArtifacts, RunArtifactsOptions } from './run-artifacts.ts';
export { RUN_ARTIFACTS, findBaseline, formatRunFiles, latestRunId, listRunIds, readTrend, trendPoint } from './runs.ts';
export type { Baseline, RunTrend, TrendPoint } from './runs.ts';
export { serveRunFolder } from './serve.ts';
