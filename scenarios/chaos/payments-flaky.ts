import { defineExperiment } from '../../src/faults/index.ts';
import { bodyStatus, canCreateOrder, createOrder, gauge, ready } from './_reference.ts';

const ORDERS = 60;
// Toxiproxy draws toxicity per connection, and orders keeps its payments connection alive, so the
// toxic is re-drawn before each order: every attempt then meets a reset with probability 0.3. With
// 3 attempts an order stays unpaid with probability 0.3^3 = 2.7% (97.3% expected paid at creation);
// with one attempt, 30%. The bound 88% over the armed orders separates the two with less than 0.1%
// error either way (binomial tails). After an order that stayed unpaid the next one runs without the
// toxic, so the breaker (5 failures in a row) never opens: this experiment is about retries.
const MIN_PAID = 0.88;

export default defineExperiment({
  id: 'payments-flaky',
  title: 'Payments link resets 30% of connections: retries keep orders paid at creation',
  severity: 'critical',
  fault: { kind: 'reset_peer', link: 'payments', toxicity: 0.3, timeoutMs: 0, stream: 'upstream' },
  steadyState: [ready, canCreateOrder, gauge('payments_breaker_state', 0, 'payments breaker closed')],
  during: [
    {
      kind: 'fn',
      name: `retries keep at least ${MIN_PAID * 100}% of orders paid at creation`,
      remediation:
        'Retry failed payments attempts (bounded, exponential backoff with jitter; payments is idempotent by orderId) instead of leaving orders pending',
      run: async (api) => {
        let armed = 0;
        let armedPaid = 0;
        let previousPaid = true;
        const unpaid: string[] = [];
        for (let n = 1; n <= ORDERS; n += 1) {
          if (previousPaid) await api.fault.redraw();
          else await api.fault.suspend();
          const r = await createOrder(api, 3_000);
          const paid = r.status === 201 && bodyStatus(r) === 'paid';
          if (previousPaid) {
            armed += 1;
            if (paid) armedPaid += 1;
            else unpaid.push(`#${n} ${r.status || 'no answer'} ${bodyStatus(r) || r.error || ''}`);
          }
          previousPaid = paid;
        }
        await api.fault.redraw();
        const ratio = armedPaid / armed;
        return {
          ok: ratio >= MIN_PAID,
          detail: `${armedPaid}/${armed} orders paid at creation with the toxic armed (${(ratio * 100).toFixed(1)}%, bound ${MIN_PAID * 100}%)${unpaid.length ? `; left pending: ${unpaid.slice(0, 12).join(', ')}` : ''}`,
          metrics: [{ name: 'paid_at_creation_ratio', value: Number(ratio.toFixed(4)), unit: 'ratio' }],
        };
      },
    },
  ],
  recovery: {
    withinMs: 15_000,
    probes: [ready, gauge('orders_outbox_pending', 0, 'the outbox settled the orders left pending')],
  },
  remediation: 'Retry transient payments failures within a bounded budget',
  tags: ['payments'],
});
