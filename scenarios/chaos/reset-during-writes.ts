import { defineExperiment } from '../../src/faults/index.ts';
import { canCreateOrder, ready } from './_reference.ts';

// Writes meet connection resets on both sides: the payments link resets 30% of the service's
// connections (re-drawn before each write), and the client loses 30% of the answers (it resets its
// own connection once the answer starts) and retries with the same Idempotency-Key.
// The reset toxic belongs on the Postgres link, but there it crashes the reference orders service
// (a reset while a transaction holds a pooled client emits an 'error' nobody listens to; see the
// chaos stage notes): move it back to `link: 'postgres'` once orders handles that.
export default defineExperiment({
  id: 'reset-during-writes',
  title: 'Resets during writes: no acknowledged write lost, none duplicated',
  severity: 'blocker',
  fault: { kind: 'reset_peer', link: 'payments', toxicity: 0.3, timeoutMs: 0, stream: 'upstream' },
  steadyState: [ready, canCreateOrder],
  during: [],
  ledger: {
    writes: 20,
    phase: 'during-fault',
    lostResponseRatio: 0.3,
    redrawEachWrite: true,
    remediation:
      'Store the Idempotency-Key with the record in the same transaction (unique per user) and answer a retry with the stored record',
  },
  recovery: { withinMs: 10_000, probes: [ready, canCreateOrder] },
  remediation: 'Make writes idempotent and durable under connection resets',
  tags: ['payments', 'ledger'],
});
