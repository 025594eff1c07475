import { defineExperiment } from '../../src/faults/index.ts';
import { degradedSlo, listOrders, ready, warmPool } from './_reference.ts';

// 500 ms (±50 ms) on every answer of Postgres: requests get slower but keep succeeding.
export default defineExperiment({
  id: 'postgres-latency',
  title: 'Postgres answers 500 ms late: the degraded SLO holds',
  severity: 'critical',
  fault: { kind: 'latency', link: 'postgres', latencyMs: 500, jitterMs: 50, stream: 'downstream' },
  steadyState: [ready, listOrders(1_000), warmPool],
  proof: [
    {
      kind: 'http',
      name: 'readiness (one SELECT 1) slows down by the injected latency',
      request: { path: '/health/ready' },
      expect: { status: 'any', minLatencyMs: 400 },
    },
  ],
  during: [
    {
      ...degradedSlo(8, 7, 2_500),
      remediation:
        'Keep database timeouts above one slow round trip and keep pooled connections open, so a slow (not dead) Postgres degrades latency, not availability',
    },
  ],
  recovery: { withinMs: 5_000, probes: [ready, listOrders(500)] },
  remediation: 'Keep serving on a slow database: pooled connections, timeouts above a slow round trip, no retry storms',
  tags: ['postgres'],
});
