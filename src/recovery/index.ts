export { compareSnapshots, fillCommand, formatSnapshots, parseSnapshot, snapshotQuery } from './integrity.ts';
export type { SnapshotDiff, TableSnapshot } from './integrity.ts';
export { judgeAroundEvent, windowOf } from './ledger-windows.ts';
export type { WindowVerdict, WriteWindow } from './ledger-windows.ts';
export { planRecoveryStage, runRecoveryStage } from './recovery-stage.ts';
export { SteadyLoad, summarizeLoad } from './steady-load.ts';
export type { LoadSample, LoadSummary } from './steady-load.ts';
