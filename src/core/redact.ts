import { pool } from './pool.ts';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { once } from 'node:events';

/**
 * Replaces credentials in text: the known secret values, values registered during the run (tokens
 * a login minted) and credential-shaped strings (JWTs, `Bearer`/`Basic` credentials, credential
 * header values, secret JSON fields, passwords in URLs).
 */
export interface Redactor {
  (text: string): string;
  /** Adds values minted during the run (a login's token); every later call redacts them too. */
  register(...values: readonly string[]): void;
}

export const REDACTED = '[REDACTED]';

interface RedactorOptions {
  /** Header names (any case) whose values are credentials, besides the built-in ones (`authorization`, `cookie`, `x-api-key`...). */
  readonly credentialHeaders?: readonly string[];
}

/** Values shorter than this are never redacted literally (they would match ordinary words). */
const MIN_LITERAL_LENGTH = 4;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A prose word after `Bearer`/`Basic` ("Bearer authentication") is not a credential; a token has digits, symbols or mixed case. */
const isWord = (text: string): boolean => /^[A-Za-z][a-z]*$/.test(text);

/** A header value without a scheme is taken for a credential when it looks like one, not like prose. */
const isTokenLike = (text: string): boolean =>
  text.length >= 6 && !/\s/.test(text) && (/[0-9._~+/=-]/.test(text) || text.length >= 20);

/** Cookie attributes stay readable (security evidence is about them); every cookie value goes. */
const COOKIE_ATTRIBUTES = new Set(['path', 'domain', 'expires', 'max-age', 'samesite', 'priority', 'partitioned']);

function redactCookies(value: string): string {
  return value.replace(/([^;=\s]+)(\s*=\s*)([^;]*)/g, (whole, name: string, eq: string, cookie: string) =>
    COOKIE_ATTRIBUTES.has(name.toLowerCase()) || cookie.trim() === '' || cookie.trim() === REDACTED
      ? whole
      : `${name}${eq}${REDACTED}`,
  );
}

/** Authorization schemes (IANA registry and common ones): what follows them is a credential, whatever it looks like. */
const AUTH_SCHEMES =
  /^(?:bearer|basic|digest|negotiate|ntlm|token|dpop|oauth|hoba|mutual|vapid|aws4-hmac-sha256|scram-sha-1|scram-sha-256|privatetoken|concealed|gnap)$/i;

function redactAuthorization(value: string): string {
  const scheme = /^(\s*)([A-Za-z][\w-]*)(\s+)(\S.*)$/.exec(value);
  if (scheme) {
    const [, lead = '', name = '', space = '', rest = ''] = scheme;
    if (rest.startsWith(REDACTED)) return value;
    // "Authorization: missing or invalid" is prose, not a scheme and its credentials.
    if (AUTH_SCHEMES.test(name) || isTokenLike(rest)) return `${lead}${name}${space}${REDACTED}`;
    return value;
  }
  return isTokenLike(value.trim()) ? value.replace(value.trim(), REDACTED) : value;
}

const BUILT_IN_HEADERS = [
  '(?:proxy-)?authorization',
  'set-cookie',
  'cookie',
  '[a-z0-9-]*api[-_]?key',
  'x-[a-z0-9-]*token',
] as const;

/** A header or field name, then `:` or `=`, then its value up to the end of the line or the closing quote. */
function headerPattern(extra: readonly string[]): RegExp {
  const names = [...extra.map(escapeRegExp), ...BUILT_IN_HEADERS].join('|');
  return new RegExp(`(^|[^A-Za-z0-9_-])(${names})(\\\\?["']?\\s*[:=]\\s*\\\\?["']?)([^\\r\\n"'\\\\]*)`, 'gim');
}

function redactHeaderValue(name: string, value: string): string {
  if (value.trim() === '' || value.trim() === REDACTED) return value;
  const lower = name.toLowerCase();
  if (lower === 'cookie' || lower === 'set-cookie') return redactCookies(value);
  if (lower.endsWith('authorization')) return redactAuthorization(value);
  // A key or token is one word: what follows it (`, next: 1`) is not part of it.
  return value.replace(/[^\s,;]+/, REDACTED);
}

const SECRET_FIELDS =
  'password|passwd|secret|token|accessToken|refreshToken|access_token|refresh_token|idToken|id_token|apiKey|api_key|jwtSecret|client_secret|clientSecret|sessionId|session_id|sessionToken';

const PATTERNS: readonly (readonly [RegExp, string | ((...groups: string[]) => string)])[] = [
  // JWTs: three base64url parts, the header starting with '{"' encoded as eyJ. Not inside a word,
  // each part taken whole (lookahead + backreference: no backtracking), so a long run of such
  // characters is scanned once, not once per position.
  [/(?<![A-Za-z0-9])eyJ(?=([A-Za-z0-9_-]{5,}))\1\.(?=([A-Za-z0-9_-]{5,}))\2\.(?=([A-Za-z0-9_-]*))\3/g, REDACTED],
  // JSON fields that name a secret, in JSON and in JSON escaped inside a JSON string.
  [
    new RegExp(`("(?:${SECRET_FIELDS})"\\s*:\\s*")((?:[^"\\\\]|\\\\.)*)(")`, 'gi'),
    (whole, open = '', value = '', close = '') => (value === '' ? whole : `${open}${REDACTED}${close}`),
  ],
  [
    new RegExp(`(\\\\"(?:${SECRET_FIELDS})\\\\"\\s*:\\s*\\\\")((?:[^"\\\\]|\\\\\\\\)*)(\\\\")`, 'gi'),
    (whole, open = '', value = '', close = '') => (value === '' ? whole : `${open}${REDACTED}${close}`),
  ],
  // `Bearer <token>` and `Basic <credentials>` anywhere (a log line, an error message, a curl command).
  [
    /\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/=-]{6,})/gi,
    (whole, scheme = '', space = '', token = '') => (isWord(token) ? whole : `${scheme}${space}${REDACTED}`),
  ],
  // key=value pairs (env dumps, query strings, connection strings).
  [/((?:password|passwd|secret|token|api_key|apikey|api-key|JWT_SECRET|client_secret)=)[^\s&"']+/gi, `$1${REDACTED}`],
  // Credentials inside URLs: scheme://user:password@host (bounded parts: no quadratic scan of a long word)
  [/(\b[a-z][a-z0-9+.-]{0,31}:\/\/[^:/\s@]{1,256}:)[^@\s/]{1,256}(@)/gi, `$1${REDACTED}$2`],
];

/** A redactor for the given secrets; `options.credentialHeaders` adds header names whose values are credentials. */
export function createRedactor(secrets: readonly string[] = [], options: RedactorOptions = {}): Redactor {
  const known = new Set<string>();
  let literals: RegExp | null = null;
  const headers = headerPattern(options.credentialHeaders ?? []);
  const register = (...values: readonly string[]): void => {
    const before = known.size;
    for (const value of values) if (value.length >= MIN_LITERAL_LENGTH) known.add(value);
    if (known.size === before) return;
    // Longest first, so a secret that contains another is replaced whole.
    const sorted = [...known].sort((a, b) => b.length - a.length).map(escapeRegExp);
    literals = new RegExp(sorted.join('|'), 'g');
  };
  register(...secrets);
  const redact = (text: string): string => {
    let out = literals === null ? text : text.replace(literals, REDACTED);
    out = out.replace(
      headers,
      (_whole, before: string, name: string, separator: string, value: string) =>
        `${before}${name}${separator}${redactHeaderValue(name, value)}`,
    );
    for (const [pattern, replacement] of PATTERNS) {
      out = typeof replacement === 'string' ? out.replace(pattern, replacement) : out.replace(pattern, replacement);
    }
    return out;
  };
  return Object.assign(redact, { register });
}

/** Files never rewritten: their bytes are not text (the certificate PDF, screenshots, archives, fonts). */
const BINARY_EXTENSIONS = new Set([
  '.pdf',
  '.png',
  '.jpg',
  '.jpeg',
  '.gif',
  '.webp',
  '.ico',
  '.zip',
  '.gz',
  '.tgz',
  '.br',
  '.zst',
  '.woff',
  '.woff2',
  '.ttf',
  '.otf',
  '.eot',
  '.mp4',
  '.webm',
  '.sqlite',
  '.db',
  '.bin',
]);

/** What a scrub pass did. */
interface ScrubReport {
  /** Text files read. */
  readonly scanned: number;
  /** Files that held a credential and were rewritten (relative to the folder). */
  readonly rewritten: readonly string[];
  /** Files left as they are because they are binary (relative to the folder). */
  readonly binary: readonly string[];
}

interface ScrubOptions {
  /**
   * Folders or files (relative) left out: output generated from already-redacted files whose code
   * must not be rewritten (a report's JavaScript bundle names `apiKey` fields that are not secrets).
   */
  readonly skip?: readonly string[];
}

/** Files up to this size are redacted whole; bigger ones in pieces cut at line ends. */
const WHOLE_FILE_BYTES = 8 * 1024 * 1024;
/** A line longer than this (a minified bundle) is cut at a character no credential contains. */
const MAX_PIECE_BYTES = 4 * 1024 * 1024;

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Text of a piece: UTF-8 when it is valid UTF-8, else Latin-1, which gives back the same bytes when written. */
function decode(bytes: Buffer): { text: string; encoding: 'utf8' | 'latin1' } {
  try {
    return { text: fatalUtf8.decode(bytes), encoding: 'utf8' };
  } catch (error) {
    if (error instanceof TypeError) return { text: bytes.toString('latin1'), encoding: 'latin1' };
    throw error;
  }
}

/** Bytes at the start of a file looked at for a NUL, which marks it binary. */
const HEAD_BYTES = 8192;

/** Whether a big file's head holds a NUL (read without loading the file). */
async function hasBinaryHead(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead).includes(0);
  } finally {
    await handle.close();
  }
}

/** Where a piece of a big file may end: after its last newline, else after its last character no credential holds. */
function pieceEnd(buffer: Buffer, final: boolean): number {
  if (final) return buffer.length;
  const newline = buffer.lastIndexOf(0x0a);
  if (newline >= 0) return newline + 1;
  if (buffer.length < MAX_PIECE_BYTES) return 0;
  for (let i = buffer.length - 1; i >= 0; i--) {
    const byte = buffer[i] ?? 0;
    if (byte === 0x20 || byte === 0x22 || byte === 0x2c || byte === 0x3e || byte === 0x3c || byte === 0x3b)
      return i + 1;
  }
  return buffer.length;
}

/** Redacts a big file piece by piece into a sibling file; replaces the file only when something was redacted. */
async function scrubBigFile(file: string, redact: Redactor): Promise<boolean> {
  const temp = `${file}.redacting`;
  const out = createWriteStream(temp);
  const state = { changed: false };
  let carry = Buffer.alloc(0);
  const emit = async (piece: Buffer): Promise<void> => {
    const { text, encoding } = decode(piece);
    const redacted = redact(text);
    if (redacted !== text) state.changed = true;
    if (!out.write(Buffer.from(redacted, encoding))) await once(out, 'drain');
  };
  try {
    for await (const chunk of createReadStream(file)) {
      carry = Buffer.concat([carry, chunk as Buffer]);
      const end = pieceEnd(carry, false);
      if (end > 0) {
        await emit(carry.subarray(0, end));
        carry = carry.subarray(end);
      }
    }
    if (carry.length > 0) await emit(carry);
    out.end();
    await once(out, 'finish');
  } catch (error) {
    out.destroy();
    await rm(temp, { force: true });
    throw error;
  }
  if (state.changed) await rename(temp, file);
  else await rm(temp, { force: true });
  return state.changed;
}

/** What scrubbing one file did. */
type FileScrub = 'binary' | 'rewritten' | 'unchanged';

/** Redacts one file: a small one is read once (its head tells whether it is binary), a big one piece by piece. */
async function scrubFile(file: string, redact: Redactor): Promise<FileScrub> {
  if (BINARY_EXTENSIONS.has(extname(file).toLowerCase())) return 'binary';
  if ((await stat(file)).size > WHOLE_FILE_BYTES) {
    if (await hasBinaryHead(file)) return 'binary';
    return (await scrubBigFile(file, redact)) ? 'rewritten' : 'unchanged';
  }
  const bytes = await readFile(file);
  if (bytes.subarray(0, HEAD_BYTES).includes(0)) return 'binary';
  const { text, encoding } = decode(bytes);
  const redacted = redact(text);
  if (redacted === text) return 'unchanged';
  await writeFile(file, Buffer.from(redacted, encoding));
  return 'rewritten';
}

/** Files scrubbed at once: enough to overlap disk and CPU, few enough to stay far from the fd limit. */
const SCRUB_CONCURRENCY = 16;

/**
 * Redacts every text file under `dir` in place (binary files are left alone, big files go piece by
 * piece), so an artifact whose writer did not redact — a tool's export, an attachment — holds no
 * credential either. Symbolic links are not followed.
 */
export async function scrubFiles(dir: string, redact: Redactor, options: ScrubOptions = {}): Promise<ScrubReport> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const skip = (options.skip ?? []).map((s) => s.replace(/\/+$/, ''));
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => {
      const name = relative(dir, file);
      return !skip.some((s) => name === s || name.startsWith(`${s}${sep}`));
    });
  // One file at a time made a run folder of 100,000 results wait on each file's reads in turn.
  const outcomes = await pool(files, SCRUB_CONCURRENCY, (file) => scrubFile(file, redact));
  const named = (kind: FileScrub): string[] =>
    files.filter((_, i) => outcomes[i] === kind).map((file) => relative(dir, file));
  return {
    scanned: files.length - named('binary').length,
    rewritten: named('rewritten').sort(),
    binary: named('binary').sort(),
  };
}
