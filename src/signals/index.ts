export { classifyLine, levelClass, signalRules } from './classify.ts';
export { judgeServiceLog } from './judge.ts';
export { planSignals, runSignalChecks, signalServices } from './signals-stage.ts';
