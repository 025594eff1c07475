export {
  CERTIFICATION_FILE,
  applyQualityGate,
  certificationSchema,
  certifyChecks,
  certifyRun,
  readCertification,
  writeCertification,
} from './certification.ts';
export type { Certification, CertifyRunOptions } from './certification.ts';
export {
  EVIDENCE_MANIFEST_FILE,
  MANIFEST_FILE,
  formatManifest,
  parseManifest,
  sha256Hex,
  verifyRunManifest,
  writeEvidenceManifest,
  writeRunManifest,
} from './manifest.ts';
export type { SealedEvidence } from './manifest.ts';
export { STATUS_SEVERITY_ORDER, emptyCounts, tallyStage, worstStatus } from './pass-rates.ts';
export { isCritical, isDue, matchesIdPattern, runStages, stageOfId, stagePolicy } from './policy.ts';
export { VERDICTS, evaluateVerdict, remediationFor, runVerdict, verdictExitCode } from './verdict.ts';
export type { StageRole, Verdict } from './verdict.ts';
export {
  PROPERTY_GROUP_LABELS,
  evaluateProperties,
  matchesCheckPattern,
  propertyCoverage,
  propertyRisks,
  resolveProperties,
} from './properties.ts';
export type { PropertyResult } from './properties.ts';
export { PROPERTY_CATALOGUE } from './property-catalogue.ts';
export { DEFAULT_NOISE_BANDS, figureMoves, noBaseline, whatChanged } from './changes.ts';
export type { Changes, ComparedRun, NoiseBand } from './changes.ts';
