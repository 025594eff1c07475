import { MatchersV3, PactV4 } from '@pact-foundation/pact';
import { beforeAll, describe, expect, it } from 'vitest';
import { pactOutput } from './pact-output.ts';

// Consumer contract of the orders service on payments, written against the orders service's real
// payments client (fixtures/stack/src/orders/payments-client.ts, run by Node's type stripping):
// its retries, breaker and error mapping are what talks to Pact's mock. Writes
// contracts/pacts/orders-payments.json. The client is loaded by URL so that the harness's type
// check does not pull in the stack's own dependencies (fastify and prom-client types, which are
// only installed under fixtures/stack); the shape below is the part of it this test uses.
const { fromProviderState, integer, like, regex, uuid } = MatchersV3;

interface Charge {
  readonly id: string;
  readonly orderId: string;
  readonly amountCents: number;
  readonly status: string;
}

interface PaymentsClient {
  charge(orderId: string, amountCents: number, requestId: string, maxAttempts?: number): Promise<Charge>;
  healthy(timeoutMs: number): Promise<boolean>;
}

interface PaymentsClientModule {
  PaymentsClient: {
    new (config: unknown, log: unknown, attempts: unknown, breaker: unknown): PaymentsClient;
    breakerFor(config: unknown, onChange: (state: string) => void): unknown;
  };
  PaymentRejectedError: new (status: number) => Error & { readonly status: number };
}

const CLIENT_URL = new URL('../fixtures/stack/src/orders/payments-client.ts', import.meta.url).href;
const pact = new PactV4({
  consumer: 'orders',
  provider: 'payments',
  dir: pactOutput('orders-payments.json'),
  logLevel: 'error',
});

const ORDER_ID = '6d49388f-8ecc-4fd7-a6ec-77a6b3541dd2';
const REQUEST_ID = 'contract-request-1';

let mod: PaymentsClientModule;

/** The client as the orders service builds it (config.ts defaults), pointed at the mock server. */
function clientFor(baseUrl: string): PaymentsClient {
  const config = {
    paymentsUrl: baseUrl,
    fragile: new Set<string>(),
    payments: { timeoutMs: 2_000, maxAttempts: 3, backoffBaseMs: 50, breakerThreshold: 5, breakerResetMs: 3_000 },
  };
  const log = { debug: () => undefined };
  const attempts = { inc: () => undefined };
  return new mod.PaymentsClient(
    config,
    log,
    attempts,
    mod.PaymentsClient.breakerFor(config, () => undefined),
  );
}

const charge = (amountCents: number) => ({
  id: regex('^ch_[0-9a-f-]{36}$', 'ch_0b7e7a3c-5a43-4c1e-9b1f-3f0e6a1b2c3d'),
  orderId: uuid(ORDER_ID),
  amountCents: integer(amountCents),
  status: 'succeeded',
  createdAt: regex('^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$', '2026-11-23T10:58:57.110Z'),
});

const chargeRequest = (amountCents: number) => ({
  orderId: fromProviderState('${orderId}', ORDER_ID),
  amountCents,
});

const headers = { 'x-request-id': regex('^[A-Za-z0-9._:-]{1,128}$', REQUEST_ID) };

async function rejectedStatus(call: Promise<unknown>): Promise<number> {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(mod.PaymentRejectedError);
  return (error as { status: number }).status;
}

describe('orders -> payments consumer contract (the orders payments client)', () => {
  beforeAll(async () => {
    mod = (await import(CLIENT_URL)) as PaymentsClientModule;
  });

  it('charges a new order', async () => {
    await pact
      .addInteraction()
      .given('no charge exists for an order')
      .uponReceiving('a charge for a new order')
      .withRequest('POST', '/v1/charges', (b) => b.headers(headers).jsonBody(chargeRequest(650)))
      .willRespondWith(201, (b) => b.jsonBody(charge(650)))
      .executeTest(async (mock) => {
        const result = await clientFor(mock.url).charge(ORDER_ID, 650, REQUEST_ID);
        expect(result.orderId).toBe(ORDER_ID);
        expect(result.status).toBe('succeeded');
      });
  });

  it('gets the existing charge back when it charges the same order again', async () => {
    await pact
      .addInteraction()
      .given('an order was charged', { amountCents: 650 })
      .uponReceiving('a repeated charge for an already charged order')
      .withRequest('POST', '/v1/charges', (b) => b.headers(headers).jsonBody(chargeRequest(650)))
      .willRespondWith(200, (b) => b.jsonBody(charge(650)))
      .executeTest(async (mock) => {
        const result = await clientFor(mock.url).charge(ORDER_ID, 650, REQUEST_ID);
        expect(result.amountCents).toBe(650);
      });
  });

  it('gets a final 409 (no retry) for the same order with another amount', async () => {
    await pact
      .addInteraction()
      .given('an order was charged', { amountCents: 650 })
      .uponReceiving('a charge with another amount for an already charged order')
      .withRequest('POST', '/v1/charges', (b) => b.headers(headers).jsonBody(chargeRequest(999)))
      .willRespondWith(409, (b) =>
        b.jsonBody({
          error: 'conflict',
          message: like('order already charged with a different amount'),
          requestId: like(REQUEST_ID),
        }),
      )
      .executeTest(async (mock) => {
        expect(await rejectedStatus(clientFor(mock.url).charge(ORDER_ID, 999, REQUEST_ID))).toBe(409);
      });
  });

  it('gets a final 400 (no retry) for an invalid amount', async () => {
    await pact
      .addInteraction()
      .given('no charge exists for an order')
      .uponReceiving('a charge with an invalid amount')
      .withRequest('POST', '/v1/charges', (b) => b.headers(headers).jsonBody(chargeRequest(0)))
      .willRespondWith(400, (b) =>
        b.jsonBody({
          error: 'bad_request',
          message: like('body/amountCents must be >= 1'),
          requestId: like(REQUEST_ID),
        }),
      )
      .executeTest(async (mock) => {
        expect(await rejectedStatus(clientFor(mock.url).charge(ORDER_ID, 0, REQUEST_ID))).toBe(400);
      });
  });

  it('probes payments readiness', async () => {
    await pact
      .addInteraction()
      .uponReceiving('a readiness probe')
      .withRequest('GET', '/health/ready')
      .willRespondWith(200, (b) => b.jsonBody({ status: 'ready' }))
      .executeTest(async (mock) => {
        expect(await clientFor(mock.url).healthy(2_000)).toBe(true);
      });
  });
});
