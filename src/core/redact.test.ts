import { cp, mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REDACTED, createRedactor, scrubFiles } from './redact.ts';

/** Recorded k6 summary exports of the reference stack: their `setup_data` holds the users' live tokens. */
const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'load');
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\./;

describe('createRedactor', () => {
  const redact = createRedactor(['hunter2-secret', 'db-pass']);

  it('removes literal secrets, longest first', () => {
    expect(redact('password is hunter2-secret and db-pass')).toBe(`password is ${REDACTED} and ${REDACTED}`);
  });

  it('removes JWTs, bearer headers and secret JSON fields', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    const text = `{"accessToken":"opaque-123","password":"x y z"} Authorization: Bearer abc.def ${jwt}`;
    const out = redact(text);
    expect(out).not.toContain('opaque-123');
    expect(out).not.toContain('x y z');
    expect(out).not.toContain('abc.def');
    expect(out).not.toContain(jwt);
    expect(out).toContain(`"accessToken":"${REDACTED}"`);
  });

  it('removes passwords in connection strings but keeps the rest', () => {
    expect(redact('postgres://app:s3cr3t@postgres:5432/app')).toBe(`postgres://app:${REDACTED}@postgres:5432/app`);
  });

  it('leaves ordinary text alone', () => {
    expect(redact('GET /health/ready -> 503')).toBe('GET /health/ready -> 503');
  });
});

describe('createRedactor: credential shapes', () => {
  const redact = createRedactor([], { credentialHeaders: ['X-Tenant-Secret'] });
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

  it.each([
    ['a bearer token in a log line', 'retrying with Bearer op4que-T0ken_value', `retrying with Bearer ${REDACTED}`],
    ['basic credentials', 'curl -H "Authorization: Basic dXNlcjpwYXNz"', `curl -H "Authorization: Basic ${REDACTED}"`],
    ['a bare token in an authorization header', 'authorization: 9f8e7d6c5b4a', `authorization: ${REDACTED}`],
    ['a custom scheme with a token', 'Authorization: Custom k-9f8e7d6c', `Authorization: Custom ${REDACTED}`],
    ['an authorization JSON field', `{"authorization":"Bearer ${jwt}"}`, `{"authorization":"Bearer ${REDACTED}"}`],
    ['a cookie header', 'Cookie: sid=s%3Aabc123; theme=dark', `Cookie: sid=${REDACTED}; theme=${REDACTED}`],
    [
      'a set-cookie header, keeping its attributes',
      'set-cookie: sid=abc123; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax',
      `set-cookie: sid=${REDACTED}; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax`,
    ],
    ['an x-api-key header', 'x-api-key: k-123', `x-api-key: ${REDACTED}`],
    ['an api-key JSON field', '{"Api-Key": "k-123", "other": 1}', `{"Api-Key": "${REDACTED}", "other": 1}`],
    ['a token header', 'X-Auth-Token: abc', `X-Auth-Token: ${REDACTED}`],
    ['a configured credential header', 'x-tenant-secret: plain', `x-tenant-secret: ${REDACTED}`],
    ['a refresh token field', '{"refreshToken":"r-1","id":"o-1"}', `{"refreshToken":"${REDACTED}","id":"o-1"}`],
    ['secret fields in JSON escaped inside JSON', '"{\\"token\\":\\"t-1\\"}"', `"{\\"token\\":\\"${REDACTED}\\"}"`],
    ['a JWT anywhere', `token=${jwt}&x=1`, `token=${REDACTED}&x=1`],
    ['a JWT after a dash or an underscore', `jwt-${jwt} jwt_${jwt}`, `jwt-${REDACTED} jwt_${REDACTED}`],
  ])('redacts %s', (_what, input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  it.each([
    ['prose about bearer authentication', 'Bearer authentication is required (401 without Authorization)'],
    ['cookie flags in a finding', 'Set-Cookie without HttpOnly; Secure flag missing'],
    ['an empty password field', '{"password":""}'],
    ['a header already redacted', `Authorization: Bearer ${REDACTED}`],
    ['prose after an authorization header name', 'Authorization: missing or invalid (expected 401)'],
  ])('leaves %s as it is', (_what, input) => {
    expect(redact(input)).toBe(input);
  });

  it('redacts values registered during the run from then on', () => {
    const minted = 'opaque-session-4f1c9a';
    const runtime = createRedactor();
    expect(runtime(`session ${minted}`)).toBe(`session ${minted}`);
    runtime.register(minted, 'abc');
    expect(runtime(`session ${minted}, again ${minted}`)).toBe(`session ${REDACTED}, again ${REDACTED}`);
    // Too short to be told from ordinary text.
    expect(runtime('abc')).toBe('abc');
  });

  it("removes every token from k6's recorded summary export (setup() data) and keeps it valid JSON", async () => {
    const text = await readFile(join(FIXTURES, 'baseline.summary.json'), 'utf8');
    expect(text).toMatch(JWT_SHAPE);
    const out = redact(text);
    expect(out).not.toMatch(JWT_SHAPE);
    const parsed = JSON.parse(out) as { setup_data: { users: { token: string }[] }; metrics: unknown };
    expect(parsed.setup_data.users.every((u) => u.token === REDACTED)).toBe(true);
    expect(parsed.metrics).toEqual((JSON.parse(text) as { metrics: unknown }).metrics);
  });
});

describe('scrubFiles', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzY3J1YiJ9.c2lnbmF0dXJlLXNjcnVi';

  it('redacts every text file of a run folder in place, leaves binary files and clean files untouched', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-scrub-'));
    await mkdir(join(dir, 'load'));
    await mkdir(join(dir, 'allure-results'));
    await cp(join(FIXTURES, 'fault-phase.summary.json'), join(dir, 'load', 'fault-phase.summary.json'));
    await writeFile(join(dir, 'allure-results', 'a-attachment.txt'), `GET /orders\nauthorization: Bearer ${jwt}\n`);
    await writeFile(join(dir, 'clean.md'), 'nothing to hide\n');
    const pdf = Buffer.from(`%PDF-1.7 ${jwt}`);
    await writeFile(join(dir, 'certificate.pdf'), pdf);
    const blob = Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(jwt)]);
    await writeFile(join(dir, 'blob'), blob);
    const latin1 = Buffer.concat([Buffer.from('caf\xe9 ', 'latin1'), Buffer.from(`Bearer ${jwt}\n`)]);
    await writeFile(join(dir, 'legacy.log'), latin1);

    const bundle = `headers:{apiKey:e.apiKey,"x-api-key":n}\n`;
    await mkdir(join(dir, 'allure-report'));
    await writeFile(join(dir, 'allure-report', 'app.js'), bundle);

    const report = await scrubFiles(dir, createRedactor(), { skip: ['allure-report/'] });

    expect(await readFile(join(dir, 'allure-report', 'app.js'), 'utf8')).toBe(bundle);
    expect(report.rewritten).toEqual([
      join('allure-results', 'a-attachment.txt'),
      'legacy.log',
      join('load', 'fault-phase.summary.json'),
    ]);
    expect(report.binary).toEqual(['blob', 'certificate.pdf']);
    expect(report.scanned).toBe(4);
    expect(await readFile(join(dir, 'load', 'fault-phase.summary.json'), 'utf8')).not.toMatch(JWT_SHAPE);
    expect(await readFile(join(dir, 'allure-results', 'a-attachment.txt'), 'utf8')).toBe(
      `GET /orders\nauthorization: Bearer ${REDACTED}\n`,
    );
    expect(await readFile(join(dir, 'certificate.pdf'))).toEqual(pdf);
    expect(await readFile(join(dir, 'blob'))).toEqual(blob);
    // A non-UTF-8 file keeps its other bytes exactly.
    expect(await readFile(join(dir, 'legacy.log'))).toEqual(
      Buffer.concat([Buffer.from('caf\xe9 ', 'latin1'), Buffer.from(`Bearer ${REDACTED}\n`)]),
    );
  });

  it('goes through a file bigger than it reads at once, including a line longer than a piece', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-scrub-big-'));
    const line = `${'x'.repeat(199)}\n`;
    const longLine = `"${'y'.repeat(5 * 1024 * 1024)}", "token": "t-9", "jwt": "${jwt}"\n`;
    const text = `${line.repeat(50_000)}${longLine}Bearer ${jwt}\n${line.repeat(10)}`;
    await writeFile(join(dir, 'big.log'), text);

    const report = await scrubFiles(dir, createRedactor());

    expect(report.rewritten).toEqual(['big.log']);
    const out = await readFile(join(dir, 'big.log'), 'utf8');
    expect(out).not.toContain(jwt);
    expect(out).not.toContain('t-9');
    const expected = text.replace('"t-9"', `"${REDACTED}"`).replaceAll(jwt, REDACTED);
    expect(out.length).toBe(expected.length);
    expect(out === expected).toBe(true);
    expect(await readdir(dir)).toEqual(['big.log']);
  });
});
