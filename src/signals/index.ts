export { classifyLine, levelClass, signalRules } from './classify.ts';
export type { SignalRules } from './classify.ts';
export { judgeServiceLog } from './judge.ts';
export type { ServiceSignals } from './judge.ts';
export { planSignals, runSignalChecks, signalServices, signalsCheckId } from './signals-stage.ts';
