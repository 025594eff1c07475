export { compareSnapshots, fillCommand, parseSnapshot, snapshotQuery } from './integrity.ts';
export { judgeAroundEvent, windowOf } from './ledger-windows.ts';
export { planRecoveryStage, runRecoveryStage } from './recovery-stage.ts';
export { summarizeLoad } from './steady-load.ts';
export type { LoadSample } from './steady-load.ts';
