import { defineExperiment } from '../../src/faults/index.ts';
import { bodyStatus, canCreateOrder, createOrder, gauge, ready } from './_reference.ts';

const ORDERS = 100;
// Toxiproxy draws toxicity per connection, and orders keeps its payments connection alive, so the
// toxic is re-drawn before each order: every attempt then meets a reset with probability 0.3. The
// reference orders makes up to 8 attempts within a deadline that holds all of them, so an order stays
// unpaid with probability 0.3^8 = 0.007%. After an order that stayed unpaid the next one runs without
// the toxic (so failed charges never follow each other and open the breaker), and is not counted: orders are made until ORDERS of them
// were made with the toxic armed, so the bound is over ORDERS orders whatever happened. (Counting loop
// turns instead left 99 armed orders after one unpaid: 98/99 = 98.99% < 99%, a bound that allowed no
// unpaid order at all.) With one attempt (no-retry), 30%. The service's rate limit (100 requests per
// 10 s per user) would answer 429 to the last orders: a 429 is waited out (Retry-After) and the order
// made again, since it says nothing about payments.
const MIN_PAID = 0.99;
const MAX_RATE_LIMITED = 10;

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
        let rateLimited = 0;
        // Every unpaid armed order costs one unarmed order after it: at most 2 x ORDERS in all.
        for (let n = 1; armed < ORDERS && n <= 2 * ORDERS; n += 1) {
          if (previousPaid) await api.fault.redraw();
          else await api.fault.suspend();
          const r = await createOrder(api, 3_000);
          if (r.status === 429 && rateLimited < MAX_RATE_LIMITED) {
            rateLimited += 1;
            const waitS = Math.min(Number(r.headers['retry-after']) || 1, 10);
            api.log(`order #${n}: 429, waiting ${waitS}s (Retry-After) before making it again`);
            await api.clock.sleep(waitS * 1_000, api.signal);
            n -= 1;
            continue;
          }
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
