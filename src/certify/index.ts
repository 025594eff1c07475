export {
  CERTIFICATION_FILE,
  certificationSchema,
  certifyRun,
  readCertification,
  writeCertification,
} from './certification.ts';
export type { Certification, CertifyRunOptions } from './certification.ts';
export { STATUS_SEVERITY_ORDER, emptyCounts, mapStages, tallyStage, tallyStages, worstStatus } from './pass-rates.ts';
export type { StageTally, StatusCounts } from './pass-rates.ts';
export {
  RATIO_EPSILON,
  isCritical,
  isDue,
  isPartialRun,
  mandatoryStages,
  matchesIdPattern,
  stageOfId,
  stagePolicy,
} from './policy.ts';
export type { StagePolicy } from './policy.ts';
export { VERDICTS, evaluateVerdict, remediationFor, verdictExitCode, weightedScore } from './verdict.ts';
export type {
  CriticalFailure,
  ReasonCause,
  StageVerdict,
  Verdict,
  VerdictExitCode,
  VerdictInput,
  VerdictReason,
  VerdictResult,
} from './verdict.ts';
