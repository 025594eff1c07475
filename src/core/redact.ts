/** Replaces secrets in text: the known secret values plus token-shaped strings. */
export type Redactor = (text: string) => string;

export const REDACTED = '[REDACTED]';

const PATTERNS: readonly (readonly [RegExp, string])[] = [
  // JWTs: three base64url parts, the header starting with '{"' encoded as eyJ.
  [/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // Authorization headers of any scheme.
  [/(authorization["']?\s*[:=]\s*["']?)(?:bearer|basic)\s+[^\s"',}]+/gi, `$1${REDACTED}`],
  // JSON fields that name a secret.
  [
    /("(?:password|passwd|secret|token|accessToken|refreshToken|access_token|refresh_token|apiKey|api_key|jwtSecret|client_secret)"\s*:\s*")[^"]*(")/gi,
    `$1${REDACTED}$2`,
  ],
  // key=value pairs (env dumps, query strings, connection strings).
  [/((?:password|passwd|secret|token|api_key|JWT_SECRET)=)[^\s&"']+/gi, `$1${REDACTED}`],
  // Credentials inside URLs: scheme://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]+:)[^@\s/]+(@)/gi, `$1${REDACTED}$2`],
];

export function createRedactor(secrets: readonly string[] = []): Redactor {
  // Longest first, so a secret that contains another is replaced whole.
  const literals = [...new Set(secrets.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  return (text: string): string => {
    let out = text;
    for (const secret of literals) out = out.split(secret).join(REDACTED);
    for (const pattern of PATTERNS) {
      out = out.replace(pattern[0], pattern[1]);
    }
    return out;
  };
}
