import { defineExperiment } from '../../src/faults/index.ts';
import { canCreateOrder, listOrders, ready } from './_reference.ts';

// orders is killed (SIGKILL) right after acknowledged writes, then started again by the harness
// (docker start of the same container: same network alias; the host port may change, so the harness
// re-reads it and updates the stack handle).
export default defineExperiment({
  id: 'orders-kill',
  title: 'orders killed and restarted: it heals and keeps every acknowledged write',
  severity: 'blocker',
  fault: { kind: 'container', action: 'kill', service: 'orders' },
  steadyState: [ready, canCreateOrder],
  during: [],
  ledger: {
    writes: 20,
    phase: 'around-injection',
    remediation: 'Acknowledge a write only once it is committed to the database, never from an in-memory buffer',
  },
  recovery: {
    withinMs: 30_000,
    probes: [ready, listOrders(1_000), canCreateOrder],
    remediation:
      'Start quickly and without manual steps after a crash (migrations idempotent, dependencies re-resolved)',
  },
  remediation: 'Survive a crash: durable writes, fast self-contained start',
  tags: ['orders', 'ledger'],
});
