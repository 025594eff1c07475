import { z } from 'zod';
import type { RefinementCtx } from './refine-context.ts';

/** Config of the `chaos` stage (`chaos: {...}` in readiness.config.ts). */
export const chaosConfigSchema = z.strictObject({});

/** Cross-checks against the rest of the config (services, links); add issues with paths under `chaos`. */
export function refineChaos(_config: RefinementCtx['config'], _ctx: RefinementCtx['ctx']): void {
  // Nothing to cross-check yet.
}
