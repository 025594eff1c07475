import { defineExperiment } from '../../src/faults/index.ts';
import { canCreateOrder, ready } from './_reference.ts';

// The Postgres link is cut (proxy disabled): connections are refused.
export default defineExperiment({
  id: 'postgres-down',
  title: 'Postgres down: fast 503, readiness false, recovery after',
  severity: 'blocker',
  fault: { kind: 'down', link: 'postgres' },
  steadyState: [ready, canCreateOrder],
  proof: [{ kind: 'http', name: 'readiness turns 503', request: { path: '/health/ready' }, expect: { status: 503 } }],
  during: [
    {
      kind: 'http',
      name: 'order creation fails fast with 503',
      request: {
        method: 'POST',
        path: '/v1/orders',
        auth: true,
        headers: { 'Idempotency-Key': 'chaos-postgres-down' },
        body: { items: [{ sku: 'TEA', qty: 1 }] },
      },
      expect: { status: 503, maxLatencyMs: 1_000 },
      remediation:
        'Fail fast with 503 (and Retry-After) when Postgres refuses connections instead of waiting or answering 500',
    },
    {
      kind: 'http',
      name: 'readiness reports not ready',
      request: { path: '/health/ready' },
      expect: { status: 503, maxLatencyMs: 1_500, json: { status: 'not_ready' } },
    },
  ],
  recovery: {
    withinMs: 10_000,
    probes: [ready, canCreateOrder],
    remediation:
      'Reconnect to Postgres on its own after an outage (a pool that drops dead connections and opens new ones)',
  },
  remediation: 'Answer 503 quickly while Postgres is unreachable and report not ready',
  tags: ['postgres'],
});
