import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

type JwtPart = Record<string, unknown>;

interface DecodedJwt {
  readonly header: JwtPart;
  readonly payload: JwtPart;
  readonly signature: string;
}

const encode = (part: JwtPart): string => Buffer.from(JSON.stringify(part)).toString('base64url');

function decodePart(text: string, what: string): JwtPart {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch (error) {
    throw new Error(`JWT ${what} is not base64url JSON`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`JWT ${what} is not an object`);
  return value as JwtPart;
}

/** Splits a compact JWS without verifying it. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`not a compact JWT (${parts.length} parts)`);
  const [header = '', payload = '', signature = ''] = parts;
  return { header: decodePart(header, 'header'), payload: decodePart(payload, 'payload'), signature };
}

/** An HS256 JWS of the given header and payload. */
export function signHs256(header: JwtPart, payload: JwtPart, key: string | Uint8Array): string {
  const input = `${encode({ ...header, alg: 'HS256' })}.${encode(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

/** The same header and payload with a signature made with a key the service does not know. */
export function forgeSignature(token: string): string {
  const { header, payload } = decodeJwt(token);
  return signHs256(header, payload, randomBytes(32));
}

/** `alg: none` with the original claims and an empty signature (RFC 7519 unsecured JWT). */
export function unsecuredJwt(token: string): string {
  const { header, payload } = decodeJwt(token);
  return `${encode({ ...header, alg: 'none' })}.${encode(payload)}.`;
}

/** A correctly signed copy of a token's claims with some claims replaced (`undefined` removes one). */
export function resign(token: string, key: string, changes: Readonly<Record<string, unknown>>): string {
  const { header, payload } = decodeJwt(token);
  const next: JwtPart = { ...payload };
  for (const [claim, value] of Object.entries(changes)) {
    if (value === undefined) Reflect.deleteProperty(next, claim);
    else next[claim] = value;
  }
  return signHs256(header, next, key);
}

/** The HMAC algorithms of JWS (RFC 7518 §3.2) and their hashes. */
const HMAC_ALGS = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const;
export type HmacAlg = keyof typeof HMAC_ALGS;

/** Whether `alg` is one of the HMAC algorithms. */
export const isHmacAlg = (alg: unknown): alg is HmacAlg => typeof alg === 'string' && Object.hasOwn(HMAC_ALGS, alg);

/** Whether a compact JWS of an HMAC `alg` verifies with `key` (offline: only the signature is checked). */
export function verifiesHmac(token: string, alg: HmacAlg, key: string | Uint8Array): boolean {
  const cut = token.lastIndexOf('.');
  const expected = Buffer.from(token.slice(cut + 1), 'base64url');
  const actual = createHmac(HMAC_ALGS[alg], key).update(token.slice(0, cut)).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
