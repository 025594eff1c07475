// Shared probes of the reference stack's experiments (fixtures/stack): its routes, bodies and metrics.
// Files starting with "_" are helpers, not experiments.
import type { ChaosApi, ExpectationInput, HttpOutcome, ProbeInput } from '../../src/faults/index.ts';

/** GET /health/ready answers 200 (Postgres reachable). */
export const ready: ProbeInput = {
  kind: 'http',
  name: 'readiness is 200',
  request: { path: '/health/ready' },
  expect: { status: 200, maxLatencyMs: 1_000 },
};

/** The caller's orders list answers 200. */
export const listOrders = (maxLatencyMs = 1_000): ProbeInput => ({
  kind: 'http',
  name: `orders list answers 200 within ${maxLatencyMs}ms`,
  request: { path: '/v1/orders?limit=5', auth: true },
  expect: { status: 200, maxLatencyMs },
});

/** POST /v1/orders with a fresh (seeded) Idempotency-Key. */
export function createOrder(api: ChaosApi, timeoutMs = 3_000, sku = 'TEA'): Promise<HttpOutcome> {
  return api.request({
    method: 'POST',
    path: '/v1/orders',
    auth: true,
    headers: { 'Idempotency-Key': api.uuid() },
    body: { items: [{ sku, qty: 1 }], currency: 'EUR' },
    timeoutMs,
  });
}

/** Order status in an answer, or what came back instead. */
export const orderStatus = (r: HttpOutcome): string =>
  r.status === 0 ? `no answer (${r.error ?? '?'})` : `${r.status} ${bodyStatus(r)}`.trim();

/** The `status` field of a JSON answer, or ''. */
export function bodyStatus(r: HttpOutcome): string {
  const status = (r.json as { status?: unknown } | undefined)?.status;
  return typeof status === 'string' ? status : '';
}

/** An order can be created (201 paid or 202 pending). */
export const canCreateOrder: ProbeInput = {
  kind: 'fn',
  name: 'an order can be created',
  run: async (api) => {
    const r = await createOrder(api);
    const ok = r.status === 201 || r.status === 202;
    return { ok, detail: `POST /v1/orders -> ${orderStatus(r)} in ${Math.round(r.latencyMs)}ms` };
  },
};

/** Several concurrent reads, so the service's database pool holds open connections before a slow link. */
export const warmPool: ProbeInput = {
  kind: 'fn',
  name: 'concurrent reads succeed (database pool warm)',
  run: async (api) => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => api.request({ path: '/v1/orders?limit=1', auth: true })),
    );
    return {
      ok: answers.every((a) => a.status === 200),
      detail: `6 concurrent GET /v1/orders -> ${answers.map((a) => `${a.status}/${Math.round(a.latencyMs)}ms`).join(', ')}`,
    };
  },
};

/** A Prometheus gauge of orders equals a value. */
export const gauge = (metric: string, value: number, name: string): ProbeInput => ({
  kind: 'metric',
  name,
  metric,
  expect: { op: '==', value },
});

/**
 * A degraded SLO: of `samples` requests (readiness and reads, alternating), at least `minOk` answer
 * 200 within `maxLatencyMs`. One miss is tolerated: a pool that must open a new connection over a
 * slow link may time that one out.
 */
export const degradedSlo = (samples: number, minOk: number, maxLatencyMs: number): ExpectationInput => ({
  kind: 'fn',
  name: `at least ${minOk} of ${samples} requests answer 200 within ${maxLatencyMs / 1000} s`,
  judgesTiming: true,
  run: async (api) => {
    const seen: string[] = [];
    let ok = 0;
    for (let i = 0; i < samples; i += 1) {
      const r =
        i % 2 === 0
          ? await api.request({ path: '/health/ready', timeoutMs: maxLatencyMs + 1_000 })
          : await api.request({ path: '/v1/orders?limit=5', auth: true, timeoutMs: maxLatencyMs + 1_000 });
      const good = r.status === 200 && r.latencyMs <= maxLatencyMs;
      if (good) ok += 1;
      seen.push(
        `${i % 2 === 0 ? 'ready' : 'list'} ${r.status || 'no answer'}/${Math.round(r.latencyMs)}ms${good ? '' : '!'}`,
      );
    }
    return {
      ok: ok >= minOk,
      detail: `${ok}/${samples} answered 200 within ${maxLatencyMs}ms: ${seen.join(', ')}`,
      metrics: [{ name: 'slo_ok_ratio', value: Number((ok / samples).toFixed(3)), unit: 'ratio' }],
    };
  },
});
