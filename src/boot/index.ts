export { checkReadinessTruth, checkServicesHealthy, runBootChecks } from './boot-checks.ts';
