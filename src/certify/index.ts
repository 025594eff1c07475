export {
  CERTIFICATION_FILE,
  CERTIFICATION_SCHEMA_VERSION,
  applyQualityGate,
  certificationSchema,
  certifyChecks,
  certifyRun,
  readCertification,
  writeCertification,
} from './certification.ts';
export type { Certification, CertifyChecksOptions, CertifyRunOptions } from './certification.ts';
export {
  EVIDENCE_MANIFEST_FILE,
  MANIFEST_FILE,
  SEALED_AFTER_EVIDENCE,
  formatManifest,
  hashRunFolder,
  listRunFiles,
  parseManifest,
  sha256File,
  sha256Hex,
  verifyRunManifest,
  writeEvidenceManifest,
  writeRunManifest,
} from './manifest.ts';
export type { ManifestCheck, ManifestEntry, SealedEvidence } from './manifest.ts';
export { STATUS_SEVERITY_ORDER, emptyCounts, mapStages, tallyStage, tallyStages, worstStatus } from './pass-rates.ts';
export type { StageTally, StatusCounts } from './pass-rates.ts';
export {
  RATIO_EPSILON,
  isCritical,
  isDue,
  isPartialRun,
  mandatoryStages,
  matchesIdPattern,
  runStages,
  stageOfId,
  stagePolicy,
} from './policy.ts';
export type { StagePolicy } from './policy.ts';
export {
  NOT_COVERED_KINDS,
  STAGE_ROLES,
  VERDICTS,
  evaluateVerdict,
  formatPercent,
  isCertifying,
  remediationFor,
  runVerdict,
  verdictExitCode,
  weightedScore,
} from './verdict.ts';
export type {
  CriticalFailure,
  FullRunVerdict,
  NotCoveredCheck,
  NotCoveredKind,
  NotPassedCheck,
  ReasonCause,
  StageRole,
  StageVerdict,
  Verdict,
  VerdictExitCode,
  VerdictInput,
  VerdictReason,
  VerdictResult,
} from './verdict.ts';
export {
  NOT_COVERED_WHYS,
  PROPERTY_GROUP_LABELS,
  PROPERTY_STATUSES,
  evaluateProperties,
  matchesCheckPattern,
  propertyCoverage,
  propertyCoverageSchema,
  propertyRisks,
  propertySchema,
  resolveProperties,
} from './properties.ts';
export type {
  NotCoveredWhy,
  PropertyCoverage,
  PropertyInputs,
  PropertyResult,
  PropertyStatus,
  ResolvedProperty,
} from './properties.ts';
export { PROPERTY_CATALOGUE } from './property-catalogue.ts';
export type { CatalogueProperty } from './property-catalogue.ts';
export { DEFAULT_NOISE_BANDS, changesSchema, figureMoves, noBaseline, whatChanged } from './changes.ts';
export type { Changes, ComparedRun, NoiseBand } from './changes.ts';
