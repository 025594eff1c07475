import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/seed.ts';
import { getPath, helloBytes, renderTemplate, seededUuid } from './templates.ts';

describe('templates', () => {
  it('fills placeholders, keeping whole numeric placeholders numbers', () => {
    const out = renderTemplate(
      { items: [{ sku: '{{pick:TEA}}', qty: '{{seq}}' }], note: 'write {{seq}} of {{user}}', n: 3, ok: true },
      { seq: 7, user: 'u1' },
      seededRandom(1),
    );
    expect(out).toEqual({ items: [{ sku: 'TEA', qty: 7 }], note: 'write 7 of u1', n: 3, ok: true });
  });

  it('derives uuids and picks from the seed, so data replays', () => {
    const a = renderTemplate({ k: '{{uuid}}', p: '{{pick:A,B,C}}' }, {}, seededRandom(42));
    const b = renderTemplate({ k: '{{uuid}}', p: '{{pick:A,B,C}}' }, {}, seededRandom(42));
    expect(a).toEqual(b);
    expect(seededUuid(seededRandom(3))).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('refuses an unknown placeholder instead of sending it literally', () => {
    expect(() => renderTemplate({ a: '{{sequ}}' }, { seq: 1 }, seededRandom(1))).toThrow(
      /unknown template placeholder \{\{sequ\}\}/,
    );
  });

  it('reads dotted paths and link hellos', () => {
    expect(getPath({ checks: { redis: 'up' }, items: [{ qty: 2 }] }, 'items.0.qty')).toBe(2);
    expect(getPath({ a: 1 }, 'a.b')).toBeUndefined();
    expect(helloBytes('hex:0000000804d2162f')).toHaveLength(8);
    expect(helloBytes('PING\r\n').toString()).toBe('PING\r\n');
  });
});

describe('template expressions and filters', () => {
  const random = (): number => 0.5;
  it('joins terms and literals and encodes them', () => {
    const vars = { username: 'ada', password: 'p:w d&x' };
    expect(renderTemplate('Basic {{username + ":" + password | base64}}', vars, random)).toBe(
      `Basic ${Buffer.from('ada:p:w d&x').toString('base64')}`,
    );
    expect(renderTemplate('u={{username}}&p={{ password | url }}', vars, random)).toBe('u=ada&p=p%3Aw%20d%26x');
    expect(renderTemplate('{{"a|b+c" + username | base64url}}', vars, random)).toBe(
      Buffer.from('a|b+cada').toString('base64url'),
    );
  });
  it('keeps a lone numeric variable a number, and a filtered one text', () => {
    expect(renderTemplate('{{seq}}', { seq: 7 }, random)).toBe(7);
    expect(renderTemplate('{{seq | url}}', { seq: 7 }, random)).toBe('7');
  });
  it('refuses an unknown filter or name', () => {
    expect(() => renderTemplate('{{username | rot13}}', { username: 'a' }, random)).toThrow(/unknown template filter/);
    expect(() => renderTemplate('{{nobody}}', { username: 'a' }, random)).toThrow(/unknown template placeholder/);
  });
});
