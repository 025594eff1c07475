import { defineExperiment } from '../../src/faults/index.ts';
import { canCreateOrder, listOrders, ready } from './_reference.ts';

// Postgres restarts: Docker stops its container (SIGINT, Postgres's fast shutdown, ends every
// connection) and starts it again with the same data directory; the pool must drop the dead
// connections and open new ones.
export default defineExperiment({
  id: 'postgres-restart',
  title: 'Postgres restarts: the pool reconnects within 10 s',
  severity: 'blocker',
  fault: { kind: 'container', action: 'restart', service: 'postgres' },
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
