export { classifyInteraction } from './classify.ts';
export type { ClassifyContext, InteractionRef, InteractionVerdict } from './classify.ts';
export { planContractStage, runContractChecks, slug } from './contract-checks.ts';
export { contractMatrixSchema, gitPathVersion, matrixMarkdown, writeMatrix } from './matrix.ts';
export type { ContractMatrix, MatrixRow } from './matrix.ts';
export { isHttpInteraction, parsePactFile, readPactDir } from './pact-files.ts';
export type { PactFile, PactInteraction } from './pact-files.ts';
export { describeMismatch, parseVerifierReport, reportOutput, stripAnsi } from './verifier-report.ts';
export type { InteractionResult, VerifierReport } from './verifier-report.ts';
