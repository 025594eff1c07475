import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CERTIFICATION_FILE } from './certification.ts';
import { ATTESTATION_FILE, ATTESTATION_KEY_FILE, MANIFEST_FILE, sha256File, verifyRunManifest } from './manifest.ts';
import { PREDICATE_TYPE, SIGNED_SUBJECTS, parseVerifyKey, readEnvelope, verifyEnvelope } from './sign.ts';
import type { CertificationStatement, VerifyKey } from './sign.ts';
import { VERDICTS } from './verdict.ts';
import type { Verdict } from './verdict.ts';

/** The manifest check of a run folder. */
type ManifestStatus =
  | { readonly status: 'ok'; readonly files: number }
  | {
      readonly status: 'modified';
      readonly changed: readonly string[];
      readonly missing: readonly string[];
      readonly unlisted: readonly string[];
    }
  | { readonly status: 'unsealed' | 'unreadable'; readonly reason: string };

/**
 * The signature check: `verified` against a pinned key; `unpinned` when it only verifies with the
 * public key shipped in the folder (anyone who rewrote the folder could have shipped theirs);
 * `unsigned` without an envelope; `invalid` for anything else.
 */
type SignatureStatus =
  | { readonly status: 'verified'; readonly keyid: string; readonly signedAt: string }
  | { readonly status: 'unpinned'; readonly keyid: string; readonly signedAt: string }
  | { readonly status: 'unsigned'; readonly reason: string }
  | { readonly status: 'invalid'; readonly reason: string };

/** Whether the certification is valid now: only a passing verdict before its `validUntil` is. */
type ValidityStatus =
  | { readonly status: 'valid'; readonly verdict: Verdict; readonly validUntil: string }
  | { readonly status: 'expired'; readonly verdict: Verdict; readonly validUntil: string }
  | { readonly status: 'none'; readonly verdict: Verdict; readonly reason: string }
  | { readonly status: 'unreadable'; readonly reason: string };

/** Everything `readiness verify` and `readiness report` say about a run folder. */
interface RunVerification {
  readonly runDir: string;
  readonly runId: string | null;
  /** True when every check passed (what `readiness verify` exits 0 on). */
  readonly ok: boolean;
  /** True when no file was changed, added or removed and the signature (if any, or required) holds. */
  readonly intact: boolean;
  readonly manifest: ManifestStatus;
  readonly signature: SignatureStatus;
  readonly validity: ValidityStatus;
  /** Why `ok` is false, one line each. */
  readonly problems: readonly string[];
}

interface VerifyRunOptions {
  readonly runDir: string;
  /** The pinned public key; when given, the folder must be signed by it. */
  readonly key?: VerifyKey;
  /** Fail unless the signature verifies with the pinned key (an unsigned or unpinned one fails). */
  readonly requireSignature?: boolean;
  /** The time the validity is judged at. */
  readonly now: Date;
}

/** The fields of certification.json verification needs, whatever its schema version. */
const certificationFieldsSchema = z.looseObject({
  runId: z.string().min(1),
  verdict: z.enum(VERDICTS),
  validUntil: z.iso.datetime().nullable(),
});
type CertificationFields = z.output<typeof certificationFieldsSchema>;
type CertificationRead =
  { readonly ok: true; readonly fields: CertificationFields } | { readonly ok: false; readonly reason: string };

async function isFile(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

async function checkManifest(runDir: string): Promise<ManifestStatus> {
  if (!(await isFile(join(runDir, MANIFEST_FILE))))
    return { status: 'unsealed', reason: `${MANIFEST_FILE} is missing: the folder was never sealed or it was removed` };
  try {
    const check = await verifyRunManifest(runDir);
    if (check.ok)
      return { status: 'ok', files: (await readFile(join(runDir, MANIFEST_FILE), 'utf8')).split('\n').length - 1 };
    return { status: 'modified', changed: check.changed, missing: check.missing, unlisted: check.unlisted };
  } catch (error) {
    return { status: 'unreadable', reason: firstLine(error) };
  }
}

async function readCertificationFields(runDir: string): Promise<CertificationRead> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(runDir, CERTIFICATION_FILE), 'utf8'));
  } catch (error) {
    return { ok: false, reason: `${CERTIFICATION_FILE} cannot be read (${firstLine(error)})` };
  }
  const parsed = certificationFieldsSchema.safeParse(raw);
  if (parsed.success) return { ok: true, fields: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, reason: `${CERTIFICATION_FILE}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` };
}

/** The Statement's subjects must be exactly the signed files, with the digests they have on disk now. */
async function checkSubjects(runDir: string, statement: CertificationStatement): Promise<string | null> {
  const names = statement.subject.map((s) => s.name).sort();
  const expected = [...SIGNED_SUBJECTS].sort();
  if (names.join('\n') !== expected.join('\n'))
    return `the Statement names ${names.join(', ')}, not ${expected.join(', ')}`;
  for (const subject of statement.subject) {
    const file = join(runDir, subject.name);
    if (!(await isFile(file))) return `${subject.name} is signed but missing`;
    if ((await sha256File(file)) !== subject.digest.sha256)
      return `${subject.name} does not match its signed SHA-256 (changed after signing)`;
  }
  return null;
}

/** The signed predicate must say what certification.json says. */
function checkPredicate(statement: CertificationStatement, cert: CertificationRead): string | null {
  if (!cert.ok) return null;
  const { predicate } = statement;
  for (const field of ['runId', 'verdict', 'validUntil'] as const) {
    if (predicate[field] !== cert.fields[field])
      return `the signed ${field} ${String(predicate[field])} differs from ${CERTIFICATION_FILE}'s ${String(cert.fields[field])}`;
  }
  return null;
}

async function checkSignature(options: VerifyRunOptions, cert: CertificationRead): Promise<SignatureStatus> {
  const { runDir, key } = options;
  const hasEnvelope = await isFile(join(runDir, ATTESTATION_FILE));
  const hasKeyFile = await isFile(join(runDir, ATTESTATION_KEY_FILE));
  if (!hasEnvelope) {
    if (hasKeyFile)
      return {
        status: 'invalid',
        reason: `${ATTESTATION_KEY_FILE} is there without ${ATTESTATION_FILE}: the signature was removed`,
      };
    return { status: 'unsigned', reason: `no ${ATTESTATION_FILE}: the run had no signing key` };
  }
  const read = await readEnvelope(join(runDir, ATTESTATION_FILE));
  if ('reason' in read) return { status: 'invalid', reason: read.reason };
  let verifyWith: VerifyKey;
  if (key !== undefined) verifyWith = key;
  else if (!hasKeyFile) return { status: 'invalid', reason: `${ATTESTATION_KEY_FILE} is missing and no key is pinned` };
  else {
    try {
      verifyWith = parseVerifyKey(await readFile(join(runDir, ATTESTATION_KEY_FILE), 'utf8'), ATTESTATION_KEY_FILE);
    } catch (error) {
      return { status: 'invalid', reason: firstLine(error) };
    }
  }
  const checked = verifyEnvelope(read.envelope, verifyWith.publicKey);
  if (!checked.ok) return { status: 'invalid', reason: checked.reason };
  const problem = (await checkSubjects(runDir, checked.statement)) ?? checkPredicate(checked.statement, cert);
  if (problem !== null) return { status: 'invalid', reason: problem };
  const { signedAt } = checked.statement.predicate;
  return key === undefined
    ? { status: 'unpinned', keyid: verifyWith.keyid, signedAt }
    : { status: 'verified', keyid: verifyWith.keyid, signedAt };
}

function checkValidity(cert: CertificationRead, now: Date): ValidityStatus {
  if (!cert.ok) return { status: 'unreadable', reason: cert.reason };
  const { verdict, validUntil } = cert.fields;
  if (verdict === 'NOT_CERTIFIED')
    return { status: 'none', verdict, reason: 'the verdict is NOT CERTIFIED: there is no certification to be valid' };
  if (validUntil === null) return { status: 'none', verdict, reason: `a ${verdict} verdict without validUntil` };
  return now.getTime() > Date.parse(validUntil)
    ? { status: 'expired', verdict, validUntil }
    : { status: 'valid', verdict, validUntil };
}

/**
 * Verifies a run folder: every file against manifest.sha256 (nothing changed, missing or added), the
 * DSSE signature over certification.json and the manifest (with the pinned key when given), and the
 * certification's validity at `now`. One function for `readiness verify` and `readiness report`.
 */
export async function verifyRunFolder(options: VerifyRunOptions): Promise<RunVerification> {
  const { runDir } = options;
  const cert = await readCertificationFields(runDir);
  const manifest = await checkManifest(runDir);
  const signature = await checkSignature(options, cert);
  const validity = checkValidity(cert, options.now);
  const problems: string[] = [];
  if (manifest.status !== 'ok') problems.push(describeManifest(manifest));
  const signatureRequired = options.requireSignature === true || options.key !== undefined;
  if (signature.status === 'invalid') problems.push(`signature: ${signature.reason}`);
  else if (signature.status === 'unsigned' && signatureRequired)
    problems.push(`signature: required, but the folder is unsigned (${signature.reason})`);
  else if (signature.status === 'unpinned' && options.requireSignature === true)
    problems.push('signature: required, but no key is pinned to verify it with (--key or READINESS_VERIFY_KEY)');
  const intact = problems.length === 0;
  if (validity.status !== 'valid') problems.push(describeValidity(validity));
  return {
    runDir,
    runId: cert.ok ? cert.fields.runId : null,
    ok: problems.length === 0,
    intact,
    manifest,
    signature,
    validity,
    problems,
  };
}

const listed = (label: string, files: readonly string[]): string =>
  files.length === 0
    ? ''
    : `${label}: ${files.slice(0, 5).join(', ')}${files.length > 5 ? ` and ${(files.length - 5).toString()} more` : ''}`;

function describeManifest(manifest: ManifestStatus): string {
  switch (manifest.status) {
    case 'ok':
      return `manifest: every file matches ${MANIFEST_FILE} (${manifest.files.toString()} files)`;
    case 'modified': {
      const parts = [
        listed('changed', manifest.changed),
        listed('missing', manifest.missing),
        listed('not listed', manifest.unlisted),
      ].filter((p) => p !== '');
      return `manifest: THE RUN FOLDER WAS MODIFIED after sealing (${parts.join('; ')})`;
    }
    case 'unsealed':
      return `manifest: NOT SEALED (${manifest.reason})`;
    case 'unreadable':
      return `manifest: cannot be checked (${manifest.reason})`;
  }
}

function describeSignature(signature: SignatureStatus): string {
  switch (signature.status) {
    case 'verified':
      return `signature: verified with the pinned key (keyid ${signature.keyid.slice(0, 16)}…, ${PREDICATE_TYPE}, signed ${signature.signedAt})`;
    case 'unpinned':
      return (
        `signature: self-consistent with the key shipped in ${ATTESTATION_KEY_FILE} (keyid ${signature.keyid.slice(0, 16)}…), ` +
        'but that key is NOT PINNED: pass --key <public.pem> or READINESS_VERIFY_KEY to prove who signed'
      );
    case 'unsigned':
      return `signature: unsigned (${signature.reason})`;
    case 'invalid':
      return `signature: INVALID (${signature.reason})`;
  }
}

function describeValidity(validity: ValidityStatus): string {
  switch (validity.status) {
    case 'valid':
      return `validity: ${validity.verdict} valid until ${validity.validUntil}`;
    case 'expired':
      return `validity: EXPIRED (${validity.verdict} was valid until ${validity.validUntil})`;
    case 'none':
      return `validity: none (${validity.reason})`;
    case 'unreadable':
      return `validity: unknown (${validity.reason})`;
  }
}

/** The verification as three lines: manifest, signature, validity. */
export function formatRunVerification(verification: RunVerification): string[] {
  return [
    describeManifest(verification.manifest),
    describeSignature(verification.signature),
    describeValidity(verification.validity),
  ];
}

const SIGNED_AS: Readonly<Record<SignatureStatus['status'], string>> = {
  verified: 'signed by the pinned key',
  unpinned: 'signature self-consistent, key not pinned',
  unsigned: 'UNSIGNED',
  invalid: 'signature INVALID',
};

/** One line for the outcome: what passed, or `VERIFICATION FAILED` with each problem. */
export function verificationOutcome(verification: RunVerification): string {
  if (verification.ok)
    return `verified: run ${verification.runId ?? '?'} is intact and valid (${SIGNED_AS[verification.signature.status]})`;
  const count = verification.problems.length;
  return `VERIFICATION FAILED (${count.toString()} problem${count === 1 ? '' : 's'}):\n${verification.problems.map((p) => `  - ${p}`).join('\n')}`;
}
