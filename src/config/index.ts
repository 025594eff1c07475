export { defineConfig } from './define-config.ts';
export { configProblems, formatIssues, loadConfig, resolveConfig } from './load-config.ts';
export type { ResolvedConfig } from './load-config.ts';
export { configSchema } from './schema.ts';
export type { HealthConfig, PolicyConfig, ReadinessConfigInput, ServiceConfig } from './schema.ts';
