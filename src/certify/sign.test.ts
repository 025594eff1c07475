import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sealedRunFolder } from '../../test/support/run-folder.ts';
import { ConfigError } from '../core/errors.ts';
import { ATTESTATION_FILE, ATTESTATION_KEY_FILE, MANIFEST_FILE, sha256Hex, writeRunManifest } from './manifest.ts';
import {
  PAYLOAD_TYPE,
  PREDICATE_TYPE,
  STATEMENT_TYPE,
  pae,
  parseSigningKey,
  parseVerifyKey,
  signRunFolder,
  statementSchema,
} from './sign.ts';
import type { SigningKey, VerifyKey } from './sign.ts';
import { verifyRunFolder } from './verify-run.ts';

function newKey(source = 'test key'): { signing: SigningKey; pinned: VerifyKey } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    signing: parseSigningKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), source),
    pinned: parseVerifyKey(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'pinned.pem'),
  };
}

/** Flips one byte of a file in place: a digit of the seed, so the JSON stays valid. */
async function flipOneByte(file: string): Promise<void> {
  const bytes = await readFile(file);
  const at = bytes.indexOf('"seed": 42');
  expect(at).toBeGreaterThan(0);
  bytes[at + '"seed": 4'.length] = '3'.charCodeAt(0);
  await writeFile(file, bytes);
}

const NOW = new Date('2026-12-02T00:00:00Z');
let parent: string;
beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'readiness-sign-'));
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

describe('DSSE PAE', () => {
  it('encodes the DSSE spec example and counts bytes, not characters', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    expect(pae('t', Buffer.from('é', 'utf8')).toString('utf8')).toBe('DSSEv1 1 t 2 é');
    expect(pae('', Buffer.alloc(0)).toString()).toBe('DSSEv1 0  0 ');
  });
});

describe('signing keys', () => {
  it('keyid is the SHA-256 of the public key SPKI DER', () => {
    const { signing, pinned } = newKey();
    const der = signing.publicKey.export({ type: 'spki', format: 'der' });
    expect(signing.keyid).toBe(createHash('sha256').update(der).digest('hex'));
    expect(pinned.keyid).toBe(signing.keyid);
  });

  it('refuses a non-PEM or a non-ed25519 key naming where it came from', () => {
    expect(() => parseSigningKey('not a key', 'READINESS_SIGNING_KEY')).toThrow(ConfigError);
    expect(() => parseSigningKey('not a key', 'READINESS_SIGNING_KEY')).toThrow(
      /^READINESS_SIGNING_KEY: not a PEM private key/,
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => parseSigningKey(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'k.pem')).toThrow(
      /k\.pem: an rsa key; readiness signs with ed25519 only/,
    );
    expect(() => parseVerifyKey(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(), '--key x')).toThrow(
      /--key x: an rsa key/,
    );
  });
});

describe('signed run folders', () => {
  it('round trip: an in-toto Statement in a DSSE envelope over certification.json and the manifest verifies with the pinned key', async () => {
    const { signing, pinned } = newKey();
    const { dir, cert } = await sealedRunFolder(parent, { key: signing });
    expect(cert.verdict).toBe('CERTIFIED');
    const envelope = JSON.parse(await readFile(join(dir, ATTESTATION_FILE), 'utf8')) as {
      payloadType: string;
      payload: string;
      signatures: { keyid: string; sig: string }[];
    };
    expect(envelope.payloadType).toBe(PAYLOAD_TYPE);
    expect(envelope.signatures).toEqual([{ keyid: signing.keyid, sig: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/) }]);
    const statement = statementSchema.parse(JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')));
    expect(statement._type).toBe(STATEMENT_TYPE);
    expect(statement.predicateType).toBe(PREDICATE_TYPE);
    expect(statement.subject).toEqual([
      { name: 'certification.json', digest: { sha256: sha256Hex(await readFile(join(dir, 'certification.json'))) } },
      { name: MANIFEST_FILE, digest: { sha256: sha256Hex(await readFile(join(dir, MANIFEST_FILE))) } },
    ]);
    expect(statement.predicate).toMatchObject({ runId: cert.runId, verdict: 'CERTIFIED', validUntil: cert.validUntil });
    expect(await readFile(join(dir, ATTESTATION_KEY_FILE), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    // The manifest cannot list the signature over it.
    expect(await readFile(join(dir, MANIFEST_FILE), 'utf8')).not.toContain(ATTESTATION_FILE);

    const result = await verifyRunFolder({ runDir: dir, key: pinned, now: NOW });
    expect(result).toMatchObject({
      ok: true,
      intact: true,
      runId: cert.runId,
      manifest: { status: 'ok' },
      signature: { status: 'verified', keyid: signing.keyid },
      validity: { status: 'valid', verdict: 'CERTIFIED', validUntil: cert.validUntil },
      problems: [],
    });
  });

  it('one flipped byte in certification.json fails the manifest and the signature', async () => {
    const { signing, pinned } = newKey();
    const { dir } = await sealedRunFolder(parent, { key: signing });
    await flipOneByte(join(dir, 'certification.json'));
    const result = await verifyRunFolder({ runDir: dir, key: pinned, now: NOW });
    expect(result.ok).toBe(false);
    expect(result.intact).toBe(false);
    expect(result.manifest).toEqual({ status: 'modified', changed: ['certification.json'], missing: [], unlisted: [] });
    expect(result.signature).toEqual({
      status: 'invalid',
      reason: 'certification.json does not match its signed SHA-256 (changed after signing)',
    });
  });

  it('a rewritten manifest does not hide the change: the signed digest still differs', async () => {
    const { signing, pinned } = newKey();
    const { dir } = await sealedRunFolder(parent, { key: signing });
    await flipOneByte(join(dir, 'certification.json'));
    await writeRunManifest(dir);
    const result = await verifyRunFolder({ runDir: dir, key: pinned, now: NOW });
    expect(result.manifest.status).toBe('ok');
    expect(result.signature.status).toBe('invalid');
    expect(result.ok).toBe(false);
  });

  it('a folder re-signed with another key only passes unpinned; the pinned key rejects it', async () => {
    const owner = newKey();
    const forger = newKey();
    const { dir, cert } = await sealedRunFolder(parent, { key: owner.signing });
    await flipOneByte(join(dir, 'certification.json'));
    await writeRunManifest(dir);
    await signRunFolder(dir, {
      key: forger.signing,
      predicate: { runId: cert.runId, verdict: cert.verdict, validUntil: cert.validUntil, git: cert.git },
      now: NOW,
    });
    const unpinned = await verifyRunFolder({ runDir: dir, now: NOW });
    expect(unpinned.signature).toMatchObject({ status: 'unpinned', keyid: forger.signing.keyid });
    expect(unpinned.ok).toBe(true);
    expect((await verifyRunFolder({ runDir: dir, now: NOW, requireSignature: true })).ok).toBe(false);
    const pinned = await verifyRunFolder({ runDir: dir, key: owner.pinned, now: NOW });
    expect(pinned.ok).toBe(false);
    expect(pinned.signature).toMatchObject({
      status: 'invalid',
      reason: expect.stringMatching(/^signed by another key/),
    });
  });

  it('a wrong pinned key fails, and so does a changed signature byte', async () => {
    const { signing, pinned } = newKey();
    const other = newKey();
    const { dir } = await sealedRunFolder(parent, { key: signing });
    const wrong = await verifyRunFolder({ runDir: dir, key: other.pinned, now: NOW });
    expect(wrong.ok).toBe(false);
    expect(wrong.signature.status).toBe('invalid');

    const file = join(dir, ATTESTATION_FILE);
    const envelope = JSON.parse(await readFile(file, 'utf8')) as { signatures: { keyid: string; sig: string }[] };
    const sig = Buffer.from(envelope.signatures[0]?.sig ?? '', 'base64');
    sig[0] = (sig[0] ?? 0) ^ 1;
    envelope.signatures[0] = { keyid: signing.keyid, sig: sig.toString('base64') };
    await writeFile(file, JSON.stringify(envelope));
    const bad = await verifyRunFolder({ runDir: dir, key: pinned, now: NOW });
    expect(bad.signature).toMatchObject({ status: 'invalid', reason: expect.stringContaining('does not verify') });
    expect((await verifyRunFolder({ runDir: dir, now: NOW })).signature.status).toBe('invalid');
  });

  it('an expired certification fails at a later clock and passes before it', async () => {
    const { signing, pinned } = newKey();
    const { dir, cert } = await sealedRunFolder(parent, { key: signing });
    const validUntil = Date.parse(cert.validUntil ?? '');
    const before = await verifyRunFolder({ runDir: dir, key: pinned, now: new Date(validUntil) });
    expect(before.ok).toBe(true);
    const after = await verifyRunFolder({ runDir: dir, key: pinned, now: new Date(validUntil + 1) });
    expect(after).toMatchObject({ ok: false, intact: true, validity: { status: 'expired' } });
    expect(after.problems).toEqual([`validity: EXPIRED (CERTIFIED was valid until ${cert.validUntil ?? ''})`]);
  });

  it('a missing or an extra file fails', async () => {
    const { signing, pinned } = newKey();
    const { dir } = await sealedRunFolder(parent, { key: signing });
    await rm(join(dir, 'summary.md'));
    await writeFile(join(dir, 'extra.txt'), 'added later\n');
    const result = await verifyRunFolder({ runDir: dir, key: pinned, now: NOW });
    expect(result.ok).toBe(false);
    expect(result.manifest).toEqual({
      status: 'modified',
      changed: [],
      missing: ['summary.md'],
      unlisted: ['extra.txt'],
    });
    expect(result.signature.status).toBe('verified');
  });

  it('a removed envelope is caught by the public key left behind; a removed manifest is unsealed', async () => {
    const { signing } = newKey();
    const { dir } = await sealedRunFolder(parent, { key: signing });
    await rm(join(dir, ATTESTATION_FILE));
    const stripped = await verifyRunFolder({ runDir: dir, now: NOW });
    expect(stripped.ok).toBe(false);
    expect(stripped.signature).toMatchObject({
      status: 'invalid',
      reason: expect.stringContaining('signature was removed'),
    });
    await rm(join(dir, MANIFEST_FILE));
    const unsealed = await verifyRunFolder({ runDir: dir, now: NOW });
    expect(unsealed.manifest.status).toBe('unsealed');
  });
});

describe('unsigned and uncertified run folders', () => {
  it('unsigned: manifest and validity pass and it says unsigned; a pinned key or --require-signature fails it', async () => {
    const { dir } = await sealedRunFolder(parent);
    const plain = await verifyRunFolder({ runDir: dir, now: NOW });
    expect(plain).toMatchObject({ ok: true, signature: { status: 'unsigned' }, manifest: { status: 'ok' } });
    expect((await verifyRunFolder({ runDir: dir, now: NOW, requireSignature: true })).ok).toBe(false);
    const pinned = await verifyRunFolder({ runDir: dir, key: newKey().pinned, now: NOW });
    expect(pinned.ok).toBe(false);
    expect(pinned.problems[0]).toMatch(/^signature: required, but the folder is unsigned/);
  });

  it('a NOT CERTIFIED run has no validity, so it does not verify as a certification', async () => {
    const { signing, pinned } = newKey();
    const { dir, cert } = await sealedRunFolder(parent, { key: signing, status: 'failed' });
    expect(cert.verdict).toBe('NOT_CERTIFIED');
    const result = await verifyRunFolder({ runDir: dir, key: pinned, now: NOW });
    expect(result).toMatchObject({ ok: false, intact: true, validity: { status: 'none', verdict: 'NOT_CERTIFIED' } });
  });
});
