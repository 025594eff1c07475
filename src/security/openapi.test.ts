import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseRequest, describeField, parseOpenApi, renderRequest, stringFields } from './openapi.ts';

const DOC = join(import.meta.dirname, '../../test/fixtures/security/openapi-orders.json');
const load = async () => parseOpenApi(JSON.parse(await readFile(DOC, 'utf8')));

describe('OpenAPI operations (recorded /openapi.json of fixtures/stack orders)', () => {
  it('lists every operation with its parameters, JSON body and security', async () => {
    const doc = await load();
    expect(doc.operations.map((o) => o.key)).toContain('POST /v1/orders');
    expect(doc.operations).toHaveLength(14);
    const create = doc.operations.find((o) => o.key === 'POST /v1/orders');
    expect(create?.secured).toBe(true);
    expect(create?.parameters.map((p) => `${p.in} ${p.name}`)).toEqual(['header idempotency-key']);
    expect(doc.operations.find((o) => o.key === 'POST /v1/auth/login')?.secured).toBe(false);
  });

  it('finds every string field: parameters and body leaves, into arrays', async () => {
    const doc = await load();
    const fields = (key: string) => {
      const op = doc.operations.find((o) => o.key === key);
      if (!op) throw new Error(key);
      return stringFields(doc, op).map(describeField);
    };
    expect(fields('POST /v1/orders')).toEqual(['header idempotency-key', 'body items[0].sku', 'body currency']);
    expect(fields('POST /v1/users')).toEqual(['body email', 'body name', 'body password']);
    expect(fields('GET /v1/orders/{id}')).toEqual(['path id']);
    expect(fields('GET /v1/admin/audit')).toEqual(['query cursor', 'query userId']);
    expect(fields('GET /health/live')).toEqual([]);
  });

  it('renders a plausible request and puts a payload into one field, encoded for its place', async () => {
    const doc = await load();
    const create = doc.operations.find((o) => o.key === 'POST /v1/orders');
    const byId = doc.operations.find((o) => o.key === 'GET /v1/orders/{id}');
    if (!create || !byId) throw new Error('operations missing');
    const base = baseRequest(doc, create);
    const plain = renderRequest(base);
    expect(plain.method).toBe('POST');
    expect(JSON.parse(plain.body ?? '')).toMatchObject({
      items: [{ sku: expect.any(String), qty: 1 }],
      currency: 'EUR',
    });
    expect(plain.headers?.['idempotency-key']).toEqual(expect.any(String));
    const injected = renderRequest(base, { in: 'body', path: ['items', 0, 'sku'] }, "' OR 1=1 --");
    expect(JSON.parse(injected.body ?? '')).toMatchObject({ items: [{ sku: "' OR 1=1 --", qty: 1 }] });
    expect(renderRequest(baseRequest(doc, byId), { in: 'path', name: 'id' }, '../x?y').path).toBe(
      '/v1/orders/..%2Fx%3Fy',
    );
  });
});
