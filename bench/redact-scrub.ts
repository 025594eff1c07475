// Redaction cost: the redactor on pathological 2 MB lines (long base64url runs, repeated `eyJ`,
// repeated header names: each pattern must scan them once, not once per position), and a scrub
// pass over a 50 MB service log with 100 registered tokens. Prints figures; asserts nothing.
//   node bench/redact-scrub.ts
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedactor, scrubFiles } from '../src/core/redact.ts';

const redact = createRedactor(['s3cr3t-password'], { credentialHeaders: ['x-tenant'] });
for (let i = 0; i < 100; i++) redact.register(`minted-token-${i}-${randomBytes(8).toString('hex')}`);

const lines: readonly (readonly [string, string])[] = [
  ['base64', randomBytes(1.5e6).toString('base64')],
  ['letters', ` ${'a'.repeat(2e6)}`],
  ['eyJ repeated', 'eyJ'.repeat(7e5)],
  ['eyJ parts', 'eyJaaaaa.'.repeat(2e5)],
  ['x- repeated', ` ${'x-'.repeat(1e6)}`],
  ['api repeated', ` ${'apiapi'.repeat(3e5)}`],
  ['url-ish', 'http://a:'.repeat(2e5)],
  ['cookie pairs', `Cookie: ${'a=b;'.repeat(5e5)}`],
  ['json fields', '{"token":"a\\"'.repeat(1e5)],
];
for (const [name, text] of lines) {
  const started = performance.now();
  redact(text);
  console.log(`${name.padEnd(14)} ${(text.length / 1e6).toFixed(1)} MB  ${Math.round(performance.now() - started)} ms`);
}

const dir = await mkdtemp(join(tmpdir(), 'bench-scrub-'));
const line =
  '2026-12-06T06:06:13.867844461Z {"level":30,"reqId":"c0a8-1","req":{"method":"GET","url":"/x/0fa34292"},"msg":"request completed"}\n';
await writeFile(join(dir, 'service.log'), line.repeat(Math.ceil(50e6 / line.length)));
const started = performance.now();
const report = await scrubFiles(dir, redact);
console.log(`scrub 50 MB log: ${Math.round(performance.now() - started)} ms, rewritten: ${report.rewritten.length}`);
await rm(dir, { recursive: true, force: true });
