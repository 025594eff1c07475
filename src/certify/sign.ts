import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { CERTIFICATION_FILE } from './certification.ts';
import { ATTESTATION_FILE, ATTESTATION_KEY_FILE, MANIFEST_FILE, sha256File, sha256Hex } from './manifest.ts';
import { VERDICTS } from './verdict.ts';

/** in-toto Statement v1 type. */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** DSSE payload type of an in-toto Statement. */
export const PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** Predicate type of a readiness certification (an identifier, not a URL to fetch). */
export const PREDICATE_TYPE = 'urn:readiness:certification:v1';
/** The files a run's Statement names by digest: the verdict, and the manifest that covers every other file. */
export const SIGNED_SUBJECTS = [CERTIFICATION_FILE, MANIFEST_FILE] as const;

/** A private ed25519 key to sign with, and its public half. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SHA-256 of the public key's SPKI DER, hex. */
  readonly keyid: string;
  /** Where the key came from (an env variable or a file), for messages. */
  readonly source: string;
}

/** A pinned ed25519 public key to verify with. */
export interface VerifyKey {
  readonly publicKey: KeyObject;
  readonly keyid: string;
  readonly source: string;
}

/** The key id of a public key: SHA-256 of its SPKI DER encoding, hex. */
function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' }));
}

/** The public key in SPKI PEM, as written next to the envelope. */
function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

function requireEd25519(key: KeyObject, source: string): void {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError([
      `${source}: an ${key.asymmetricKeyType ?? 'unknown'} key; readiness signs with ed25519 only (openssl genpkey -algorithm ed25519)`,
    ]);
  }
}

/** Parses a PEM private ed25519 key; a ConfigError naming `source` when it is not one. */
export function parseSigningKey(pem: string, source: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new ConfigError(
      [
        `${source}: not a PEM private key (${error instanceof Error ? error.message : String(error)}); make one with: openssl genpkey -algorithm ed25519 -out signing.pem`,
      ],
      { cause: error },
    );
  }
  requireEd25519(privateKey, source);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyid: keyIdOf(publicKey), source };
}

/** Parses a PEM public ed25519 key (a private key is accepted: its public half is used). */
export function parseVerifyKey(pem: string, source: string): VerifyKey {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch (error) {
    throw new ConfigError(
      [
        `${source}: not a PEM public key (${error instanceof Error ? error.message : String(error)}); export one with: openssl pkey -in signing.pem -pubout -out signing.pub.pem`,
      ],
      { cause: error },
    );
  }
  requireEd25519(publicKey, source);
  return { publicKey, keyid: keyIdOf(publicKey), source };
}

/** DSSE v1 pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body, lengths in bytes. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length.toString()} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length.toString()} `, 'utf8'),
    payload,
  ]);
}

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'is not base64');
const sha256Digest = z.string().regex(/^[0-9a-f]{64}$/, 'is not a lower-case hex SHA-256');

/** A DSSE envelope (https://github.com/secure-systems-lab/dsse). */
const envelopeSchema = z.object({
  payloadType: z.string(),
  payload: base64,
  signatures: z.array(z.object({ keyid: z.string().optional(), sig: base64 })).min(1),
});
type DsseEnvelope = z.output<typeof envelopeSchema>;

/** What a readiness certification Statement asserts about its subjects. */
const predicateSchema = z.object({
  runId: z.string().min(1),
  verdict: z.enum(VERDICTS),
  validUntil: z.iso.datetime().nullable(),
  git: z.object({ sha: z.string().min(1).nullable(), dirty: z.boolean().nullable() }),
  signedAt: z.iso.datetime(),
});
type CertificationPredicate = z.output<typeof predicateSchema>;

/** An in-toto Statement v1 carrying a readiness certification predicate. */
export const statementSchema = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(z.object({ name: z.string().min(1), digest: z.object({ sha256: sha256Digest }) })).min(1),
  predicateType: z.literal(PREDICATE_TYPE),
  predicate: predicateSchema,
});
export type CertificationStatement = z.output<typeof statementSchema>;

/** Signs a Statement: a DSSE envelope over its JSON, ed25519 over the PAE encoding. */
function signStatement(statement: CertificationStatement, key: SigningKey): DsseEnvelope {
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const sig = sign(null, pae(PAYLOAD_TYPE, payload), key.privateKey);
  return {
    payloadType: PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: key.keyid, sig: sig.toString('base64') }],
  };
}

/** The outcome of checking an envelope against one public key. */
type EnvelopeCheck =
  { readonly ok: true; readonly statement: CertificationStatement } | { readonly ok: false; readonly reason: string };

/**
 * Verifies a DSSE envelope with `publicKey`: a signature whose keyid is the key's (or has none) must
 * verify over the PAE encoding, then the payload must be a readiness certification Statement.
 */
export function verifyEnvelope(envelope: DsseEnvelope, publicKey: KeyObject): EnvelopeCheck {
  if (envelope.payloadType !== PAYLOAD_TYPE)
    return { ok: false, reason: `payloadType is "${envelope.payloadType}", not ${PAYLOAD_TYPE}` };
  const keyid = keyIdOf(publicKey);
  const candidates = envelope.signatures.filter((s) => s.keyid === undefined || s.keyid === '' || s.keyid === keyid);
  if (candidates.length === 0) {
    const others = envelope.signatures.map((s) => s.keyid ?? '').join(', ');
    return { ok: false, reason: `signed by another key (keyid ${others}), not by keyid ${keyid}` };
  }
  const payload = Buffer.from(envelope.payload, 'base64');
  const message = pae(envelope.payloadType, payload);
  if (!candidates.some((s) => verify(null, message, publicKey, Buffer.from(s.sig, 'base64'))))
    return { ok: false, reason: `the signature does not verify with keyid ${keyid}: the signed content was changed` };
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `the signed payload is not JSON (${error instanceof Error ? error.message : ''})` };
  }
  const parsed = statementSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `the signed payload is not a readiness Statement (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})`,
    };
  }
  return { ok: true, statement: parsed.data };
}

interface SignRunFolderOptions {
  readonly key: SigningKey;
  readonly predicate: Omit<CertificationPredicate, 'signedAt'>;
  /** The signing time recorded in the predicate. */
  readonly now: Date;
}

/** The files a signed run folder got. */
interface RunSignature {
  readonly envelopeFile: string;
  readonly keyFile: string;
  readonly keyid: string;
  readonly statement: CertificationStatement;
}

/**
 * Last step of sealing a run folder (after manifest.sha256): writes the DSSE envelope of a Statement
 * naming certification.json and manifest.sha256 by SHA-256, and the public key next to it.
 */
export async function signRunFolder(runDir: string, options: SignRunFolderOptions): Promise<RunSignature> {
  const subject = await Promise.all(
    SIGNED_SUBJECTS.map(async (name) => ({ name, digest: { sha256: await sha256File(join(runDir, name)) } })),
  );
  const statement: CertificationStatement = {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: PREDICATE_TYPE,
    predicate: { ...options.predicate, signedAt: options.now.toISOString() },
  };
  const envelope = signStatement(statementSchema.parse(statement), options.key);
  const envelopeFile = join(runDir, ATTESTATION_FILE);
  const keyFile = join(runDir, ATTESTATION_KEY_FILE);
  await writeFile(envelopeFile, `${JSON.stringify(envelope)}\n`);
  await writeFile(keyFile, publicKeyPem(options.key.publicKey));
  return { envelopeFile, keyFile, keyid: options.key.keyid, statement };
}

/** Removes signature files of a folder sealed again without a key, so it honestly reads as unsigned. */
export async function removeRunSignature(runDir: string): Promise<void> {
  await rm(join(runDir, ATTESTATION_FILE), { force: true });
  await rm(join(runDir, ATTESTATION_KEY_FILE), { force: true });
}

/** Reads a run folder's envelope; a reason instead when it is not a DSSE envelope. */
export async function readEnvelope(file: string): Promise<{ envelope: DsseEnvelope } | { reason: string }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    return { reason: `${ATTESTATION_FILE} cannot be read (${error instanceof Error ? error.message : String(error)})` };
  }
  const parsed = envelopeSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      reason: `${ATTESTATION_FILE} is not a DSSE envelope (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})`,
    };
  }
  return { envelope: parsed.data };
}

/** How a run is sealed: signed with a key, or unsigned with the reason (said in the run's output). */
export type RunSigning =
  { readonly kind: 'key'; readonly key: SigningKey } | { readonly kind: 'none'; readonly reason: string };
