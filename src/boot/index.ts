export { planBootStage, runBootChecks } from './boot-checks.ts';
