export {
  READINESS_CATEGORIES,
  findAnalytics,
  formatProperties,
  generateAllureReport,
  stripAnalytics,
  writeAllureMetadata,
} from './allure.ts';
export type { AllureCategory, AllureExecutor, AllureMetadata, GenerateAllureReportOptions } from './allure.ts';
export { formatVerdictTable, renderSummaryMarkdown, verdictLabel } from './summary.ts';
