import type { Authenticator, Credentials } from '../auth/authenticator.ts';
import { DISPOSABLE } from '../config/stages/chaos.ts';
import { ConfigError } from '../core/errors.ts';

/** Who a stage's requests with `auth: true` are made as: one principal or one throwaway user, for an experiment or a drill. */
export interface Identity {
  /** The principal's name, or `disposable:<label>`. */
  readonly principal: string;
  /** How the credentials were obtained (`sign-up: POST /v1/users -> 201`, `login: ...`), secrets left out. */
  readonly evidence: readonly string[];
  /**
   * The headers a request made as this identity carries (bearer, basic, API key, cookie...),
   * obtained again once they near their lifetime. Rejects with `SystemFailureError` when the system
   * refuses that.
   */
  headers(): Promise<Readonly<Record<string, string>>>;
}

/**
 * Authenticates as `as`: a principal of `auth.principals` (its credentials are shared and cached
 * by the authenticator), or `'disposable'`: a throwaway user signed up now for `label` and logged in
 * again with its own username and password when its credentials near their lifetime. The system
 * refusing the sign-up or the login rejects with `SystemFailureError` (the system's failure).
 */
export async function actAs(
  authenticator: Authenticator,
  as: string,
  label: string,
  /** `auth.disposable.like`: the principal whose scheme a throwaway user authenticates by. */
  disposableLike: string | undefined,
): Promise<Identity> {
  if (as !== DISPOSABLE) {
    const first = await authenticator.credentials(as);
    return {
      principal: as,
      evidence: first.evidence,
      headers: async () => (await authenticator.credentials(as)).headers,
    };
  }
  if (disposableLike === undefined)
    throw new ConfigError(['auth.disposable is not configured: no way to make a throwaway user']);
  const first = await authenticator.disposable(label);
  const { username, password } = first;
  let current: Promise<Credentials> = Promise.resolve(first);
  return {
    principal: first.principal,
    evidence: first.evidence,
    headers: async () => {
      const held = await current;
      if (held.renewAt === undefined || Date.now() < held.renewAt || username === undefined || password === undefined)
        return held.headers;
      const renewing = authenticator.credentialsAs(disposableLike, { username, password });
      // A refused renewal is the caller's answer; the next request tries again.
      current = renewing.catch(() => held);
      return (await renewing).headers;
    },
  };
}
