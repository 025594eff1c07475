export { classifyInteraction } from './classify.ts';
export type { ClassifyContext, InteractionRef } from './classify.ts';
export { planContractStage, runContractChecks, slug } from './contract-checks.ts';
export { contractMatrixSchema, gitPathVersion, matrixMarkdown } from './matrix.ts';
export { isHttpInteraction, parsePactFile, readPactDir } from './pact-files.ts';
export type { PactFile } from './pact-files.ts';
export { describeMismatch, parseVerifierReport, reportOutput, stripAnsi } from './verifier-report.ts';
