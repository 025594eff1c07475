import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ATTESTATION_FILE,
  ATTESTATION_KEY_FILE,
  EVIDENCE_MANIFEST_FILE,
  MANIFEST_FILE,
  formatManifest,
  parseManifest,
  sha256Hex,
  verifyRunManifest,
  writeEvidenceManifest,
  writeRunManifest,
} from './manifest.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'readiness-manifest-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function runFolder(): Promise<void> {
  await mkdir(join(dir, 'allure-results'), { recursive: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  await writeFile(join(dir, 'certification.json'), '{"verdict":"CERTIFIED"}\n');
  await writeFile(join(dir, 'allure-results', 'a-result.json'), '{}');
  await writeFile(join(dir, 'logs', 'orders.log'), 'started\n');
  await writeFile(join(dir, 'summary.md'), '### ok\n');
}

describe('run manifests', () => {
  it('seals the evidence without the certificate, then everything; sha256sum -c accepts the result', async () => {
    await runFolder();
    const evidence = await writeEvidenceManifest(dir);
    expect(evidence.entries.map((e) => e.path)).toEqual([
      'allure-results/a-result.json',
      'certification.json',
      'logs/orders.log',
      'summary.md',
    ]);
    const evidenceText = await readFile(join(dir, EVIDENCE_MANIFEST_FILE), 'utf8');
    expect(evidence.sha256).toBe(sha256Hex(evidenceText));
    expect(evidenceText.split('\n')[1]).toBe(`${sha256Hex('{"verdict":"CERTIFIED"}\n')}  certification.json`);

    await writeFile(join(dir, 'certificate.html'), `<p>${evidence.sha256}</p>`);
    await writeFile(join(dir, 'certificate.pdf'), '%PDF-1.4 fake');
    // The reports/latest symlink style: links are not artifacts and must not be listed.
    await symlink('certification.json', join(dir, 'link.json'));
    const manifest = await writeRunManifest(dir, evidence);
    expect(manifest.entries.map((e) => e.path)).toEqual([
      'allure-results/a-result.json',
      'certificate.html',
      'certificate.pdf',
      'certification.json',
      EVIDENCE_MANIFEST_FILE,
      'logs/orders.log',
      'summary.md',
    ]);
    const check = spawnSync('sha256sum', ['--strict', '-c', MANIFEST_FILE], { cwd: dir, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toContain('certificate.pdf: OK');
    expect(await verifyRunManifest(dir)).toEqual({ ok: true, changed: [], missing: [], unlisted: [] });
  });

  it('detects a changed, a missing and an added file', async () => {
    await runFolder();
    await writeRunManifest(dir);
    await writeFile(join(dir, 'summary.md'), '### edited\n');
    await rm(join(dir, 'logs', 'orders.log'));
    await writeFile(join(dir, 'extra.txt'), 'added later');
    expect(await verifyRunManifest(dir)).toEqual({
      ok: false,
      changed: ['summary.md'],
      missing: ['logs/orders.log'],
      unlisted: ['extra.txt'],
    });
    const check = spawnSync('sha256sum', ['-c', MANIFEST_FILE], { cwd: dir, encoding: 'utf8' });
    expect(check.status).not.toBe(0);
  });

  it('leaves the signature files out of the manifest and does not count them as unlisted', async () => {
    await runFolder();
    // Written after the manifest by the signing step; a stale pair must not be sealed into a new manifest either.
    await writeFile(join(dir, ATTESTATION_FILE), '{}\n');
    await writeFile(join(dir, ATTESTATION_KEY_FILE), 'key\n');
    const manifest = await writeRunManifest(dir);
    expect(manifest.entries.map((e) => e.path)).not.toContain(ATTESTATION_FILE);
    expect(manifest.entries.map((e) => e.path)).not.toContain(ATTESTATION_KEY_FILE);
    expect(await verifyRunManifest(dir)).toEqual({ ok: true, changed: [], missing: [], unlisted: [] });
    await writeFile(join(dir, 'signature.extra'), 'x');
    expect((await verifyRunManifest(dir)).unlisted).toEqual(['signature.extra']);
  });

  it('escapes names the way sha256sum does and parses them back', () => {
    const entries = [
      { path: 'plain.txt', sha256: 'a'.repeat(64) },
      { path: 'odd\\name\nx', sha256: 'b'.repeat(64) },
    ];
    const text = formatManifest(entries);
    expect(text).toBe(`${'a'.repeat(64)}  plain.txt\n\\${'b'.repeat(64)}  odd\\\\name\\nx\n`);
    expect(parseManifest(text)).toEqual(entries);
    expect(() => parseManifest('not a line\n', 'm.sha256')).toThrow(/m\.sha256:1: not a sha256sum line/);
  });
});
