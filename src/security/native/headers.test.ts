import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HttpExchange } from '../http.ts';
import { bannerHeaders, judgeBanners, judgeCors, judgeRequiredHeaders, missingSecurityHeaders } from './headers.ts';

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

describe('judging header answers', () => {
  const answer = (path: string, headers: Record<string, string>): HttpExchange => ({
    method: 'GET',
    path,
    url: `http://127.0.0.1:8080${path}`,
    status: 200,
    headers,
    setCookies: [],
    body: '',
    latencyMs: 1,
    correlationId: 'c',
    throttled: 0,
  });

  it('fails missing security headers per path and notes HSTS is not required on plain HTTP', () => {
    const bare = judgeRequiredHeaders([answer('/v1/a', {})], false);
    expect(bare.status).toBe('failed');
    expect(bare.message).toMatch(/^\d+ header problems: GET \/v1\/a: missing /);
    expect(bare.message).not.toContain('Strict-Transport-Security');
    expect(judgeRequiredHeaders([], false).message).toBe(
      'all 0 paths send the security headers (HSTS not required: the target is plain HTTP; set security.target.tls when clients use TLS)',
    );
  });

  it('fails a technology banner and passes without one', () => {
    const banner = judgeBanners([answer('/v1/a', { 'x-powered-by': 'Express' })]);
    expect(banner.status).toBe('failed');
    expect(banner.message).toMatch(/^technology banners sent: GET \/v1\/a: /);
    expect(judgeBanners([answer('/v1/a', {})])).toEqual({ status: 'passed', message: 'no banner on 1 paths' });
  });

  it('fails CORS that echoes the origin, allows null, or allows * with credentials', () => {
    const origin = 'https://evil.example';
    const none = { what: 'GET /', allow: undefined, credentials: undefined };
    expect(judgeCors(origin, [none, { ...none, what: 'OPTIONS / (preflight)' }]).status).toBe('passed');
    expect(judgeCors(origin, [{ ...none, allow: origin }]).message).toBe(
      'GET / allowed the unlisted origin https://evil.example',
    );
    expect(judgeCors(origin, [{ ...none, allow: 'null' }]).status).toBe('failed');
    expect(judgeCors(origin, [{ ...none, allow: '*', credentials: 'TRUE' }]).status).toBe('failed');
    expect(judgeCors(origin, [{ ...none, allow: '*' }]).status).toBe('passed');
  });
});
