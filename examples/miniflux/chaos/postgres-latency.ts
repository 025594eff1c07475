import { defineExperiment } from '../../../src/index.ts';
import { me, ready } from './_api.ts';

// Every Postgres answer is 100 ms late: a request making one round trip pays ~100 ms more.
export default defineExperiment({
  id: 'postgres-latency',
  title: 'Postgres answers 100 ms late: an API read stays within 500 ms (at most 5 sequential round trips)',
  severity: 'normal',
  fault: { kind: 'latency', link: 'postgres', latencyMs: 100, stream: 'downstream' },
  steadyState: [ready, me(1_000)],
  proof: [
    {
      kind: 'http',
      name: 'readiness (one ping) slows down by the injected latency',
      request: { path: '/readiness' },
      expect: { status: 'any', minLatencyMs: 90 },
    },
  ],
  during: [
    {
      ...me(500),
      remediation:
        'Make fewer sequential round trips per request (one query for the credential check and the user, no write of the last-login time on every API call)',
    },
  ],
  recovery: { withinMs: 5_000, probes: [ready, me(500)] },
  remediation:
    'Keep the number of sequential database round trips per request small, so a slow database degrades latency in proportion',
  tags: ['postgres'],
});
