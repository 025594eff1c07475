import { renderCredentialRequest } from '../auth/index.ts';
import type { AuthAnswer, AuthRequest, AuthSend, Credentials } from '../auth/index.ts';
import type { AuthScheme, CredentialRequest, PrincipalConfig } from '../config/auth.ts';
import { HTTP_METHODS } from '../config/stages/security.ts';
import type { HttpMethod, HttpRequest, SecurityHttp } from './http.ts';

/** Someone the stage acts as (a principal of `auth.principals` or a throwaway user): its credentials and who it is. */
export type Identity = Credentials;

const isMethod = (method: string): method is HttpMethod => (HTTP_METHODS as readonly string[]).includes(method);

/**
 * The authenticator's transport for the security stage: credential requests to the stage's target
 * go through its client (correlation ids, 429s waited out, remembered when mutating); requests to
 * another service go to `other`.
 */
export function securityAuthSend(
  http: SecurityHttp,
  target: { readonly service: string; readonly port: number },
  other: AuthSend,
  signal: AbortSignal,
): AuthSend {
  return async (request: AuthRequest): Promise<AuthAnswer> => {
    const elsewhere =
      request.service !== undefined &&
      (request.service !== target.service || (request.port ?? target.port) !== target.port);
    if (elsewhere || !isMethod(request.method)) return other(request);
    try {
      const answer = await http.send({
        method: request.method,
        path: request.path,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
      });
      return { status: answer.status, headers: answer.headers, setCookies: answer.setCookies, body: answer.body };
    } catch (error) {
      signal.throwIfAborted();
      return { status: 0, headers: {}, setCookies: [], body: '', error: (error as Error).message };
    }
  };
}

/** A credential request of `auth` with its placeholders filled, as the authenticator sends it, for the stage's client. */
export function credentialHttpRequest(
  spec: CredentialRequest,
  vars: Readonly<Record<string, string>>,
  extraHeaders: Readonly<Record<string, string>> = {},
): HttpRequest {
  const { method, ...rest } = renderCredentialRequest(spec, vars, Math.random, extraHeaders);
  if (!isMethod(method)) throw new Error(`credential request method ${method} is not one the stage sends`);
  return { method, ...rest };
}

/** `Authorization: Basic` for a username and password. */
export const basicHeader = (username: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`,
});

/**
 * How a user of a principal's scheme proves a password, for the checks that try passwords (lockout,
 * login latency, login after erasure): its login request, or (HTTP basic) the protected probe with
 * those credentials. Undefined when the scheme takes no password (none, a fixed token or key, OAuth2
 * client credentials).
 */
export type PasswordProof =
  | { readonly kind: 'login'; readonly request: CredentialRequest; readonly scheme: AuthScheme }
  | { readonly kind: 'basic' };

/** The password proof of a principal's scheme, or undefined when it has none. */
export function passwordProof(principal: PrincipalConfig): PasswordProof | undefined {
  switch (principal.scheme) {
    case 'basic':
      return { kind: 'basic' };
    case 'bearer':
    case 'cookie':
      return principal.login ? { kind: 'login', request: principal.login, scheme: principal.scheme } : undefined;
    case 'apiKey':
      return principal.obtain ? { kind: 'login', request: principal.obtain, scheme: principal.scheme } : undefined;
    case 'none':
    case 'oauth2':
      return undefined;
  }
}

/** Whether an answer to a login request accepted the password (its `expectStatus`, else 2xx; a cookie login's redirect that sets a cookie too). */
export function loginAccepted(
  proof: PasswordProof,
  answer: { readonly status: number; readonly setCookies: readonly string[] },
): boolean {
  const is2xx = answer.status >= 200 && answer.status < 300;
  if (proof.kind === 'basic') return is2xx;
  if (proof.request.expectStatus) return proof.request.expectStatus.includes(answer.status);
  if (proof.scheme === 'cookie')
    return (is2xx || (answer.status >= 300 && answer.status < 400)) && answer.setCookies.length > 0;
  return is2xx;
}

/** Credential headers with the token replaced by another (a forged or re-signed one), in whatever header and prefix carry it. */
export function withToken(
  headers: Readonly<Record<string, string>>,
  token: string,
  replacement: string,
): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.split(token).join(replacement)]));
}

/** The scheme in words, for not-applicable reasons. */
export function schemeWords(scheme: AuthScheme): string {
  switch (scheme) {
    case 'none':
      return 'no authentication';
    case 'bearer':
      return 'a bearer token';
    case 'apiKey':
      return 'an API key';
    case 'basic':
      return 'basic auth';
    case 'cookie':
      return 'a session cookie';
    case 'oauth2':
      return 'OAuth2 client credentials';
  }
}
