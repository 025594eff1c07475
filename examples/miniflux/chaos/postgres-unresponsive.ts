import { defineExperiment } from '../../../src/index.ts';
import { me, ready } from './_api.ts';

// Postgres accepts connections and then never answers (Toxiproxy `timeout` 0: data is dropped).
export default defineExperiment({
  id: 'postgres-unresponsive',
  title: 'Postgres hangs: readiness and the API answer within 2 s',
  severity: 'critical',
  fault: { kind: 'timeout', link: 'postgres', timeoutMs: 0, stream: 'upstream' },
  steadyState: [ready, me(1_000)],
  proof: [
    {
      kind: 'http',
      name: 'readiness stops answering 200',
      request: { path: '/readiness', timeoutMs: 3_000 },
      // 0: no answer within the timeout.
      expect: { status: [0, 500, 503] },
    },
  ],
  during: [
    {
      kind: 'http',
      name: 'readiness answers 503 within 2 s',
      request: { path: '/readiness', timeoutMs: 4_000 },
      expect: { status: 503, maxLatencyMs: 2_000 },
      samples: 2,
      remediation: 'Bound the readiness ping with a timeout (a context deadline on db.PingContext)',
    },
    {
      ...me(2_000),
      name: 'an authenticated request answers a 5xx within 2 s',
      request: { ...me(2_000).request, timeoutMs: 4_000 },
      expect: { status: [500, 502, 503, 504], maxLatencyMs: 2_000 },
      samples: 2,
      remediation:
        'Give every query a deadline (statement_timeout, or contexts with a timeout) so a hung database costs a bounded time',
    },
  ],
  recovery: {
    withinMs: 15_000,
    probes: [ready, me(1_000)],
    remediation: 'Drop connections whose queries timed out and open new ones once Postgres answers again',
  },
  remediation: 'Put timeouts on every Postgres call and answer 503 when they fire',
  tags: ['postgres'],
});
