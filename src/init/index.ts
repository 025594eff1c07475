export { CI_FILES, CI_KINDS, renderCi } from './ci.ts';
export type { CiKind } from './ci.ts';
export { parseCompose, readCompose } from './compose.ts';
export { renderConfig } from './render.ts';
export { composeToConfig, recogniseDatastore, starterPlan } from './to-config.ts';
export type { InitPlan, PlanNote } from './to-config.ts';
