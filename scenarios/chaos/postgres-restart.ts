import { defineExperiment } from '../../src/faults/index.ts';
import { canCreateOrder, listOrders, ready } from './_reference.ts';

// Postgres restarts: a crashed server process makes the postmaster end every connection and start
// all server processes again. (A container restart would erase the reference stack's tmpfs data
// directory; with a persistent one, `{ kind: 'container', action: 'restart', service: 'postgres' }`
// is the same experiment.)
export default defineExperiment({
  id: 'postgres-restart',
  title: 'Postgres restarts: the pool reconnects within 10 s',
  severity: 'blocker',
  fault: { kind: 'signal', service: 'postgres', process: 'postgres: checkpointer', signal: 'KILL' },
  steadyState: [ready, listOrders(1_000)],
  during: [],
  recovery: {
    withinMs: 10_000,
    probes: [ready, listOrders(1_000), canCreateOrder],
    remediation:
      'Use a connection pool that discards connections the server closed and opens new ones; never keep one client for the process lifetime',
  },
  remediation: 'Reconnect to Postgres after it restarts',
  tags: ['postgres'],
});
