import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSigningKey } from '../../src/certify/sign.ts';
import { sealedRunFolder } from '../support/run-folder.ts';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');
const CONFIG_MODULE = resolve(import.meta.dirname, '../../src/config/index.ts');

/** The environment without any key the developer's shell may hold. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(([name]) => !/^READINESS_(SIGNING|VERIFY)_KEY/.test(name));
  return { ...Object.fromEntries(kept), ...extra };
}

function cli(
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    env: cleanEnv(env),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

let work: string;
let publicPem: string;
let privatePem: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'readiness-verify-cli-'));
  const pair = generateKeyPairSync('ed25519');
  privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  publicPem = join(work, 'ci-signing.pub.pem');
  await writeFile(publicPem, pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function signedRun(): Promise<string> {
  const { dir } = await sealedRunFolder(join(work, 'reports'), {
    key: parseSigningKey(privatePem, 'test'),
    finishedAt: new Date(),
  });
  return dir;
}

// Each spawn strips and loads the TypeScript CLI; several per test on a shared 2-core machine.
describe('readiness verify (spawned CLI)', { timeout: 120_000 }, () => {
  it('exits 0 on its folder and 1 after one byte of certification.json changes', async () => {
    const dir = await signedRun();
    const ok = cli(['verify', dir, '--key', publicPem], work);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('manifest: every file matches manifest.sha256');
    expect(ok.stdout).toContain('signature: verified with the pinned key');
    expect(ok.stdout).toMatch(/validity: CERTIFIED valid until \d{4}-/);
    expect(ok.stdout).toContain('is intact and valid (signed by the pinned key)');
    // Without a pinned key it still passes, and says the key is not pinned.
    const unpinned = cli(['verify', dir], work);
    expect(unpinned.code).toBe(0);
    expect(unpinned.stdout).toContain('but that key is NOT PINNED');

    const file = join(dir, 'certification.json');
    const bytes = await readFile(file);
    bytes[bytes.indexOf('"seed": 42') + '"seed": 4'.length] = '3'.charCodeAt(0);
    await writeFile(file, bytes);
    const tampered = cli(['verify', dir, '--key', publicPem], work);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('THE RUN FOLDER WAS MODIFIED after sealing (changed: certification.json)');
    expect(tampered.stdout).toContain('signature: INVALID (certification.json does not match its signed SHA-256');
    expect(tampered.stdout).toContain('VERIFICATION FAILED (2 problems)');
    expect(cli(['verify', dir], work).code).toBe(1);
  });

  it('reads the pinned key from READINESS_VERIFY_KEY_FILE and prints JSON', async () => {
    const dir = await signedRun();
    const { code, stdout } = cli(['verify', dir, '--json'], work, { READINESS_VERIFY_KEY_FILE: publicPem });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, signature: { status: 'verified' } });
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const wrong = cli(['verify', dir, '--json'], work, { READINESS_VERIFY_KEY: other });
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, signature: { status: 'invalid' } });
  });

  it('an unsigned folder passes and says unsigned; a pinned key fails it; --require-signature without a key is usage', async () => {
    const { dir } = await sealedRunFolder(join(work, 'reports'), { finishedAt: new Date() });
    const plain = cli(['verify', dir], work);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('signature: unsigned');
    expect(plain.stdout).toContain('(UNSIGNED)');
    expect(cli(['verify', dir, '--key', publicPem, '--require-signature'], work).code).toBe(1);
    const usage = cli(['verify', dir, '--require-signature'], work);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--require-signature needs a pinned public key');
  });

  it('exits 2 for a folder that does not exist or a key that is not ed25519', async () => {
    const missing = cli(['verify', join(work, 'nope')], work);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope: not a run folder');
    const dir = await signedRun();
    await writeFile(join(work, 'bad.pem'), 'garbage');
    const bad = cli(['verify', dir, '--key', join(work, 'bad.pem')], work);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a PEM public key');
  });

  it('report prints the same verification lines and exits 3 for a tampered folder', async () => {
    const dir = await signedRun();
    await writeFile(
      join(work, 'readiness.config.ts'),
      `import { defineConfig } from ${JSON.stringify(CONFIG_MODULE)};\nexport default defineConfig({ name: 'x', services: { api: { image: 'a:1' } }, reportsDir: 'reports' });\n`,
    );
    const lines = (stdout: string): string[] =>
      stdout.split('\n').filter((line) => /^(manifest|signature|validity): /.test(line));
    const shown = cli(['report', '--key', publicPem], work);
    expect(shown.code, shown.stderr).toBe(0);
    const verified = cli(['verify', '--key', publicPem], work);
    expect(verified.code).toBe(0);
    expect(lines(shown.stdout)).toHaveLength(3);
    expect(lines(shown.stdout)).toEqual(lines(verified.stdout));
    await writeFile(join(dir, 'summary.md'), 'edited\n');
    const tampered = cli(['report'], work);
    expect(tampered.code).toBe(3);
    expect(tampered.stdout).toContain('THE RUN FOLDER WAS MODIFIED after sealing (changed: summary.md)');
  });
});

describe('readiness certify signing key', { timeout: 120_000 }, () => {
  it('exits 2 naming the variable for a key that is not a PEM, before anything starts', async () => {
    await writeFile(
      join(work, 'readiness.config.ts'),
      `import { defineConfig } from ${JSON.stringify(CONFIG_MODULE)};\nexport default defineConfig({ name: 'x', services: { api: { image: 'a:1' } } });\n`,
    );
    const { code, stderr } = cli(['certify'], work, { READINESS_SIGNING_KEY: 'not a key' });
    expect(code).toBe(2);
    expect(stderr).toContain('READINESS_SIGNING_KEY: not a PEM private key');
    expect((await readdir(work)).sort()).toEqual(['ci-signing.pub.pem', 'readiness.config.ts']);
    const both = cli(['certify'], work, { READINESS_SIGNING_KEY: privatePem, READINESS_SIGNING_KEY_FILE: publicPem });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('READINESS_SIGNING_KEY and READINESS_SIGNING_KEY_FILE are both set');
  });
});
