export { httpProbe, observeHealth } from './health.ts';
export { LABELS } from './labels.ts';
export { reapOrphans, removeRun } from './reap.ts';
export { readStackHandle, serviceUrl, stackHandleSchema, writeStackHandle } from './stack-handle.ts';
export type { StackHandle } from './stack-handle.ts';
export { StackProvider, stackImageRefs, startOrder } from './stack-provider.ts';
export { ToxiproxyApi } from './toxiproxy-api.ts';
