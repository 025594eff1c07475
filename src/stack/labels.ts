/** Labels on every container and network of a run, for teardown and for reaping crashed runs. */
export const LABELS = {
  runId: 'dev.readiness.run-id',
  ownerPid: 'dev.readiness.owner-pid',
  ownerHost: 'dev.readiness.owner-host',
  stack: 'dev.readiness.stack',
  service: 'dev.readiness.service',
} as const;
