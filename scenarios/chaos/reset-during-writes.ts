import { defineExperiment } from '../../src/faults/index.ts';
import { canCreateOrder, ready } from './_reference.ts';

// Writes meet connection resets on both sides. Postgres: the toxic is re-drawn before each write,
// so 30% of orders' pooled connections reset their next answer from the server (Toxiproxy's
// reset_peer drops the first chunk it sees and resets; downstream, the server has run the statement
// and orders never hears back). Client: half of the answers are lost (the ledger resets its own
// connection once the answer starts) and the write is retried with the same Idempotency-Key.
// Only a lost answer to a committed write can make a duplicate (a reset on the Postgres link hits
// the transaction's BEGIN, before anything is stored), so the client side carries the detection
// power: with 30% lost answers, 20 writes missed no-idempotency in about 2% of runs (2-6 duplicates
// in 6 runs); with half lost, 6-10 duplicates in 4 runs (a miss ~1e-4). 40 writes ran into the
// service's rate limit (100 requests per 10 s per user) while being read back.
export default defineExperiment({
  id: 'reset-during-writes',
  title: 'Resets during writes: no acknowledged write lost, none duplicated',
  severity: 'blocker',
  fault: { kind: 'reset_peer', link: 'postgres', toxicity: 0.3, timeoutMs: 0, stream: 'downstream' },
  steadyState: [ready, canCreateOrder],
  during: [],
  ledger: {
    writes: 20,
    phase: 'during-fault',
    lostResponseRatio: 0.5,
    redrawEachWrite: true,
    remediation:
      'Store the Idempotency-Key with the record in the same transaction (unique per user) and answer a retry with the stored record',
  },
  recovery: {
    withinMs: 10_000,
    probes: [ready, canCreateOrder],
    // A service that keeps one connection for its lifetime never gets Postgres back after a reset.
    remediation:
      'Reconnect to Postgres after a connection reset: use a connection pool that discards broken connections and opens new ones',
  },
  remediation: 'Make writes idempotent and durable under connection resets',
  tags: ['postgres', 'ledger'],
});
