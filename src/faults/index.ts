export { describeFault, isToxic, toToxic, validateFault } from './catalog.ts';
export type { Fault } from './catalog.ts';
export { orderExperiments, runChaosStage } from './chaos-stage.ts';
export { loadExperiments, stageExperiments } from './experiment-files.ts';
export { cellOfFault, deriveMatrix } from './derived-matrix.ts';
export type { Topology } from './derived-matrix.ts';
export { defineExperiment } from './experiment.ts';
export type {
  ChaosApi,
  Expectation,
  ExpectationInput,
  Experiment,
  Probe,
  ProbeInput,
  ProbeOutcome,
} from './experiment.ts';
export { judgeLink, samplesFor } from './fault-proof.ts';
export type { HttpOutcome, HttpRequest } from '../runner/http.ts';
export type { ActiveFault } from './injector.ts';
export { observeLink } from './link-probe.ts';
export type { LinkObservation } from './link-probe.ts';
export { judgeHttp } from './probes.ts';
export { planChaosStage } from './chaos-plan.ts';
export { runExperiment } from './run-experiment.ts';
