import { defineExperiment } from '../../src/faults/index.ts';
import type { HttpOutcome } from '../../src/faults/index.ts';
import { canCreateOrder, createOrder, ready } from './_reference.ts';

const BOUND_MS = 2_000;

// Postgres accepts connections and then never answers (Toxiproxy `timeout` with 0: data is dropped).
export default defineExperiment({
  id: 'postgres-unresponsive',
  title: 'Postgres hangs: every request answers within 2 s',
  severity: 'blocker',
  fault: { kind: 'timeout', link: 'postgres', timeoutMs: 0, stream: 'upstream' },
  steadyState: [ready, canCreateOrder],
  proof: [
    {
      kind: 'http',
      name: 'readiness turns 503',
      request: { path: '/health/ready', timeoutMs: 3_000 },
      expect: { status: 503 },
    },
  ],
  during: [
    {
      kind: 'fn',
      name: 'every request answers within 2 s (503 is fine, a hang is not)',
      remediation:
        'Bound every database call (connect, statement and query timeouts): a hung Postgres must cost at most ~2 s and answer 503',
      run: async (api) => {
        const calls: [string, () => Promise<HttpOutcome>][] = [
          ['GET /health/ready', () => api.request({ path: '/health/ready', timeoutMs: 4_000 })],
          ['GET /v1/orders', () => api.request({ path: '/v1/orders?limit=5', auth: true, timeoutMs: 4_000 })],
          ['POST /v1/orders', () => createOrder(api, 4_000)],
        ];
        const seen: string[] = [];
        for (let round = 0; round < 2; round += 1) {
          for (const [what, call] of calls) {
            const r = await call();
            const line = `${what} -> ${r.status || 'no answer'} in ${Math.round(r.latencyMs)}ms`;
            seen.push(line);
            if (r.status === 0 || r.latencyMs > BOUND_MS)
              return {
                ok: false,
                detail: `${line}: a request hung past ${BOUND_MS}ms while Postgres did not answer (${seen.join('; ')})`,
              };
          }
        }
        return { ok: true, detail: seen.join('; ') };
      },
    },
  ],
  recovery: {
    withinMs: 10_000,
    probes: [ready, canCreateOrder],
    remediation:
      'Reconnect to Postgres on its own once it answers again: drop connections whose queries timed out and open new ones',
  },
  remediation: 'Put timeouts on every Postgres call and answer 503 when they fire',
  tags: ['postgres'],
});
