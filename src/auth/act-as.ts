import type { Authenticator, Credentials } from '../auth/authenticator.ts';
import { DISPOSABLE } from '../config/auth.ts';
import { ConfigError } from '../core/errors.ts';
import type { Identity } from '../runner/http.ts';

export type { Identity } from '../runner/http.ts';

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
