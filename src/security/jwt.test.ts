import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeJwt, forgeSignature, resign, signHs256, unsecuredJwt } from './jwt.ts';

const KEY = 'test-key-0123456789abcdef0123456789';
const verify = (token: string, key: string): boolean => {
  const [h, p, s] = token.split('.');
  return createHmac('sha256', key).update(`${h}.${p}`).digest('base64url') === s;
};
const token = signHs256(
  { typ: 'JWT' },
  { sub: 'u1', role: 'customer', iss: 'issuer', aud: 'api', exp: 2_000_000_000 },
  KEY,
);

describe('JWT forging for the token checks', () => {
  it('signs HS256 tokens that verify with the key, and decodes them', () => {
    expect(verify(token, KEY)).toBe(true);
    expect(decodeJwt(token)).toMatchObject({
      header: { alg: 'HS256', typ: 'JWT' },
      payload: { sub: 'u1', role: 'customer' },
    });
  });

  it('forges a signature that does not verify, keeping the claims', () => {
    const forged = forgeSignature(token);
    expect(verify(forged, KEY)).toBe(false);
    expect(decodeJwt(forged).payload).toEqual(decodeJwt(token).payload);
  });

  it('makes an unsecured alg:none token with an empty signature', () => {
    const none = unsecuredJwt(token);
    expect(none.endsWith('.')).toBe(true);
    expect(decodeJwt(none).header['alg']).toBe('none');
    expect(decodeJwt(none).payload['sub']).toBe('u1');
  });

  it('re-signs with changed or removed claims, still valid under the key', () => {
    const expired = resign(token, KEY, { exp: 1, nbf: undefined, aud: 'other' });
    expect(verify(expired, KEY)).toBe(true);
    expect(decodeJwt(expired).payload).toMatchObject({ exp: 1, aud: 'other', sub: 'u1' });
    expect('nbf' in decodeJwt(expired).payload).toBe(false);
  });

  it('refuses what is not a compact JWT', () => {
    expect(() => decodeJwt('opaque-token')).toThrow(/not a compact JWT/);
    expect(() => decodeJwt('a.b.c')).toThrow(/not base64url JSON/);
  });
});
