import { looksLikeJwt } from '../../auth/index.ts';
import type { AuthScheme } from '../../config/auth.ts';
import { notApplicableMessage } from '../../runner/not-applicable.ts';
import type { CheckOutcome, CheckSpec } from '../../runner/suite.ts';
import type { Identity, SecurityContext } from '../context.ts';
import { describeExchange, fromTemplate } from '../http.ts';
import type { HttpExchange } from '../http.ts';
import { decodeJwt, forgeSignature, resign, unsecuredJwt } from '../jwt.ts';
import { loginAccepted, schemeWords, withToken } from '../principals.ts';
import { STRENGTH_BOUND, findWeakSecret, secretStrength } from '../secrets.ts';
import type { WeakSecretFinding } from '../secrets.ts';

const is2xx = (status: number): boolean => status >= 200 && status < 300;

/** Nearest-rank percentile of a non-empty sample. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

type TokenVariant = 'no-token' | 'tampered-signature' | 'alg-none' | 'expired' | 'wrong-audience' | 'wrong-issuer';

const VARIANTS: readonly { id: TokenVariant; label: string; name: string; remediation: string }[] = [
  {
    id: 'no-token',
    label: 'a request without a token',
    name: 'A protected request without a token is rejected',
    remediation:
      'Require authentication on every protected route (a route-level hook that answers 401 without a valid token)',
  },
  {
    id: 'tampered-signature',
    label: 'a token with a forged signature',
    name: 'A token with a forged signature is rejected',
    remediation: 'Verify the JWT signature with the server key on every request (jwtVerify, not decode)',
  },
  {
    id: 'alg-none',
    label: 'an alg:none token',
    name: 'An unsigned token (alg: none) is rejected',
    remediation:
      'Pin the accepted algorithms (e.g. algorithms: ["HS256"]) so alg "none" and algorithm confusion are refused',
  },
  {
    id: 'expired',
    label: 'an expired token',
    name: 'An expired token is rejected',
    remediation: 'Check exp (with a small clock tolerance) when verifying tokens',
  },
  {
    id: 'wrong-audience',
    label: 'a token for another audience',
    name: 'A token for another audience is rejected',
    remediation: "Check aud against this API's audience when verifying tokens",
  },
  {
    id: 'wrong-issuer',
    label: 'a token from another issuer',
    name: 'A token from another issuer is rejected',
    remediation: 'Check iss against the expected issuer when verifying tokens',
  },
];

/** The token check of one variant, as planned and as recorded. */
const tokenCheck = (variant: (typeof VARIANTS)[number]): CheckSpec => ({
  id: `security.authn.${variant.id}`,
  name: variant.name,
  feature: 'authentication',
  severity: 'critical',
  remediation: variant.remediation,
});

const KEY_REMEDIATION =
  'Sign tokens with a random key of at least 256 bits from a secret store (e.g. `openssl rand -base64 32`), never a default, a word or a pattern, and rotate it';

/** The signing-key checks, run after the token checks, as planned and as recorded. */
const SECRET_CHECKS = {
  weakSecret: {
    id: 'security.authn.weak-secret',
    name: 'The token is not signed with a well-known weak secret',
    feature: 'authentication',
    severity: 'critical',
    remediation: KEY_REMEDIATION,
  },
  secretStrength: {
    id: 'security.authn.secret-strength',
    name: 'The configured signing secret is not guessable (zxcvbn)',
    feature: 'authentication',
    severity: 'critical',
    remediation: KEY_REMEDIATION,
  },
} as const satisfies Record<string, CheckSpec>;

/** The authentication checks after the token checks, as planned and as recorded. */
const AUTHN_CHECKS = {
  refreshReuse: {
    id: 'security.authn.refresh-reuse',
    name: 'A reused (rotated) refresh token is rejected and revokes its family',
    feature: 'authentication',
    severity: 'critical',
    remediation:
      'Rotate refresh tokens on every use, keep used ones, and on reuse reject it and revoke every token of its family',
  },
  lockout: {
    id: 'security.authn.lockout',
    name: 'Repeated failed logins lock the account',
    feature: 'authentication',
    severity: 'critical',
    remediation:
      'Lock an account (or throttle its logins) after a few consecutive failures, even for the right password, with Retry-After',
  },
  latency: {
    id: 'security.authn.latency',
    name: 'Login and refresh answer fast (p95)',
    feature: 'authentication',
    severity: 'normal',
    // A timing measured on a shared 2-core host can catch a neighbour's burst: a pass on a retry is recorded flaky.
    retries: 2,
    // And a failure while the host was saturated is the host's (broken), with its load recorded.
    judgesTiming: true,
    remediation: 'Keep password hashing and token issuance within budget (tune the KDF cost, index the token lookups)',
  },
} as const satisfies Record<string, CheckSpec>;

/**
 * Every authentication check, in run order: one per token variant, the signing-key checks (weak secret,
 * secret strength), then refresh reuse, lockout and latency.
 */
export function authnChecks(): CheckSpec[] {
  return [...VARIANTS.map(tokenCheck), ...Object.values(SECRET_CHECKS), ...Object.values(AUTHN_CHECKS)];
}

/** Schemes whose credential is a token the checks could forge (when it is a JWT). */
const TOKEN_SCHEMES: ReadonlySet<AuthScheme> = new Set(['bearer', 'apiKey', 'oauth2']);

/** A check that does not apply, found out at run time (the token turned out not to be a JWT). */
const notApplicable = (reason: string): CheckOutcome => ({
  status: 'not-applicable',
  message: notApplicableMessage(reason),
});

const isJwt = (token: string | undefined): token is string => {
  if (token === undefined || !looksLikeJwt(token)) return false;
  try {
    decodeJwt(token);
    return true;
  } catch {
    return false;
  }
};

/**
 * Token checks against the configured protected probe, as a throwaway user. `no-token` sends the
 * probe without the user's credential headers, whatever the scheme; the JWT checks forge the token in
 * whatever header carries it, and are not applicable when the scheme has no token or it is not a JWT.
 */
async function runTokenChecks(ctx: SecurityContext): Promise<void> {
  const probe = tokenProbe(ctx);
  for (const variant of VARIANTS) {
    if (variant.id !== 'no-token' && probe.noToken !== undefined) {
      await ctx.notApplicable(tokenCheck(variant), probe.noToken);
      continue;
    }
    await ctx.check(tokenCheck(variant), () => runTokenVariant(probe, variant));
  }
  // Dictionary forgery: offline, on the token the service issued (no request beyond getting it).
  if (probe.noToken !== undefined) {
    await ctx.notApplicable(SECRET_CHECKS.weakSecret, probe.noToken);
    return;
  }
  await ctx.check(SECRET_CHECKS.weakSecret, async (): Promise<CheckOutcome> => {
    const { token } = await probe.subject();
    return judgeWeakSecret(probe.like, token === undefined ? undefined : findWeakSecret(token));
  });
}

type Headers = Readonly<Record<string, string>>;
type Variant = (typeof VARIANTS)[number];

/**
 * What the token checks share: one throwaway subject, its probe with valid credentials (the baseline) and
 * one freshly signed control token, each obtained once, on first use.
 */
interface TokenProbe {
  readonly ctx: SecurityContext;
  readonly like: ReturnType<SecurityContext['like']>;
  /** Why no token can be forged with the scheme of throwaway users, or undefined. */
  readonly noToken: string | undefined;
  /** Seconds since the epoch the changed claims are relative to. */
  readonly now: number;
  readonly subject: () => Promise<Identity>;
  /** The protected probe as the subject, with these headers instead of its credentials (none when undefined). */
  readonly send: (headers: Headers | undefined) => Promise<HttpExchange>;
  readonly baseline: () => Promise<HttpExchange>;
  readonly signedControl: (headers: Headers, token: string, key: string) => Promise<HttpExchange>;
}

function tokenProbe(ctx: SecurityContext): TokenProbe {
  const { auth } = ctx.config;
  const like = ctx.like();
  const now = Math.floor(Date.now() / 1000);
  let subjectPromise: Promise<Identity> | undefined;
  const subject = (): Promise<Identity> => (subjectPromise ??= ctx.throwaway('token checks'));
  const send = async (headers: Headers | undefined): Promise<HttpExchange> => {
    const identity = await subject();
    const request = fromTemplate(auth.probe, ctx.varsOf(identity));
    return ctx.http.send({ ...request, ...(headers === undefined ? {} : { as: { headers } }) });
  };
  let baselinePromise: Promise<HttpExchange> | undefined;
  let controlPromise: Promise<HttpExchange> | undefined;
  return {
    ctx,
    like,
    noToken: TOKEN_SCHEMES.has(like.principal.scheme)
      ? undefined
      : `principal "${like.name}" (auth.disposable.like) uses ${schemeWords(like.principal.scheme)}: no token to forge`,
    now,
    subject,
    send,
    baseline: async () => {
      baselinePromise ??= (async () => send((await subject()).headers))();
      return baselinePromise;
    },
    signedControl: (headers, token, key) =>
      (controlPromise ??= send(withToken(headers, token, resign(token, key, { iat: now, exp: now + 300 })))),
  };
}

/** One token variant: the baseline must pass, then the forged request is sent and its answer judged. */
async function runTokenVariant(probe: TokenProbe, variant: Variant): Promise<CheckOutcome> {
  const base = await probe.baseline();
  if (!is2xx(base.status)) {
    return {
      status: 'broken',
      message: `the probe ${describeExchange(base)} with valid credentials: without a 2xx baseline the token checks prove nothing (security.auth.probe)`,
    };
  }
  const forged = await forgeRequest(probe, variant);
  if ('status' in forged) return forged;
  const answer = await probe.send(forged.sent);
  return judgeTokenAnswer(variant, probe.ctx.config.auth.rejectStatus, { base, control: forged.control, answer });
}

/** The headers a variant sends (forged token, or none), with the control exchange that proved the key; or why it cannot. */
async function forgeRequest(
  probe: TokenProbe,
  variant: Variant,
): Promise<{ sent: Headers | undefined; control?: HttpExchange } | CheckOutcome> {
  const { ctx, like } = probe;
  const { headers, token } = await probe.subject();
  const notJwt = `the credential of principal "${like.name}" (${schemeWords(like.principal.scheme)}) is not a JWT`;
  switch (variant.id) {
    case 'no-token':
      return { sent: undefined };
    case 'tampered-signature':
    case 'alg-none':
      if (!isJwt(token)) return notApplicable(`${notJwt}: nothing to tamper with`);
      return {
        sent: withToken(headers, token, variant.id === 'alg-none' ? unsecuredJwt(token) : forgeSignature(token)),
      };
    case 'expired':
    case 'wrong-audience':
    case 'wrong-issuer': {
      const jwt = ctx.config.auth.jwt;
      if (!jwt)
        return { status: 'skipped', message: 'security.auth.jwt is not configured: no key to sign test tokens with' };
      if (!isJwt(token)) return notApplicable(`${notJwt}: no claims to change`);
      const key = ctx.value(jwt.secret);
      const control = await probe.signedControl(headers, token, key);
      if (!is2xx(control.status)) {
        return {
          status: 'broken',
          message: `a fresh token signed with security.auth.jwt.secret was refused (${describeExchange(control)}): the configured key, issuer or audience is not the service's`,
        };
      }
      return { sent: withToken(headers, token, resign(token, key, claimChanges(variant.id, probe.now))), control };
    }
  }
}

/** The claims a re-signed variant changes, relative to `now` (seconds). */
export function claimChanges(
  variant: 'expired' | 'wrong-audience' | 'wrong-issuer',
  now: number,
): Record<string, string | number | undefined> {
  switch (variant) {
    case 'expired':
      return { iat: now - 7200, nbf: undefined, exp: now - 3600 };
    case 'wrong-audience':
      return { aud: 'readiness-wrong-audience', iat: now, exp: now + 300 };
    case 'wrong-issuer':
      return { iss: 'readiness-wrong-issuer', iat: now, exp: now + 300 };
  }
}

/** A forged request's answer: accepted is a failure, a status outside `reject` too; else it passed. */
export function judgeTokenAnswer(
  variant: Pick<Variant, 'label'>,
  reject: readonly number[],
  exchanges: {
    readonly base: HttpExchange;
    readonly control?: HttpExchange | undefined;
    readonly answer: HttpExchange;
  },
): CheckOutcome {
  const { base, control, answer } = exchanges;
  const evidence = [
    {
      name: 'requests',
      contentType: 'text/plain',
      content: [
        `valid credentials: ${describeExchange(base)}`,
        ...(control ? [`freshly signed control token: ${describeExchange(control)}`] : []),
        `${variant.label}: ${describeExchange(answer)} ${answer.body.slice(0, 300)}`,
      ].join('\n'),
    },
  ];
  if (is2xx(answer.status)) {
    return { status: 'failed', message: `${variant.label} accepted: ${describeExchange(answer)}`, evidence };
  }
  if (!reject.includes(answer.status)) {
    return {
      status: 'failed',
      message: `${variant.label} answered ${answer.status}, expected ${reject.join(' or ')}`,
      remediation: 'Answer 401 with WWW-Authenticate for missing or invalid credentials',
      evidence,
    };
  }
  return { status: 'passed', message: `${variant.label} rejected with ${answer.status}`, evidence };
}

/** The weak-secret check from the offline dictionary search on the subject's token (undefined: no token). */
export function judgeWeakSecret(
  like: { readonly name: string; readonly principal: { readonly scheme: AuthScheme } },
  found: WeakSecretFinding | undefined,
): CheckOutcome {
  if (found === undefined)
    return notApplicable(`principal "${like.name}" (${schemeWords(like.principal.scheme)}) was given no token`);
  switch (found.kind) {
    case 'not-applicable':
      return notApplicable(`principal "${like.name}": ${found.reason}`);
    case 'weak': {
      const message = `the ${found.alg} token of principal "${like.name}" verifies with entry ${found.position} of the shipped list of well-known weak secrets, ${found.hint}: anyone can forge tokens`;
      return {
        status: 'failed',
        message,
        evidence: [{ name: 'weak secret', contentType: 'text/plain', content: message }],
      };
    }
    case 'clean':
      return {
        status: 'passed',
        message: `the ${found.alg} token verifies with none of the ${found.tried} well-known weak secrets tried offline`,
      };
  }
}

/** Strength of the signing secret the config hands the harness (`security.auth.jwt.secret`). */
async function runSecretStrength(ctx: SecurityContext): Promise<void> {
  const jwt = ctx.config.auth.jwt;
  if (!jwt) {
    await ctx.notApplicable(
      SECRET_CHECKS.secretStrength,
      'security.auth.jwt is not configured: the harness is not handed the signing secret',
    );
    return;
  }
  await ctx.check(SECRET_CHECKS.secretStrength, (): Promise<CheckOutcome> => {
    const secret = ctx.value(jwt.secret);
    const strength = secretStrength(secret);
    const figures = `zxcvbn score ${strength.score}, about 10^${strength.guessesLog10} guesses, ${secret.length} characters; patterns: ${strength.patterns.join(', ')}`;
    const metrics = [
      { name: 'secret_score', value: strength.score, unit: 'score' },
      { name: 'secret_guesses_log10', value: strength.guessesLog10, unit: 'log10' },
    ];
    const bound = `score ${STRENGTH_BOUND.minScore} and 10^${STRENGTH_BOUND.minGuessesLog10} guesses`;
    if (strength.shortfalls.length > 0) {
      return Promise.resolve({
        status: 'failed',
        message: `security.auth.jwt.secret is guessable (${strength.shortfalls.join('; ')}; needs ${bound}): ${figures}`,
        metrics,
      });
    }
    return Promise.resolve({
      status: 'passed',
      message: `security.auth.jwt.secret meets ${bound}: ${figures}`,
      metrics,
    });
  });
}

/** Why refresh-token reuse cannot be checked with this config, or undefined when it can. */
function refreshReuseReason(ctx: SecurityContext): string | undefined {
  if (!ctx.config.auth.refresh) return 'security.auth.refresh is not configured: no refresh call to reuse a token with';
  const { name, principal } = ctx.like();
  if (principal.scheme !== 'bearer' || principal.refreshTokenField === undefined) {
    return `principal "${name}" (auth.disposable.like) is given no refresh token (auth.principals.${name}.refreshTokenField is not set)`;
  }
  return undefined;
}

async function runRefreshReuse(ctx: SecurityContext): Promise<void> {
  const refresh = ctx.config.auth.refresh;
  const reason = refreshReuseReason(ctx);
  if (reason !== undefined || !refresh) {
    await ctx.notApplicable(AUTHN_CHECKS.refreshReuse, reason ?? 'security.auth.refresh is not configured');
    return;
  }
  await ctx.check(AUTHN_CHECKS.refreshReuse, async (): Promise<CheckOutcome> => {
    const user = await ctx.throwaway('refresh reuse');
    if (user.refreshToken === undefined) return { status: 'broken', message: 'the login answer has no refresh token' };
    const rotate = (refreshToken: string): Promise<HttpExchange> =>
      ctx.http.send(fromTemplate(refresh.request, { ...ctx.varsOf(user), refreshToken }));
    const first = await rotate(user.refreshToken);
    if (!is2xx(first.status))
      return { status: 'broken', message: `refreshing a fresh token failed: ${describeExchange(first)}` };
    const next = ctx.tokensOf(first, 'refresh').refreshToken;
    if (next === undefined) return { status: 'broken', message: 'the refresh answer has no new refresh token' };
    const reuse = await rotate(user.refreshToken);
    const after = await rotate(next);
    const evidence = [
      {
        name: 'refresh sequence',
        contentType: 'text/plain',
        content: [
          `refresh with R1: ${describeExchange(first)} (R2 issued)`,
          `refresh with R1 again (reuse): ${describeExchange(reuse)}`,
          `refresh with R2 (same family): ${describeExchange(after)}`,
        ].join('\n'),
      },
    ];
    if (is2xx(reuse.status)) {
      return {
        status: 'failed',
        message: `the rotated refresh token was accepted again (${describeExchange(reuse)})`,
        evidence,
      };
    }
    if (is2xx(after.status)) {
      return {
        status: 'failed',
        message: `reuse was rejected but the family was not revoked: R2 still refreshes (${describeExchange(after)})`,
        remediation: 'On refresh-token reuse revoke the whole token family, not only the reused token',
        evidence,
      };
    }
    return {
      status: 'passed',
      message: `reuse rejected (${reuse.status}) and the family revoked (${after.status})`,
      evidence,
    };
  });
}

/** A throwaway user's username and password, which the password checks need. */
function passwordOf(user: Identity): { username: string; password: string } {
  if (user.username === undefined || user.password === undefined) {
    throw new Error(`the throwaway user ${user.principal} has no username and password to try`);
  }
  return { username: user.username, password: user.password };
}

/** Why the password checks cannot run for the scheme of throwaway users, or undefined. */
function noPasswordReason(ctx: SecurityContext): string | undefined {
  if (ctx.passwordProof()) return undefined;
  const { name, principal } = ctx.like();
  return `principal "${name}" (auth.disposable.like) uses ${schemeWords(principal.scheme)}: no password to try`;
}

/**
 * Lockout: wrong passwords sent the way throwaway users authenticate (their login request; for
 * HTTP basic, the protected probe with wrong credentials), then the right one must be refused.
 */
async function runLockout(ctx: SecurityContext): Promise<void> {
  const lockout = ctx.config.auth.lockout;
  const reason = noPasswordReason(ctx);
  if (lockout && reason !== undefined) {
    await ctx.notApplicable(AUTHN_CHECKS.lockout, reason);
    return;
  }
  await ctx.check(AUTHN_CHECKS.lockout, async (): Promise<CheckOutcome> => {
    const proof = ctx.passwordProof();
    if (!lockout || !proof) return { status: 'skipped', message: 'security.auth.lockout is not configured' };
    const { username, password } = passwordOf(await ctx.throwaway('lockout'));
    const lines: string[] = [];
    for (let i = 0; i < lockout.attempts; i += 1) {
      const wrong = await ctx.tryPassword(username, `${password}-wrong-${i}`);
      lines.push(`wrong password #${i + 1}: ${describeExchange(wrong)}`);
      if (loginAccepted(proof, wrong)) {
        return {
          status: 'failed',
          message: `a wrong password was accepted (${describeExchange(wrong)})`,
          remediation: 'Verify the password hash on login',
          evidence: [{ name: 'logins', contentType: 'text/plain', content: lines.join('\n') }],
        };
      }
    }
    const right = await ctx.tryPassword(username, password);
    lines.push(
      `right password after ${lockout.attempts} failures: ${describeExchange(right)} retry-after=${right.headers['retry-after'] ?? '(none)'}`,
    );
    const evidence = [{ name: 'logins', contentType: 'text/plain', content: lines.join('\n') }];
    if (!lockout.lockedStatus.includes(right.status)) {
      return {
        status: 'failed',
        message: `after ${lockout.attempts} failed logins the right password got ${right.status}, expected ${lockout.lockedStatus.join(' or ')} (locked)`,
        evidence,
      };
    }
    return { status: 'passed', message: `locked after ${lockout.attempts} failures: ${right.status}`, evidence };
  });
}

/**
 * Latency of authenticating: the login request (and refresh, when there is one) of throwaway users;
 * for a scheme without a login (HTTP basic) the protected probe with their credentials.
 */
async function runLatency(ctx: SecurityContext): Promise<void> {
  const latency = ctx.config.auth.latency;
  const reason = noPasswordReason(ctx);
  if (latency && reason !== undefined) {
    await ctx.notApplicable(AUTHN_CHECKS.latency, reason);
    return;
  }
  await ctx.check(AUTHN_CHECKS.latency, async (): Promise<CheckOutcome> => {
    const proof = ctx.passwordProof();
    if (!latency || !proof) return { status: 'skipped', message: 'security.auth.latency is not configured' };
    const user = await ctx.throwaway('latency');
    const { username, password } = passwordOf(user);
    const what = proof.kind === 'login' ? 'login' : 'probe';
    for (let i = 0; i < latency.warmup; i += 1) await ctx.tryPassword(username, password);
    const logins: number[] = [];
    for (let i = 0; i < latency.samples; i += 1) {
      const answer = await ctx.tryPassword(username, password);
      if (!loginAccepted(proof, answer))
        return { status: 'broken', message: `${what} sample ${i + 1} failed: ${describeExchange(answer)}` };
      logins.push(answer.latencyMs);
    }
    const refreshes: number[] = [];
    const refresh = ctx.config.auth.refresh;
    let token = user.refreshToken;
    if (refresh && token !== undefined) {
      for (let i = 0; i < latency.samples && token !== undefined; i += 1) {
        const answer = await ctx.http.send(fromTemplate(refresh.request, { ...ctx.varsOf(user), refreshToken: token }));
        if (!is2xx(answer.status))
          return { status: 'broken', message: `refresh sample ${i + 1} failed: ${describeExchange(answer)}` };
        refreshes.push(answer.latencyMs);
        token = ctx.tokensOf(answer, 'refresh').refreshToken;
      }
    }
    const loginP95 = Math.round(percentile(logins, 95));
    const refreshP95 = refreshes.length > 0 ? Math.round(percentile(refreshes, 95)) : undefined;
    const metrics = [
      { name: `${what}_p95_ms`, value: loginP95, unit: 'ms' },
      ...(refreshP95 === undefined ? [] : [{ name: 'refresh_p95_ms', value: refreshP95, unit: 'ms' }]),
    ];
    const over = [
      ...(loginP95 > latency.p95Ms ? [`${what} p95 ${loginP95}ms`] : []),
      ...(refreshP95 !== undefined && refreshP95 > latency.p95Ms ? [`refresh p95 ${refreshP95}ms`] : []),
    ];
    // The host's load while it ran is recorded by runCheck (judgesTiming) next to these figures.
    const summary = `${what} p95 ${loginP95}ms${refreshP95 === undefined ? '' : `, refresh p95 ${refreshP95}ms`} over ${latency.samples} samples each (budget ${latency.p95Ms}ms)`;
    if (over.length > 0)
      return {
        status: 'failed',
        message: `${over.join(' and ')} over the ${latency.p95Ms}ms budget: ${summary}`,
        metrics,
      };
    return { status: 'passed', message: summary, metrics };
  });
}

/** Authentication: forged/expired/unsigned tokens, weak signing secrets, refresh-token reuse, lockout, login latency. */
export async function runAuthnChecks(ctx: SecurityContext): Promise<void> {
  await runTokenChecks(ctx);
  await runSecretStrength(ctx);
  await runRefreshReuse(ctx);
  await runLockout(ctx);
  await runLatency(ctx);
}
