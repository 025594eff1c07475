import type { SessionConfig } from '../config/stages/chaos.ts';
import type { HttpOutcome, HttpRequest } from './http.ts';
import { getPath, renderTemplate, seededUuid } from './templates.ts';

/** Signs up (when configured) and logs in a disposable user; returns the token. */
export async function openSession(
  session: SessionConfig,
  request: (req: HttpRequest) => Promise<HttpOutcome>,
  user: string,
  random: () => number,
  /** The start of the disposable password (the rest is a seeded UUID). */
  passwordPrefix: string,
): Promise<string> {
  const password = `${passwordPrefix}-${seededUuid(random)}`;
  const vars = { user, password };
  if (session.signup) {
    const out = await request({
      method: session.signup.method,
      path: session.signup.path,
      body: renderTemplate(session.signup.body, vars, random),
    });
    if (!session.signup.expectStatus.includes(out.status) && out.status !== 409)
      throw new Error(
        `sign-up ${session.signup.path} -> ${out.status || out.error || 'no answer'} ${out.body.slice(0, 160)}`,
      );
  }
  const out = await request({
    method: session.login.method,
    path: session.login.path,
    body: renderTemplate(session.login.body, vars, random),
  });
  const token = getPath(out.json, session.login.tokenField);
  if (out.status < 200 || out.status >= 300 || typeof token !== 'string')
    throw new Error(
      `login ${session.login.path} -> ${out.status || out.error || 'no answer'}, no ${session.login.tokenField} in the answer`,
    );
  return token;
}
