import { describe, expect, it } from 'vitest';
import { render, renderString, renderText, valueAt } from './templates.ts';

const scope = {
  orderId: 'o-1',
  params: { amountCents: 650, nested: { ok: true } },
  principals: { customer: { email: 'c@example.test' } },
  items: [{ id: 'first' }],
};

describe('templates', () => {
  it('fills placeholders inside text, with dotted paths and array indexes', () => {
    expect(renderText('/v1/orders/{{orderId}}?by={{ principals.customer.email }}', scope)).toBe(
      '/v1/orders/o-1?by=c@example.test',
    );
    expect(renderText('{{items.0.id}}-x', scope)).toBe('first-x');
  });

  it('keeps the JSON type when the whole string is one placeholder', () => {
    expect(renderString('{{params.amountCents}}', scope)).toBe(650);
    expect(render({ amountCents: '{{params.amountCents}}', n: '{{params.nested}}', keep: 3 }, scope)).toEqual({
      amountCents: 650,
      n: { ok: true },
      keep: 3,
    });
    expect(renderText('amount={{params.amountCents}}', scope)).toBe('amount=650');
  });

  it('gives a fresh UUID for every {{uuid}}', () => {
    const a = renderText('{{uuid}}', scope);
    const b = renderText('{{uuid}}', scope);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
  });

  it('names the missing variable and what is known instead of sending "undefined"', () => {
    expect(() => renderText('/v1/orders/{{orderID}}', scope)).toThrow(
      'template names "{{orderID}}", which is not set (known: orderId, params, principals, items)',
    );
  });

  it('valueAt walks objects and arrays and stops at scalars', () => {
    expect(valueAt({ a: [{ b: 1 }] }, 'a.0.b')).toBe(1);
    expect(valueAt({ a: 'x' }, 'a.b')).toBeUndefined();
    expect(valueAt(undefined, 'a')).toBeUndefined();
  });
});
