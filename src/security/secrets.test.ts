import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifiesHmac } from './jwt.ts';
import { STRENGTH_BOUND, findWeakSecret, redactSecret, secretStrength } from './secrets.ts';
import { WEAK_SECRETS } from './weak-secrets.ts';

/** Recorded and minted tokens (test/fixtures/security/README.md). */
const tokens = JSON.parse(
  readFileSync(new URL('../../test/fixtures/security/jwt-tokens.json', import.meta.url), 'utf8'),
) as Record<'jwtIoExample' | 'ordersWeakSecret' | 'ordersHealthy' | 'hs512JwtSecret' | 'rs256', string>;

/** The key orders signs with under FRAGILE=weak-jwt-secret, and the reference stack's healthy JWT_SECRET. */
const PLANTED = 'changeme-changeme-changeme-changeme';
const HEALTHY = 'reference-stack-jwt-secret-0123456789abcdef';

describe('the shipped list of weak secrets', () => {
  it('is a few hundred distinct, non-empty secrets', () => {
    expect(WEAK_SECRETS.length).toBeGreaterThanOrEqual(200);
    expect(WEAK_SECRETS.length).toBeLessThanOrEqual(500);
    expect(new Set(WEAK_SECRETS).size).toBe(WEAK_SECRETS.length);
    expect(WEAK_SECRETS.filter((s) => s.length === 0)).toEqual([]);
  });
});

describe('verifiesHmac', () => {
  it('verifies the HS256 and HS512 tokens with their keys only', () => {
    expect(verifiesHmac(tokens.jwtIoExample, 'HS256', 'your-256-bit-secret')).toBe(true);
    expect(verifiesHmac(tokens.jwtIoExample, 'HS256', 'your-256-bit-secreT')).toBe(false);
    expect(verifiesHmac(tokens.ordersHealthy, 'HS256', HEALTHY)).toBe(true);
    expect(verifiesHmac(tokens.hs512JwtSecret, 'HS512', 'jwt_secret')).toBe(true);
    expect(verifiesHmac(tokens.hs512JwtSecret, 'HS256', 'jwt_secret')).toBe(false);
  });
});

describe('findWeakSecret: dictionary forgery, offline', () => {
  it("finds jwt.io's example secret by its position, redacted", () => {
    const found = findWeakSecret(tokens.jwtIoExample);
    expect(found).toEqual({
      kind: 'weak',
      alg: 'HS256',
      tried: 1,
      position: 1,
      hint: '"yo…" (19 characters)',
    });
  });

  it('finds a long (35 characters) but repeated key, whatever its length', () => {
    const found = findWeakSecret(tokens.ordersWeakSecret);
    expect(found.kind).toBe('weak');
    if (found.kind !== 'weak') return;
    expect(WEAK_SECRETS[found.position - 1]).toBe(PLANTED);
    expect(found.hint).toBe('"ch…" (35 characters)');
    expect(JSON.stringify(found)).not.toContain(PLANTED);
  });

  it('tries HS512 with the HS512 hash', () => {
    const found = findWeakSecret(tokens.hs512JwtSecret);
    expect(found).toMatchObject({ kind: 'weak', alg: 'HS512' });
  });

  it('passes a token signed with a key not in the list, after trying all of it', () => {
    expect(findWeakSecret(tokens.ordersHealthy)).toEqual({ kind: 'clean', alg: 'HS256', tried: WEAK_SECRETS.length });
  });

  it('is not applicable to an asymmetric, unsigned or non-JWT token, with the reason', () => {
    expect(findWeakSecret(tokens.rs256)).toEqual({
      kind: 'not-applicable',
      reason: expect.stringMatching(/signed with RS256, not an HMAC/),
    });
    const [, payload] = tokens.ordersHealthy.split('.');
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expect(findWeakSecret(unsigned)).toEqual({ kind: 'not-applicable', reason: 'the token is unsigned (alg none)' });
    expect(findWeakSecret('0123456789abcdef')).toEqual({
      kind: 'not-applicable',
      reason: expect.stringMatching(/^the token is not a JWT/),
    });
  });
});

describe('secretStrength (zxcvbn)', () => {
  it('fails the planted key although it is 35 characters long: a repeat, and listed', () => {
    const strength = secretStrength(PLANTED);
    expect(PLANTED.length).toBeGreaterThanOrEqual(32);
    expect(strength.score).toBeLessThan(STRENGTH_BOUND.minScore);
    expect(strength.patterns.some((p) => p.startsWith('repeat'))).toBe(true);
    expect(strength.shortfalls).toContain(
      `entry ${WEAK_SECRETS.indexOf(PLANTED) + 1} of the shipped list of well-known weak secrets`,
    );
    expect(JSON.stringify(strength)).not.toContain('changeme');
  });

  it('fails repeated and dictionary keys of any length, not in the list', () => {
    for (const key of ['orders'.repeat(8), 'correcthorsebatterystaple', 'passwordpassword1passwordpassword1']) {
      expect(secretStrength(key).shortfalls, key).not.toEqual([]);
    }
  });

  it("passes the reference stack's key and a random one", () => {
    expect(secretStrength(HEALTHY).shortfalls).toEqual([]);
    expect(secretStrength('q7Vt2mXp9LzR4sKw8NbY3cHf6JdG1eUa').shortfalls).toEqual([]);
  });
});

describe('redactSecret', () => {
  it('shows at most two characters, none of a short secret', () => {
    expect(redactSecret('secret')).toBe('"…" (6 characters)');
    expect(redactSecret('abcdefghij')).toBe('"ab…" (10 characters)');
  });
});
