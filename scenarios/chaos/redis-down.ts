import { defineExperiment } from '../../src/faults/index.ts';
import { canCreateOrder, listOrders, ready } from './_reference.ts';

// Redis (rate limiter only) is cut off: the API must keep serving with an in-process limiter.
export default defineExperiment({
  id: 'redis-down',
  title: 'Redis down: the core API keeps serving, the limiter falls back',
  severity: 'critical',
  fault: { kind: 'down', link: 'redis' },
  steadyState: [ready, listOrders(1_000)],
  proof: [
    {
      kind: 'http',
      name: 'readiness shows redis degraded',
      request: { path: '/health/ready' },
      expect: { status: 'any', json: { 'checks.redis': 'degraded' } },
    },
  ],
  during: [
    {
      ...listOrders(1_000),
      name: 'orders list keeps answering 200',
      remediation: 'Fall back to an in-process rate limiter when Redis is unreachable instead of failing the request',
    },
    { ...canCreateOrder, name: 'orders can still be created', samples: 2 },
    {
      kind: 'metric',
      name: 'the limiter decides in process',
      metric: 'rate_limit_decisions_total',
      labels: { backend: 'memory' },
      expect: { op: '>=', value: 1, sinceFault: true },
      samples: 1,
    },
    { ...ready, name: 'readiness stays 200', samples: 1 },
  ],
  recovery: {
    withinMs: 10_000,
    probes: [
      {
        kind: 'http',
        name: 'readiness shows redis up again',
        request: { path: '/health/ready' },
        expect: { status: 200, json: { 'checks.redis': 'up' } },
      },
      listOrders(1_000),
    ],
  },
  // The whole experiment runs behind k6 (the load stage's orders mix): the API must keep its SLO
  // through the outage, not only answer a few probes.
  load: {
    ratePerSec: 10,
    slo: {
      baseline: { p95Ms: 500, maxErrorRate: 0.01 },
      fault: { p95Ms: 500, maxErrorRate: 0.01 },
      recovery: { p95Ms: 500, maxErrorRate: 0.02 },
    },
    remediation: 'Keep serving the whole load while Redis is away: an in-process limiter, no per-request Redis wait',
  },
  remediation: 'Treat Redis as optional: degrade to an in-process limiter and keep serving',
  tags: ['redis', 'load'],
});
