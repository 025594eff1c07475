import type { ReadinessConfigInput } from './schema.ts';

/** Typed identity for `readiness.config.ts`: `export default defineConfig({...})`. */
export function defineConfig(config: ReadinessConfigInput): ReadinessConfigInput {
  return config;
}
