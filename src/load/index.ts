export { runK6 } from './run-k6.ts';
export { readK6Summary } from './k6-summary.ts';
export { ensureK6, planLoadStage, runLoadStage } from './load-stage.ts';
export { startPhaseLoad } from './phase-load.ts';
