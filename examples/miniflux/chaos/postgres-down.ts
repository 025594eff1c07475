import { defineExperiment } from '../../../src/index.ts';
import { me, ready } from './_api.ts';

// The Postgres link is cut (Toxiproxy disables the proxy): connections are refused.
export default defineExperiment({
  id: 'postgres-down',
  title: 'Postgres down: readiness false, API errors are server errors, recovery after',
  severity: 'critical',
  fault: { kind: 'down', link: 'postgres' },
  steadyState: [ready, me(1_000)],
  proof: [{ kind: 'http', name: 'readiness turns 503', request: { path: '/readiness' }, expect: { status: 503 } }],
  during: [
    {
      kind: 'http',
      name: 'readiness reports not ready within 1.5 s',
      request: { path: '/readiness' },
      expect: { status: 503, maxLatencyMs: 1_500 },
    },
    {
      ...me(1_500),
      name: 'an authenticated request gets a 5xx, not 401, within 1.5 s',
      expect: { status: [500, 502, 503, 504], maxLatencyMs: 1_500 },
      remediation:
        'Answer 503 when the credential store cannot be read: a 401 tells a client its valid credentials are wrong (clients drop them or lock the account)',
    },
  ],
  recovery: { withinMs: 10_000, probes: [ready, me(1_000)] },
  // Categories written while the link goes down: every acknowledged one must still be there after.
  ledger: { writes: 10, phase: 'around-injection' },
  remediation: 'Report not ready and fail API requests as server errors while Postgres is unreachable',
  tags: ['postgres'],
});
