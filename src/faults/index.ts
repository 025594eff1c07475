export {
  describeFault,
  faultLink,
  isToxic,
  STREAMS,
  TOXIC_KINDS,
  toToxic,
  toxicAttributes,
  validateFault,
} from './catalog.ts';
export type { ContainerFault, Fault, FaultKind, Stream, ToxicFault, ToxicKind, ToxicSpec } from './catalog.ts';
export { cleanLeftovers, orderExperiments, runChaosStage } from './chaos-stage.ts';
export type { ChaosStageOptions } from './chaos-stage.ts';
export { experimentsDirOf, loadExperiments, stageExperiments } from './experiment-files.ts';
export type { LoadedExperiment, StageExperiments } from './experiment-files.ts';
export { cellExperiment, cellOfFault, deriveMatrix } from './derived-matrix.ts';
export type { DerivedCell, DerivedExperiment, LeftOutCell, Topology } from './derived-matrix.ts';
export { defineExperiment } from './experiment.ts';
export type {
  ChaosApi,
  Expectation,
  ExpectationInput,
  Experiment,
  FaultControl,
  HttpExpect,
  LedgerPlan,
  LoadPlan,
  Probe,
  ProbeInput,
  ProbeOutcome,
} from './experiment.ts';
export { judgeLink, samplesFor } from './fault-proof.ts';
export type { LinkVerdict } from './fault-proof.ts';
export type { HttpOutcome, HttpRequest } from '../runner/http.ts';
export { injectFault } from './injector.ts';
export type { ActiveFault, ControlProof, FaultEnv } from './injector.ts';
export { observeLink } from './link-probe.ts';
export type { LinkObservation } from './link-probe.ts';
export { judgeHttp } from './probes.ts';
export { planChaosStage } from './chaos-plan.ts';
export { runExperiment } from './run-experiment.ts';
