import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';
import { decodeJwt, isHmacAlg, verifiesHmac } from './jwt.ts';
import type { HmacAlg } from './jwt.ts';
import { WEAK_SECRETS } from './weak-secrets.ts';

/** What trying the shipped weak secrets against one token found. */
export type WeakSecretFinding =
  | { readonly kind: 'not-applicable'; readonly reason: string }
  | { readonly kind: 'clean'; readonly alg: HmacAlg; readonly tried: number }
  | {
      readonly kind: 'weak';
      readonly alg: HmacAlg;
      readonly tried: number;
      /** 1-based position of the matching secret in the list. */
      readonly position: number;
      /** The secret, redacted (its first characters and its length). */
      readonly hint: string;
    };

/** A secret as evidence may show it: its first two characters (none when shorter than 8) and its length. */
export function redactSecret(secret: string): string {
  const shown = secret.length >= 8 ? secret.slice(0, 2) : '';
  return `"${shown}…" (${secret.length} characters)`;
}

/**
 * Tries each secret of `secrets` (by default the shipped list of well-known weak signing secrets) as the
 * HMAC key of `token`, offline. Not applicable for a token that is not a JWT or not HMAC-signed.
 */
export function findWeakSecret(token: string, secrets: readonly string[] = WEAK_SECRETS): WeakSecretFinding {
  let alg: unknown;
  try {
    alg = decodeJwt(token).header.alg;
  } catch (error) {
    return { kind: 'not-applicable', reason: `the token is not a JWT (${(error as Error).message})` };
  }
  if (!isHmacAlg(alg)) {
    const what =
      typeof alg !== 'string'
        ? 'has no alg'
        : alg.toLowerCase() === 'none'
          ? 'is unsigned (alg none)'
          : `is signed with ${alg}, not an HMAC (a public-key algorithm has no shared secret to guess)`;
    return { kind: 'not-applicable', reason: `the token ${what}` };
  }
  for (const [index, secret] of secrets.entries()) {
    if (verifiesHmac(token, alg, secret)) {
      return { kind: 'weak', alg, tried: index + 1, position: index + 1, hint: redactSecret(secret) };
    }
  }
  return { kind: 'clean', alg, tried: secrets.length };
}

/**
 * The bound a signing secret must meet: zxcvbn's top score (4, at least 10^10 guesses) and at least
 * 10^20 estimated guesses (about 2^66: years of offline HMAC guessing at 10^10 a second on one GPU).
 */
export const STRENGTH_BOUND = { minScore: 4, minGuessesLog10: 20 } as const;

/** A signing secret's estimated strength, and why it falls short of {@link STRENGTH_BOUND}. */
interface SecretStrength {
  readonly score: number;
  readonly guessesLog10: number;
  /** The patterns zxcvbn split the secret into, with their lengths (never their text). */
  readonly patterns: readonly string[];
  /** Empty when the secret meets the bound. */
  readonly shortfalls: readonly string[];
}

let estimator: ZxcvbnFactory | undefined;

/** Estimates a secret's strength with zxcvbn (common dictionaries and keyboard graphs), whatever its length. */
export function secretStrength(secret: string, secrets: readonly string[] = WEAK_SECRETS): SecretStrength {
  estimator ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });
  const result = estimator.check(secret);
  const guessesLog10 = Math.round(result.guessesLog10 * 10) / 10;
  const patterns = result.sequence.map((match) => `${match.pattern} (${match.token.length})`);
  const shortfalls: string[] = [];
  if (result.score < STRENGTH_BOUND.minScore) shortfalls.push(`score ${result.score} < ${STRENGTH_BOUND.minScore}`);
  if (guessesLog10 < STRENGTH_BOUND.minGuessesLog10)
    shortfalls.push(`about 10^${guessesLog10} guesses < 10^${STRENGTH_BOUND.minGuessesLog10}`);
  const listed = secrets.indexOf(secret);
  if (listed >= 0) shortfalls.push(`entry ${listed + 1} of the shipped list of well-known weak secrets`);
  return { score: result.score, guessesLog10, patterns, shortfalls };
}
