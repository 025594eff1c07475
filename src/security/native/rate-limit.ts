import { pollUntil } from '../../core/clock.ts';
import type { SecurityConfig } from '../../config/stages/security.ts';
import type { CheckOutcome, CheckSpec } from '../../runner/suite.ts';
import type { Identity, SecurityContext } from '../context.ts';
import { describeExchange, fromTemplate, retryAfterSeconds } from '../http.ts';
import type { HttpExchange } from '../http.ts';
import { pool } from '../../core/pool.ts';

const is2xx = (status: number): boolean => status >= 200 && status < 300;

interface Burst {
  readonly client: Identity;
  readonly answers: readonly HttpExchange[];
  readonly limited: HttpExchange | undefined;
  readonly admitted: number;
}

/** The rate-limit checks, as planned and as recorded; none when `security.rateLimit` is unset. */
export function rateLimitChecks(
  config: SecurityConfig,
): Readonly<Record<'burst' | 'isolation' | 'recovery', CheckSpec>> | undefined {
  const rateLimit = config.rateLimit;
  if (!rateLimit) return undefined;
  return {
    burst: {
      id: 'security.ratelimit.burst',
      name: `A burst past the limit (${rateLimit.limit} per ${rateLimit.windowMs}ms) gets 429 with Retry-After`,
      feature: 'rate limiting',
      severity: 'critical',
      remediation:
        'Rate-limit per client (user, else IP) with a shared store and answer 429 with Retry-After once the limit is reached',
    },
    isolation: {
      id: 'security.ratelimit.isolation',
      name: 'Other clients are unaffected while one is limited',
      feature: 'rate limiting',
      severity: 'normal',
      remediation: 'Key the limiter by client (user id, else IP), not globally',
    },
    recovery: {
      id: 'security.ratelimit.recovery',
      name: 'The limited client is served again after the window',
      feature: 'rate limiting',
      severity: 'normal',
      remediation: 'Let the window slide (or reset): a limited client must be served again once the window has passed',
    },
  };
}

/**
 * A burst past the limit gets 429 with Retry-After; another client is still served meanwhile;
 * the limited client is served again after the window. Clients are throwaway users so the
 * limit hit here is nobody else's.
 */
export async function runRateLimitChecks(ctx: SecurityContext): Promise<void> {
  const config = ctx.config.rateLimit;
  const checks = rateLimitChecks(ctx.config);
  if (!config || !checks) return;
  let burstPromise: Promise<Burst> | undefined;
  const state: RateLimitRun = { ctx, config, burst: () => (burstPromise ??= sendBurst(ctx, config)) };
  await ctx.check(checks.burst, async () => judgeBurst(await state.burst(), config.limit, Date.now()));
  await ctx.check(checks.isolation, () => checkIsolation(state));
  await ctx.check(checks.recovery, () => checkRecovery(state));
}

type RateLimitConfig = NonNullable<SecurityConfig['rateLimit']>;

/** The rate-limit checks' shared state: the one burst all three judge, sent on first use. */
interface RateLimitRun {
  readonly ctx: SecurityContext;
  readonly config: RateLimitConfig;
  readonly burst: () => Promise<Burst>;
}

/** The configured request as `client`, a 429 taken as an answer (not waited out). */
function sendAs(ctx: SecurityContext, config: RateLimitConfig, client: Identity): Promise<HttpExchange> {
  return ctx.http.send({ ...fromTemplate(config.request, ctx.varsOf(client)), as: client, retryOn429: false });
}

/** `limit + extra` requests of one throwaway client, `concurrency` at a time. */
async function sendBurst(ctx: SecurityContext, config: RateLimitConfig): Promise<Burst> {
  const client = await ctx.throwaway('rate limit');
  const count = config.limit + config.extra;
  const answers = await pool(
    Array.from({ length: count }, (_, i) => i),
    config.concurrency,
    () => sendAs(ctx, config, client),
  );
  return { client, answers, ...burstFigures(answers) };
}

/** The first 429 of a burst and how many requests were admitted (2xx). */
export function burstFigures(answers: readonly HttpExchange[]): Pick<Burst, 'limited' | 'admitted'> {
  return { limited: answers.find((a) => a.status === 429), admitted: answers.filter((a) => is2xx(a.status)).length };
}

/** Statuses and their counts, in order of first appearance: `200x5, 429x3`. */
export function statusCounts(answers: readonly Pick<HttpExchange, 'status'>[]): string {
  const counts = new Map<number, number>();
  for (const a of answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${s}x${n}`).join(', ');
}

/** A burst must meet a 429 with a usable Retry-After, having admitted no more than the limit. */
export function judgeBurst(
  b: Pick<Burst, 'answers' | 'limited' | 'admitted'>,
  limit: number,
  nowMs: number,
): CheckOutcome {
  const metrics = [{ name: 'admitted_before_429', value: b.admitted, unit: 'count' }];
  const message = `${b.answers.length} requests in a burst: ${statusCounts(b.answers)}`;
  if (!b.limited)
    return {
      status: 'failed',
      message: `no 429 after ${b.answers.length} requests (limit ${limit}): ${message}`,
      metrics,
    };
  const retryAfter = retryAfterSeconds(b.limited.headers['retry-after'], nowMs);
  if (retryAfter === undefined) {
    return {
      status: 'failed',
      message: `429 without a usable Retry-After (${b.limited.headers['retry-after'] ?? 'absent'}): ${message}`,
      remediation: 'Send Retry-After (seconds until the client may retry) with every 429',
      metrics,
    };
  }
  if (b.admitted > limit) {
    return {
      status: 'failed',
      message: `${b.admitted} requests admitted, more than the limit of ${limit}: ${message}`,
      metrics,
    };
  }
  return { status: 'passed', message: `${message}; Retry-After ${retryAfter}s`, metrics };
}

/** Another client is served while the burst's client is limited. */
async function checkIsolation({ ctx, config, burst }: RateLimitRun): Promise<CheckOutcome> {
  const b = await burst();
  if (!b.limited)
    return { status: 'skipped', message: 'the burst was never limited, so there is no limited client to compare with' };
  const other = await ctx.throwaway('rate limit (other client)');
  const answer = await sendAs(ctx, config, other);
  if (!is2xx(answer.status))
    return { status: 'failed', message: `another client got ${describeExchange(answer)} while the first was limited` };
  return { status: 'passed', message: `another client was served (${answer.status}) while the first was limited` };
}

/** The limited client is served again within the window (plus 5 s of slack). */
async function checkRecovery({ ctx, config, burst }: RateLimitRun): Promise<CheckOutcome> {
  const b = await burst();
  if (!b.limited) return { status: 'skipped', message: 'the burst was never limited' };
  const { clock, signal } = ctx.suite;
  const started = clock.monotonicMs();
  const served = await pollUntil(
    () => sendAs(ctx, config, b.client),
    (a) => is2xx(a.status),
    { timeoutMs: config.windowMs + 5_000, intervalMs: 500, clock, signal },
  );
  return judgeRecovery(served, Math.round(clock.monotonicMs() - started), config.windowMs);
}

/** Served again is a pass, with the time it took; still refused at the deadline is a failure. */
export function judgeRecovery(
  served: { readonly ok: boolean; readonly last?: Pick<HttpExchange, 'status'> | undefined },
  elapsedMs: number,
  windowMs: number,
): CheckOutcome {
  const metrics = [{ name: 'served_again_after_ms', value: elapsedMs, unit: 'ms' }];
  if (!served.ok) {
    return {
      status: 'failed',
      message: `still ${served.last?.status ?? 'no answer'} ${elapsedMs}ms after the burst (window ${windowMs}ms)`,
      metrics,
    };
  }
  return { status: 'passed', message: `served again ${elapsedMs}ms after the burst (window ${windowMs}ms)`, metrics };
}
