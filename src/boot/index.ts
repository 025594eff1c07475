export { checkReadinessTruth, checkServicesHealthy, planBootStage, runBootChecks } from './boot-checks.ts';
export { checkReplicaGroup } from './replicas.ts';
