import { z } from 'zod';
import type { RefinementCtx } from './refine-context.ts';

/** Config of the `security` stage (`security: {...}` in readiness.config.ts). */
export const securityConfigSchema = z.strictObject({});

/** Cross-checks against the rest of the config (services, links); add issues with paths under `security`. */
export function refineSecurity(_config: RefinementCtx['config'], _ctx: RefinementCtx['ctx']): void {
  // Nothing to cross-check yet.
}
