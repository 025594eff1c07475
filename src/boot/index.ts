export { checkReadinessTruth, checkServicesHealthy, planBootStage, runBootChecks } from './boot-checks.ts';
