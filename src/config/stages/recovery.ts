import { z } from 'zod';
import type { RefinementCtx } from './refine-context.ts';

/** Config of the `recovery` stage (`recovery: {...}` in readiness.config.ts). */
export const recoveryConfigSchema = z.strictObject({});

/** Cross-checks against the rest of the config (services, links); add issues with paths under `recovery`. */
export function refineRecovery(_config: RefinementCtx['config'], _ctx: RefinementCtx['ctx']): void {
  // Nothing to cross-check yet.
}
