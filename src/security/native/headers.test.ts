import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bannerHeaders, missingSecurityHeaders } from './headers.ts';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/security');

/** Headers of a recorded `curl -D` dump, lower-cased. */
async function headers(name: string): Promise<Record<string, string>> {
  const text = await readFile(join(FIXTURES, name), 'utf8');
  return Object.fromEntries(
    text
      .split(/\r?\n/)
      .slice(1)
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
}

describe('security headers (recorded GET /v1/products of fixtures/stack)', () => {
  it('the healthy stack sends everything, HSTS included', async () => {
    const h = await headers('headers-healthy.txt');
    expect(missingSecurityHeaders(h, true)).toEqual([]);
    expect(bannerHeaders(h)).toEqual([]);
  });

  it('FRAGILE=no-headers misses them all and advertises the stack', async () => {
    const h = await headers('headers-no-headers.txt');
    expect(missingSecurityHeaders(h, false)).toEqual([
      'Content-Security-Policy',
      'X-Content-Type-Options: nosniff',
      "frame protection (X-Frame-Options DENY/SAMEORIGIN or CSP frame-ancestors 'none'/'self')",
    ]);
    expect(missingSecurityHeaders(h, true)).toContain('Strict-Transport-Security (max-age)');
    expect(bannerHeaders(h)).toEqual(['X-Powered-By: Express', 'Server: Fastify/5.12.8 Node.js/v24.21.0']);
  });

  it('accepts CSP frame-ancestors as frame protection and a versionless Server header', () => {
    const h = {
      'content-security-policy': "frame-ancestors 'self'",
      'x-content-type-options': 'nosniff',
      server: 'nginx',
    };
    expect(missingSecurityHeaders(h, false)).toEqual([]);
    expect(bannerHeaders(h)).toEqual([]);
  });
});
