import { z } from 'zod';
import type { RefinementCtx } from './refine-context.ts';

/** Config of the `contract` stage (`contract: {...}` in readiness.config.ts). */
export const contractConfigSchema = z.strictObject({});

/** Cross-checks against the rest of the config (services, links); add issues with paths under `contract`. */
export function refineContract(_config: RefinementCtx['config'], _ctx: RefinementCtx['ctx']): void {
  // Nothing to cross-check yet.
}
