import { pool } from '../core/pool.ts';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ReadinessError } from '../core/errors.ts';

/**
 * A run folder is sealed in two steps, because the certificate shows a hash and cannot contain
 * its own hash:
 * 1. `evidence.sha256` lists every file of the run folder except the certificate (html, pdf) and
 *    the two manifests; the certificate shows the SHA-256 of `evidence.sha256` itself.
 * 2. `manifest.sha256`, written last, lists every file of the run folder but itself: the evidence,
 *    `evidence.sha256`, `certificate.html` and `certificate.pdf`.
 * 3. When the run has a signing key, `certification.intoto.jsonl` (a DSSE envelope over an in-toto
 *    Statement naming `certification.json` and `manifest.sha256` by digest) and the public key
 *    `certification.pub.pem` are written after the manifest, which therefore cannot list them: the
 *    signature covers the manifest, and the manifest covers everything else.
 * Both manifests are in `sha256sum` format: `cd <run> && sha256sum -c manifest.sha256` checks everything, and
 * `sha256sum evidence.sha256` must print the hash on the certificate.
 */
export const EVIDENCE_MANIFEST_FILE = 'evidence.sha256';
export const MANIFEST_FILE = 'manifest.sha256';
/** The DSSE envelope of the run's signed in-toto Statement (one JSON line). */
export const ATTESTATION_FILE = 'certification.intoto.jsonl';
/** The public key of the signature, for convenience only: a verifier pins its own copy. */
export const ATTESTATION_KEY_FILE = 'certification.pub.pem';
/** Files the evidence manifest leaves out: they are written after it (the certificate shows its hash). */
const SEALED_AFTER_EVIDENCE = ['certificate.html', 'certificate.pdf'] as const;
/** Files the run manifest leaves out: itself, and the signature over it. */
const SEALED_AFTER_MANIFEST = [MANIFEST_FILE, ATTESTATION_FILE, ATTESTATION_KEY_FILE] as const;

interface ManifestEntry {
  /** Path relative to the run folder, with `/` separators. */
  readonly path: string;
  readonly sha256: string;
}

/** SHA-256 of a string or buffer, as lower-case hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every regular file under `dir` (symlinks and other special files are not artifacts), relative and sorted. */
async function listRunFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Files hashed at once: enough to overlap disk and CPU, few enough to stay far from the fd limit. */
const HASH_CONCURRENCY = 16;

/**
 * Hashes every file of a run folder except the `exclude`d relative paths, in path order. `known`
 * hashes (path -> sha256, from an earlier step of the same run) are reused instead of re-reading.
 */
async function hashRunFolder(
  dir: string,
  exclude: readonly string[] = [],
  known: ReadonlyMap<string, string> = new Map(),
): Promise<ManifestEntry[]> {
  const files = (await listRunFiles(dir)).filter((path) => !exclude.includes(path));
  const hashes = await pool(files, HASH_CONCURRENCY, async (path) => known.get(path) ?? sha256File(join(dir, path)));
  return files.map((path, index) => ({ path, sha256: hashes[index] ?? '' }));
}

/** GNU `sha256sum` lines; a name with a backslash or newline gets the escaped form sha256sum itself writes. */
export function formatManifest(entries: readonly ManifestEntry[]): string {
  return entries
    .map(({ path, sha256 }) => {
      if (!/[\\\n\r]/.test(path)) return `${sha256}  ${path}\n`;
      const escaped = path.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
      return `\\${sha256}  ${escaped}\n`;
    })
    .join('');
}

/** Parses `sha256sum` output back into entries; throws naming the first malformed line. */
export function parseManifest(text: string, file = MANIFEST_FILE): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  text.split('\n').forEach((line, index) => {
    if (line === '') return;
    const match = /^(\\?)([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match) {
      throw new ReadinessError('MANIFEST_INVALID', `${file}:${index + 1}: not a sha256sum line: ${line.slice(0, 80)}`);
    }
    const [, escaped, sha256 = '', rawPath = ''] = match;
    const path = escaped
      ? rawPath.replace(/\\(\\|n|r)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'))
      : rawPath;
    entries.push({ path, sha256 });
  });
  return entries;
}

export interface SealedEvidence {
  readonly file: string;
  /** SHA-256 of the evidence manifest file: the hash the certificate shows. */
  readonly sha256: string;
  readonly entries: readonly ManifestEntry[];
}

/** Step 1: writes `evidence.sha256` over everything but the certificate and the manifests. */
export async function writeEvidenceManifest(runDir: string): Promise<SealedEvidence> {
  const entries = await hashRunFolder(runDir, [
    ...SEALED_AFTER_EVIDENCE,
    EVIDENCE_MANIFEST_FILE,
    ...SEALED_AFTER_MANIFEST,
  ]);
  const text = formatManifest(entries);
  const file = join(runDir, EVIDENCE_MANIFEST_FILE);
  await writeFile(file, text);
  return { file, sha256: sha256Hex(text), entries };
}

/**
 * Step 2: writes `manifest.sha256` over every file of the run folder but itself and the signature.
 * The evidence step's hashes are reused (same process, moments earlier); new files are hashed.
 */
export async function writeRunManifest(
  runDir: string,
  evidence?: Pick<SealedEvidence, 'entries'>,
): Promise<{ file: string; entries: readonly ManifestEntry[] }> {
  const known = new Map((evidence?.entries ?? []).map((entry) => [entry.path, entry.sha256]));
  const entries = await hashRunFolder(runDir, SEALED_AFTER_MANIFEST, known);
  const file = join(runDir, MANIFEST_FILE);
  await writeFile(file, formatManifest(entries));
  return { file, entries };
}

interface ManifestCheck {
  readonly ok: boolean;
  /** Listed files whose content changed. */
  readonly changed: readonly string[];
  /** Listed files that are gone. */
  readonly missing: readonly string[];
  /** Files in the folder the manifest does not list (added after sealing), the signature files aside. */
  readonly unlisted: readonly string[];
}

/**
 * Re-hashes a sealed run folder against its `manifest.sha256`, like `sha256sum -c` plus unlisted files.
 * The signature files are not unlisted files: the signature check judges them.
 */
export async function verifyRunManifest(runDir: string): Promise<ManifestCheck> {
  const listed = parseManifest(await readFile(join(runDir, MANIFEST_FILE), 'utf8'));
  const present = new Set(await listRunFiles(runDir));
  const changed: string[] = [];
  const missing: string[] = [];
  for (const entry of listed) {
    if (!present.has(entry.path)) missing.push(entry.path);
    else if ((await sha256File(join(runDir, entry.path))) !== entry.sha256) changed.push(entry.path);
  }
  const names = new Set(listed.map((entry) => entry.path));
  const sealedAfter: readonly string[] = SEALED_AFTER_MANIFEST;
  const unlisted = [...present].filter((path) => !sealedAfter.includes(path) && !names.has(path));
  return { ok: changed.length + missing.length + unlisted.length === 0, changed, missing, unlisted };
}
