import type { Authenticator } from '../auth/authenticator.ts';
import { principalEnvName } from '../config/stages/load.ts';

/**
 * The env that hands `load.principals`' credentials to a k6 script: `READINESS_AUTH_<NAME>` = the
 * JSON of the headers to send as that principal (`{"authorization":"Bearer ..."}`, a cookie, an API
 * key...). Each value is registered as a secret (the authenticator registers the token or key it
 * obtains; the JSON is registered too), so it is redacted from every artifact. A login the system
 * refuses rejects with its `SystemFailureError`: the system's failure, recorded `failed`.
 */
export async function principalEnv(
  auth: Pick<Authenticator, 'credentials'>,
  principals: readonly string[],
  redact: (...secrets: string[]) => void,
): Promise<{ env: Record<string, string>; evidence: string[] }> {
  const env: Record<string, string> = {};
  const evidence: string[] = [];
  for (const principal of principals) {
    const credentials = await auth.credentials(principal);
    const value = JSON.stringify(credentials.headers);
    redact(value, ...Object.values(credentials.headers));
    const name = principalEnvName(principal);
    env[name] = value;
    evidence.push(`${name}: ${credentials.scheme} (${credentials.evidence.join('; ')})`);
  }
  return { env, evidence };
}
