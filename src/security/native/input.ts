import { pool } from '../../core/pool.ts';
import type { CheckOutcome, CheckSpec } from '../../runner/suite.ts';
import { NO_OPENAPI_REASON } from '../context.ts';
import type { Identity, SecurityContext } from '../context.ts';
import { describeExchange, fromTemplate } from '../http.ts';
import type { HttpRequest } from '../http.ts';
import { findLeakExcerpts, findLeaks } from '../leaks.ts';
import { baseRequest, describeField, renderRequest, stringFields } from '../openapi.ts';

/** Classic injection payloads: SQL, NoSQL, template, traversal, markup, shell, oversized. */
const DEFAULT_PAYLOADS: readonly string[] = [
  "' OR '1'='1' --",
  '1; DROP TABLE users; --',
  '{"$gt": ""}',
  '{{7*7}}${7*7}<%= 7*7 %>',
  '../../../../../../etc/passwd',
  '<script>alert(1)</script>',
  '$(id); `id` | cat /etc/passwd',
  '%27%22%5C%00',
  '\u202e\ud83d\ude00\uffff',
  'A'.repeat(4096),
];

/** The error-hygiene checks, as planned and as recorded. */
export const ERROR_CHECKS = {
  malformedJson: {
    id: 'security.errors.malformed-json',
    name: 'Malformed JSON gets 400 without stack traces or internals',
    feature: 'error hygiene',
    severity: 'critical',
    remediation:
      'Answer a generic 400 for unparsable bodies from one error handler; never put err.stack, SQL or driver messages in a response',
  },
  oversizeBody: {
    id: 'security.errors.oversize-body',
    name: 'An oversize body gets 413 without internals',
    feature: 'error hygiene',
    severity: 'normal',
    remediation: 'Set a body size limit (e.g. Fastify bodyLimit) and answer 413 with a generic message',
  },
} as const satisfies Record<string, CheckSpec>;

/** The injection check, as planned and as recorded. */
export const INJECTION_CHECKS = {
  injection: {
    id: 'security.input.injection',
    name: 'Injection payloads in every string field never yield a 5xx or leak internals',
    feature: 'input validation',
    severity: 'critical',
    remediation:
      'Validate input against the schema, bind values as query parameters (never concatenate), and map any remaining error to a 4xx with a generic message: no stack trace, SQL or driver error in any answer',
  },
} as const satisfies Record<string, CheckSpec>;

const MALFORMED_JSON = '{"readiness": "malformed", ';
const headerSafe = (value: string): boolean => /^[\x20-\x7e]*$/.test(value) && value.length < 1024;

/** Operations with a JSON body in the OpenAPI document, or the target's failure to serve it. */
async function openApiBodyTargets(ctx: SecurityContext): Promise<HttpRequest[] | CheckOutcome> {
  const lookup = await ctx.openapi();
  if (lookup.kind === 'failed') return lookup.outcome;
  const doc = lookup.document;
  return doc.operations
    .filter((op) => op.body !== undefined && !ctx.config.injection.exclude.includes(op.key))
    .map((op) => renderRequest(baseRequest(doc, op)));
}

/** Malformed JSON gets 400 and an oversize body 413, both without internals in the answer. */
export async function runErrorChecks(ctx: SecurityContext): Promise<void> {
  let identityPromise: Promise<Identity> | undefined;
  const identity = (): Promise<Identity> => (identityPromise ??= ctx.throwaway('error hygiene'));

  const configured = ctx.config.errors.malformedJson;
  // Without explicit requests the targets come from the OpenAPI document; without one there is nothing to send.
  if (configured.length === 0 && ctx.openapiSource.kind === 'none') {
    await ctx.notApplicable(
      ERROR_CHECKS.malformedJson,
      `${NO_OPENAPI_REASON} and security.errors.malformedJson is empty`,
    );
  } else {
    await ctx.check(ERROR_CHECKS.malformedJson, async (): Promise<CheckOutcome> => {
      const fromDocument = configured.length === 0 ? await openApiBodyTargets(ctx) : undefined;
      if (fromDocument !== undefined && !Array.isArray(fromDocument)) return fromDocument;
      const user = await identity();
      const targets = fromDocument ?? configured.map((t) => fromTemplate(t, ctx.varsOf(user)));
      if (targets.length === 0)
        return { status: 'skipped', message: 'no operation with a JSON body to send malformed JSON to' };
      const lines: string[] = [];
      const problems: string[] = [];
      for (const target of targets) {
        const answer = await ctx.http.send({
          ...target,
          headers: { ...target.headers, 'content-type': 'application/json' },
          body: MALFORMED_JSON,
          as: user,
        });
        const leaks = findLeaks(answer.body);
        lines.push(`${describeExchange(answer)} ${answer.body.slice(0, 400)}`);
        if (answer.status !== 400) problems.push(`${target.method} ${target.path} -> ${answer.status} (expected 400)`);
        if (leaks.length > 0) problems.push(`${target.method} ${target.path} leaks ${leaks.join(', ')}`);
      }
      const evidence = [{ name: 'answers to malformed JSON', contentType: 'text/plain', content: lines.join('\n') }];
      if (problems.length > 0) return { status: 'failed', message: problems.join('; '), evidence };
      return { status: 'passed', message: `${targets.length} operations answered 400 with a clean body`, evidence };
    });
  }

  const oversize = ctx.config.errors.oversize;
  await ctx.check(ERROR_CHECKS.oversizeBody, async (): Promise<CheckOutcome> => {
    if (!oversize) return { status: 'skipped', message: 'security.errors.oversize is not configured' };
    const user = await identity();
    const request = fromTemplate(oversize.request, ctx.varsOf(user));
    const base = request.body === undefined ? {} : (JSON.parse(request.body) as Record<string, unknown>);
    const body = JSON.stringify({ ...base, readinessPadding: 'x'.repeat(oversize.bytes) });
    // As the user, like the malformed-JSON requests: an anonymous request to a protected route is
    // refused (401) before its body is read, which says nothing about a body limit.
    const answer = await ctx.http.send({
      ...request,
      headers: { ...request.headers, 'content-type': 'application/json' },
      body,
      as: user,
    });
    const leaks = findLeaks(answer.body);
    const evidence = [
      {
        name: 'answer',
        contentType: 'text/plain',
        content: `${body.length} bytes: ${describeExchange(answer)} ${answer.body.slice(0, 400)}`,
      },
    ];
    if (answer.status !== 413)
      return { status: 'failed', message: `a ${body.length}-byte body got ${answer.status}, expected 413`, evidence };
    if (leaks.length > 0) return { status: 'failed', message: `the 413 answer leaks ${leaks.join(', ')}`, evidence };
    return { status: 'passed', message: `${body.length}-byte body -> 413`, evidence };
  });
}

interface Attempt {
  readonly operation: string;
  readonly field: string;
  readonly payload: string;
  readonly request: HttpRequest;
}

/** One injection attempt and the answer it got (status 0: no answer). */
export interface InjectionAnswer {
  readonly attempt: Pick<Attempt, 'operation' | 'field' | 'payload'>;
  readonly status: number;
  readonly body: string;
}

/** An answer's body without the payload echoed back: quoting the input is not a leak of internals. */
function withoutEcho(body: string, payload: string): string {
  if (payload.length < 4) return body;
  const forms = [payload, JSON.stringify(payload).slice(1, -1), encodeURIComponent(payload)];
  return forms.reduce((text, form) => text.split(form).join(''), body);
}

/**
 * Judges the answers to injection payloads: a 5xx, no answer, or internals in any body (a stack
 * trace, SQL, a database or driver error, whatever the status) fails. Pure, for recorded answers.
 */
export function judgeInjection(
  answers: readonly InjectionAnswer[],
  summary: string,
): Pick<CheckOutcome, 'status' | 'message' | 'evidence'> {
  const bad = answers.filter((o) => o.status >= 500 || o.status === 0);
  const leaked = answers.flatMap((o) => {
    const leaks = o.status === 0 ? [] : findLeakExcerpts(withoutEcho(o.body, o.attempt.payload));
    return leaks.length > 0 ? [{ answer: o, leaks }] : [];
  });
  const label = (o: InjectionAnswer): string => `${o.attempt.operation} ${o.attempt.field}`;
  const evidence = [
    {
      name: 'server errors',
      contentType: 'text/plain',
      content:
        bad
          .map(
            (o) =>
              `${label(o)} = ${JSON.stringify(o.attempt.payload.slice(0, 80))} -> ${o.status || 'no answer'} ${o.body.slice(0, 300)}`,
          )
          .join('\n') || 'none',
    },
    {
      name: 'leaked internals',
      contentType: 'text/plain',
      content:
        leaked
          .map(
            ({ answer, leaks }) =>
              `${label(answer)} = ${JSON.stringify(answer.attempt.payload.slice(0, 80))} -> ${answer.status}\n${leaks.map((l) => `  ${l.what}: ${l.excerpt}`).join('\n')}`,
          )
          .join('\n') || 'none',
    },
  ];
  const problems = [
    ...(bad.length > 0
      ? [
          `${bad.length} payloads caused a 5xx or no answer (${bad
            .slice(0, 5)
            .map((o) => `${label(o)} -> ${o.status || 'no answer'}`)
            .join('; ')})`,
        ]
      : []),
    ...(leaked.length > 0
      ? [
          `${leaked.length} answers leak internals (${leaked
            .slice(0, 5)
            .map(({ answer, leaks }) => `${label(answer)} -> ${answer.status}: ${leaks.map((l) => l.what).join(', ')}`)
            .join('; ')})`,
        ]
      : []),
  ];
  if (problems.length > 0) return { status: 'failed', message: `${problems.join('; ')}: ${summary}`, evidence };
  return { status: 'passed', message: summary, evidence };
}

/** Every string field of every OpenAPI operation gets each payload; no answer may be a 5xx or leak internals. */
export async function runInjectionCheck(ctx: SecurityContext): Promise<void> {
  const config = ctx.config.injection;
  if (ctx.openapiSource.kind === 'none') {
    await ctx.notApplicable(INJECTION_CHECKS.injection, NO_OPENAPI_REASON);
    return;
  }
  await ctx.check(INJECTION_CHECKS.injection, async (): Promise<CheckOutcome> => {
    const lookup = await ctx.openapi();
    if (lookup.kind === 'failed') return lookup.outcome;
    const doc = lookup.document;
    const payloads = config.payloads ?? DEFAULT_PAYLOADS;
    const attempts: Attempt[] = [];
    for (const operation of doc.operations) {
      if (config.exclude.includes(operation.key)) continue;
      for (const field of stringFields(doc, operation)) {
        for (const payload of payloads) {
          if (field.in === 'header' && !headerSafe(payload)) continue;
          // A fresh base per attempt: new e-mails and ids, so a payload is not stopped by a conflict.
          const base = baseRequest(doc, operation);
          attempts.push({
            operation: operation.key,
            field: describeField(field),
            payload,
            request: renderRequest(base, field, payload),
          });
        }
      }
    }
    if (attempts.length === 0)
      return { status: 'skipped', message: 'the OpenAPI document has no string field to inject into' };
    const sent = attempts.slice(0, config.maxRequests);
    // Two accounts share the load so a per-user rate limit delays the run less.
    const users = [await ctx.throwaway('injection'), await ctx.throwaway('injection')];
    // Operations a throwaway user may not call go to the privileged user, so payloads reach the handler.
    const privileged = config.privilegedUser === undefined ? undefined : await ctx.principal(config.privilegedUser);
    const forbidden = new Set<string>();
    if (privileged) {
      for (const operation of new Set(sent.map((a) => a.operation))) {
        const op = doc.operations.find((o) => o.key === operation);
        if (!op) continue;
        const probe = await ctx.http.send({
          ...renderRequest(baseRequest(doc, op)),
          as: users[0],
        });
        if (probe.status === 403) forbidden.add(operation);
      }
    }
    let turn = 0;
    const outcomes = await pool(sent, config.concurrency, async (attempt) => {
      const user =
        privileged && forbidden.has(attempt.operation) ? privileged : (users[(turn += 1) % users.length] as Identity);
      try {
        const answer = await ctx.http.send({ ...attempt.request, as: user });
        return { attempt, status: answer.status, body: answer.body };
      } catch (error) {
        if (ctx.suite.signal.aborted) throw error;
        return { attempt, status: 0, body: `no answer: ${(error as Error).message}` };
      }
    });
    const byStatus = new Map<number, number>();
    for (const o of outcomes) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
    const operations = new Set(sent.map((a) => a.operation)).size;
    const fields = new Set(sent.map((a) => `${a.operation} ${a.field}`)).size;
    const asPrivileged = forbidden.size > 0 ? `; ${[...forbidden].join(', ')} as ${config.privilegedUser ?? ''}` : '';
    const summary = `${sent.length} requests over ${fields} string fields of ${operations} operations (statuses: ${[...byStatus].map(([s, n]) => `${s || 'none'}x${n}`).join(', ')})${asPrivileged}`;
    const capped =
      attempts.length > sent.length
        ? `; capped at injection.maxRequests=${config.maxRequests} of ${attempts.length}`
        : '';
    const metrics = [{ name: 'injection_requests', value: sent.length, unit: 'count' }];
    return { ...judgeInjection(outcomes, `${summary}${capped}`), metrics };
  });
}
