export { defineConfig } from './define-config.ts';
export { DEFAULT_CONFIG_FILE, configProblems, formatIssues, loadConfig, resolveConfig } from './load-config.ts';
export type { ResolvedConfig } from './load-config.ts';
export { configSchema, findCycle } from './schema.ts';
export type { HealthConfig, LinkConfig, PolicyConfig, ReadinessConfigInput, ServiceConfig } from './schema.ts';
