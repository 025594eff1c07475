import { z } from 'zod';
import type { RefinementCtx } from './refine-context.ts';

/** Config of the `load` stage (`load: {...}` in readiness.config.ts). */
export const loadConfigSchema = z.strictObject({});

/** Cross-checks against the rest of the config (services, links); add issues with paths under `load`. */
export function refineLoad(_config: RefinementCtx['config'], _ctx: RefinementCtx['ctx']): void {
  // Nothing to cross-check yet.
}
