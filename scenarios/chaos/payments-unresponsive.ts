import { defineExperiment } from '../../src/faults/index.ts';
import type { HttpOutcome } from '../../src/faults/index.ts';
import { bodyStatus, canCreateOrder, createOrder, gauge, orderStatus, ready } from './_reference.ts';

const FAST_MS = 200;

// Payments accepts connections and never answers (Toxiproxy `timeout` 0).
export default defineExperiment({
  id: 'payments-unresponsive',
  title: 'Payments hangs: the breaker opens, orders wait as pending_payment, the outbox settles them after',
  severity: 'critical',
  fault: { kind: 'timeout', link: 'payments', timeoutMs: 0, stream: 'upstream' },
  steadyState: [ready, canCreateOrder, gauge('payments_breaker_state', 0, 'payments breaker closed')],
  proof: [
    {
      kind: 'http',
      name: 'readiness shows payments degraded',
      request: { path: '/health/ready' },
      expect: { status: 200, json: { 'checks.payments': 'degraded' } },
    },
  ],
  during: [
    {
      kind: 'fn',
      name: `breaker open: orders answer pending_payment within ${FAST_MS} ms`,
      judgesTiming: true,
      remediation:
        'Put a per-attempt timeout on payments calls and a circuit breaker in front of them; while it is open, store the order as pending_payment and answer at once',
      run: async (api) => {
        const tries: string[] = [];
        let open = false;
        for (let n = 1; n <= 6 && !open; n += 1) {
          const r = await createOrder(api, 3_000);
          tries.push(`${orderStatus(r)} ${Math.round(r.latencyMs)}ms`);
          if (r.status === 0)
            return {
              ok: false,
              detail: `order creation hung past 3000ms while payments did not answer (${tries.join(', ')}): the payments call has no timeout`,
            };
          open = (await api.metric('payments_breaker_state')) === 1;
        }
        if (!open)
          return {
            ok: false,
            detail: `the circuit breaker did not open after ${tries.length} orders against an unresponsive payments (${tries.join(', ')}): every order pays the full retry budget`,
            // A breaker that never opens is the system's failure whatever the host's load.
            timing: false,
          };
        const fast: HttpOutcome[] = [];
        for (let n = 0; n < 5; n += 1) fast.push(await createOrder(api, 3_000));
        const lines = fast.map((r) => `${orderStatus(r)} ${Math.round(r.latencyMs)}ms`);
        const bad = fast.filter(
          (r) => r.status !== 202 || bodyStatus(r) !== 'pending_payment' || r.latencyMs > FAST_MS,
        );
        return {
          ok: bad.length === 0,
          // Only answers that were right but slow rest on the time bound.
          timing: bad.every((r) => r.status === 202 && bodyStatus(r) === 'pending_payment'),
          detail: `breaker open after ${tries.length} orders (${tries.join(', ')}); then ${lines.join(', ')}`,
          metrics: [
            {
              name: 'open_breaker_max_latency_ms',
              value: Math.round(Math.max(...fast.map((r) => r.latencyMs))),
              unit: 'ms',
            },
          ],
        };
      },
    },
  ],
  recovery: {
    withinMs: 20_000,
    probes: [
      // An order drives the half-open trial: with a second replica on the same database, its outbox may
      // settle every pending order, and a breaker that is asked nothing stays half-open.
      {
        kind: 'fn',
        name: 'orders are paid at creation again',
        run: async (api) => {
          const r = await createOrder(api, 3_000);
          return {
            ok: r.status === 201 && bodyStatus(r) === 'paid',
            detail: `POST /v1/orders -> ${orderStatus(r)} in ${Math.round(r.latencyMs)}ms`,
          };
        },
      },
      gauge('payments_breaker_state', 0, 'the breaker closes again (half-open trial succeeded)'),
      gauge('orders_outbox_pending', 0, 'the outbox settled every pending order'),
    ],
    remediation:
      'After payments returns, let a half-open trial close the breaker and have the outbox charge pending orders',
  },
  remediation: 'Protect order creation from a hung payments service: timeout, circuit breaker, outbox',
  tags: ['payments'],
});
