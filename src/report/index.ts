export {
  READINESS_CATEGORIES,
  findAnalytics,
  formatProperties,
  generateAllureReport,
  stripAnalytics,
  writeAllureMetadata,
} from './allure.ts';
export { formatVerdictTable, renderSummaryMarkdown, skippedChecks } from './summary.ts';
export { htmlEscape, renderCertificateHtml } from './certificate.ts';
export type { CertificateModel } from './certificate.ts';
export { pdfPageCount, printPdf } from './certificate-pdf.ts';
export { compareRuns, formatComparison, readRunSnapshot } from './compare.ts';
export { renderJunitXml, xmlEscape } from './junit.ts';
export { allureMetricSamples, metricDirection } from './metrics.ts';
export {
  QUALITY_GATE_FILE,
  confirmByQualityGate,
  describeQualityGate,
  evaluateQualityGate,
  gateVerdict,
  parseGateFailures,
  planQualityGate,
  qualityGateRecord,
  qualityGateRecordSchema,
} from './quality-gate.ts';
export type { QualityGateRun } from './quality-gate.ts';
export { writeRunArtifacts } from './run-artifacts.ts';
export type { RunArtifacts, RunArtifactsOptions } from './run-artifacts.ts';
export { findBaseline, formatRunFiles, latestRunId, listRunIds, readTrend, trendPoint } from './runs.ts';
export type { Baseline } from './runs.ts';
export { serveRunFolder } from './serve.ts';
