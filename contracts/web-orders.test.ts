import { MatchersV3, PactV4 } from '@pact-foundation/pact';
import { describe, expect, it } from 'vitest';
import { pactOutput } from './pact-output.ts';
import { ApiError, OrdersApi, formatTotal } from './web/orders-api.ts';

// Consumer contract of the web front end on the orders API. Writes contracts/pacts/web-orders.json,
// which the `contract` stage verifies against the running stack. Values the provider must supply
// at verification time (credentials, ids, idempotency keys) come from provider states
// (`fromProviderState`); the bearer token is replaced with a fresh one by the stage's request filter.
const { eachLike, fromProviderState, integer, like, regex, uuid } = MatchersV3;

const pact = new PactV4({ consumer: 'web', provider: 'orders', dir: pactOutput('web-orders.json'), logLevel: 'error' });

const TOKEN = 'example-access-token';
const BEARER = regex('^Bearer [A-Za-z0-9._~+/=-]+$', `Bearer ${TOKEN}`);
const ORDER_ID = 'ce7bcfa7-dc87-48a5-870c-2bcc998d4b8b';
const KEY = 'contract-key-0001';
const ISO_TIME = regex('^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$', '2026-11-23T10:58:57.104Z');

/** The fields of an order the web UI reads. */
const order = (sku = 'TEA', name = 'Green tea', priceCents = 650) => ({
  id: uuid(ORDER_ID),
  status: regex('^(pending_payment|paid|payment_failed)$', 'paid'),
  currency: regex('^(EUR|USD|GBP)$', 'EUR'),
  items: eachLike({
    sku: like(sku),
    name: like(name),
    qty: integer(1),
    unitPriceCents: integer(priceCents),
    lineTotalCents: integer(priceCents),
  }),
  totalCents: integer(priceCents),
  createdAt: ISO_TIME,
});

const errorBody = (code: string, message: string) => ({
  error: code,
  message: like(message),
  requestId: like('5d43dddd-8a3c-4a1e-9c43-3f1f0e6a1b2c'),
});

const tokenPair = {
  accessToken: like('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.example-signature'),
  refreshToken: like('2I6bKFG8P6fgtpU8dpL1LGLL935Zt7nbV7MeLAlC-z4'),
  expiresIn: integer(300),
  tokenType: 'Bearer',
};

/** A rejected call's ApiError (the client throws on every non-2xx). */
async function rejection(call: Promise<unknown>): Promise<ApiError> {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('web -> orders consumer contract', () => {
  it('logs in with valid credentials', async () => {
    await pact
      .addInteraction()
      .given('a customer account exists')
      .uponReceiving('a login with valid credentials')
      .withRequest('POST', '/v1/auth/login', (b) =>
        b.jsonBody({
          email: fromProviderState('${email}', 'customer@example.test'),
          password: fromProviderState('${password}', 'customer-password'),
        }),
      )
      .willRespondWith(200, (b) => b.jsonBody(tokenPair))
      .executeTest(async (mock) => {
        const tokens = await new OrdersApi(mock.url).login('customer@example.test', 'customer-password');
        expect(tokens.expiresIn).toBe(300);
        expect(tokens.accessToken).toMatch(/^eyJ/);
      });
  });

  it('gets 401 with the error shape for a wrong password', async () => {
    await pact
      .addInteraction()
      .given('a customer account exists')
      .uponReceiving('a login with a wrong password')
      .withRequest('POST', '/v1/auth/login', (b) =>
        b.jsonBody({
          email: fromProviderState('${email}', 'customer@example.test'),
          password: 'definitely-the-wrong-password',
        }),
      )
      .willRespondWith(401, (b) => b.jsonBody(errorBody('unauthorized', 'invalid credentials')))
      .executeTest(async (mock) => {
        const error = await rejection(
          new OrdersApi(mock.url).login('customer@example.test', 'definitely-the-wrong-password'),
        );
        expect(error.status).toBe(401);
        expect(error.code).toBe('unauthorized');
      });
  });

  it('rotates a refresh token', async () => {
    await pact
      .addInteraction()
      .given('a customer has a refresh token')
      .uponReceiving('a token refresh')
      .withRequest('POST', '/v1/auth/refresh', (b) =>
        b.jsonBody({ refreshToken: fromProviderState('${refreshToken}', 'r3fr3sh-t0ken-example-0123456789abcdef') }),
      )
      .willRespondWith(200, (b) => b.jsonBody(tokenPair))
      .executeTest(async (mock) => {
        const tokens = await new OrdersApi(mock.url).refresh('r3fr3sh-t0ken-example-0123456789abcdef');
        expect(tokens.refreshToken).not.toBe('r3fr3sh-t0ken-example-0123456789abcdef');
      });
  });

  it('gets 401 for an unknown refresh token', async () => {
    await pact
      .addInteraction()
      .uponReceiving('a token refresh with an unknown refresh token')
      .withRequest('POST', '/v1/auth/refresh', (b) =>
        b.jsonBody({ refreshToken: 'unknown-refresh-token-0000000000000000000000' }),
      )
      .willRespondWith(401, (b) => b.jsonBody(errorBody('unauthorized', 'invalid refresh token')))
      .executeTest(async (mock) => {
        const error = await rejection(new OrdersApi(mock.url).refresh('unknown-refresh-token-0000000000000000000000'));
        expect(error.code).toBe('unauthorized');
      });
  });

  it('reads the signed-in user', async () => {
    await pact
      .addInteraction()
      .given('a customer is signed in')
      .uponReceiving('a request for the signed-in user')
      .withRequest('GET', '/v1/users/me', (b) => b.headers({ authorization: BEARER }))
      .willRespondWith(200, (b) =>
        b.jsonBody({
          id: uuid('20c465d0-e351-4bd2-bed7-ef8d9b1bccda'),
          email: like('customer@example.test'),
          name: like('Customer'),
          role: 'customer',
        }),
      )
      .executeTest(async (mock) => {
        const me = await new OrdersApi(mock.url).me(TOKEN);
        expect(me.role).toBe('customer');
      });
  });

  it('creates an order', async () => {
    await pact
      .addInteraction()
      .given('a customer is signed in')
      .uponReceiving('an order creation')
      .withRequest('POST', '/v1/orders', (b) =>
        b
          .headers({ authorization: BEARER, 'idempotency-key': fromProviderState('${idempotencyKey}', KEY) })
          .jsonBody({ items: [{ sku: 'TEA', qty: 1 }], currency: 'EUR' }),
      )
      .willRespondWith(201, (b) => b.jsonBody(order()))
      .executeTest(async (mock) => {
        const { order: created, replayed } = await new OrdersApi(mock.url).createOrder(TOKEN, KEY, {
          items: [{ sku: 'TEA', qty: 1 }],
          currency: 'EUR',
        });
        expect(replayed).toBe(false);
        expect(formatTotal(created)).toBe('6.50 EUR');
      });
  });

  it('gets the same order back when it retries with the same Idempotency-Key', async () => {
    await pact
      .addInteraction()
      .given('a customer created an order with an idempotency key')
      .uponReceiving('a replayed order creation with the same Idempotency-Key')
      .withRequest('POST', '/v1/orders', (b) =>
        b
          .headers({ authorization: BEARER, 'idempotency-key': fromProviderState('${idempotencyKey}', KEY) })
          .jsonBody({ items: [{ sku: 'TEA', qty: 1 }], currency: 'EUR' }),
      )
      .willRespondWith(200, (b) => b.headers({ 'Idempotent-Replayed': 'true' }).jsonBody(order()))
      .executeTest(async (mock) => {
        const { replayed, order: again } = await new OrdersApi(mock.url).createOrder(TOKEN, KEY, {
          items: [{ sku: 'TEA', qty: 1 }],
          currency: 'EUR',
        });
        expect(replayed).toBe(true);
        expect(again.id).toBe(ORDER_ID);
      });
  });

  it('gets 409 when it reuses an Idempotency-Key with another body', async () => {
    await pact
      .addInteraction()
      .given('a customer created an order with an idempotency key')
      .uponReceiving('an order creation reusing an Idempotency-Key with another body')
      .withRequest('POST', '/v1/orders', (b) =>
        b
          .headers({ authorization: BEARER, 'idempotency-key': fromProviderState('${idempotencyKey}', KEY) })
          .jsonBody({ items: [{ sku: 'COFFEE', qty: 2 }], currency: 'EUR' }),
      )
      .willRespondWith(409, (b) =>
        b.jsonBody(errorBody('conflict', 'Idempotency-Key was already used with a different request body')),
      )
      .executeTest(async (mock) => {
        const error = await rejection(
          new OrdersApi(mock.url).createOrder(TOKEN, KEY, { items: [{ sku: 'COFFEE', qty: 2 }], currency: 'EUR' }),
        );
        expect(error.status).toBe(409);
        expect(error.code).toBe('conflict');
      });
  });

  it('gets a validation error for an unknown SKU', async () => {
    // The orders API answers request-validation errors with 400 `bad_request` (it has no 422).
    await pact
      .addInteraction()
      .given('a customer is signed in')
      .uponReceiving('an order creation with an unknown SKU')
      .withRequest('POST', '/v1/orders', (b) =>
        b
          .headers({ authorization: BEARER, 'idempotency-key': fromProviderState('${idempotencyKey}', KEY) })
          .jsonBody({ items: [{ sku: 'NO-SUCH-SKU', qty: 1 }] }),
      )
      .willRespondWith(400, (b) => b.jsonBody(errorBody('bad_request', 'unknown sku: NO-SUCH-SKU')))
      .executeTest(async (mock) => {
        const error = await rejection(
          new OrdersApi(mock.url).createOrder(TOKEN, KEY, { items: [{ sku: 'NO-SUCH-SKU', qty: 1 }] }),
        );
        expect(error.code).toBe('bad_request');
      });
  });

  it('gets 401 and a Bearer challenge without a token', async () => {
    await pact
      .addInteraction()
      .uponReceiving('an order creation without a token')
      .withRequest('POST', '/v1/orders', (b) =>
        b.headers({ 'idempotency-key': KEY }).jsonBody({ items: [{ sku: 'TEA', qty: 1 }] }),
      )
      .willRespondWith(401, (b) =>
        b.headers({ 'WWW-Authenticate': 'Bearer' }).jsonBody(errorBody('unauthorized', 'authentication required')),
      )
      .executeTest(async (mock) => {
        const error = await rejection(
          new OrdersApi(mock.url).createOrder(undefined, KEY, { items: [{ sku: 'TEA', qty: 1 }] }),
        );
        expect(error.status).toBe(401);
        expect(error.authenticate).toBe('Bearer');
      });
  });

  it('reads one of its own orders', async () => {
    await pact
      .addInteraction()
      .given('a customer has an order')
      .uponReceiving("a request for one of the customer's orders")
      .withRequest('GET', fromProviderState('/v1/orders/${orderId}', `/v1/orders/${ORDER_ID}`), (b) =>
        b.headers({ authorization: BEARER }),
      )
      .willRespondWith(200, (b) => b.jsonBody(order()))
      .executeTest(async (mock) => {
        const found = await new OrdersApi(mock.url).getOrder(TOKEN, ORDER_ID);
        expect(found.id).toBe(ORDER_ID);
        expect(formatTotal(found)).toBe('6.50 EUR');
      });
  });

  it("gets 404 for another customer's order", async () => {
    await pact
      .addInteraction()
      .given('another customer has an order')
      .uponReceiving("a request for another customer's order")
      .withRequest('GET', fromProviderState('/v1/orders/${orderId}', `/v1/orders/${ORDER_ID}`), (b) =>
        b.headers({ authorization: BEARER }),
      )
      .willRespondWith(404, (b) => b.jsonBody(errorBody('not_found', 'order not found')))
      .executeTest(async (mock) => {
        const error = await rejection(new OrdersApi(mock.url).getOrder(TOKEN, ORDER_ID));
        expect(error.status).toBe(404);
        expect(error.code).toBe('not_found');
      });
  });

  it('lists its orders one page at a time', async () => {
    await pact
      .addInteraction()
      .given('a customer has two orders')
      .uponReceiving("a request for the customer's orders, one per page")
      .withRequest('GET', '/v1/orders', (b) => b.query({ limit: '1' }).headers({ authorization: BEARER }))
      .willRespondWith(200, (b) =>
        b.jsonBody({ items: eachLike(order(), 1), nextCursor: like('WyIyMDI2LTExLTIzVDEwOjU4OjU3LjEwNFoiXQ') }),
      )
      .executeTest(async (mock) => {
        const page = await new OrdersApi(mock.url).listOrders(TOKEN, 1);
        expect(page.items).toHaveLength(1);
        expect(page.nextCursor).not.toBeNull();
      });
  });

  it('gets 403 when a customer asks for the audit log', async () => {
    await pact
      .addInteraction()
      .given('a customer is signed in')
      .uponReceiving("a customer's request for the audit log")
      .withRequest('GET', '/v1/admin/audit', (b) => b.headers({ authorization: BEARER }))
      .willRespondWith(403, (b) => b.jsonBody(errorBody('forbidden', 'admin role required')))
      .executeTest(async (mock) => {
        const error = await rejection(new OrdersApi(mock.url).auditLog(TOKEN));
        expect(error.status).toBe(403);
        expect(error.code).toBe('forbidden');
      });
  });
});
