import type { HealthConfig } from '../config/schema.ts';
import type { LedgerConfig } from '../config/stages/chaos.ts';
import type { HttpOutcome, HttpRequest } from '../runner/http.ts';
import { renderTemplate } from '../runner/templates.ts';
import type { Json } from '../runner/templates.ts';
import type { ChaosApi, ProbeInput, ProbeOutcome } from './experiment.ts';

// The requests of the derived matrix, all taken from the config: each service's HTTP health check,
// and the target's work as the write ledger declares it (its list as a read, its write as a write).

/** One request the derived experiments send, and which answers count as good. */
export interface DerivedRequest {
  /** What the request is, in check messages: `payments health`, `GET /v1/orders`. */
  readonly label: string;
  /** A service's own health check (`services.<name>.health`), or the target's work (`chaos.ledger`). */
  readonly role: 'health' | 'read' | 'write';
  /** The service it goes to (health), or undefined for the chaos target. */
  readonly service?: string;
  readonly port?: number;
  readonly method: NonNullable<HttpRequest['method']>;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Json;
  /** Carries the credentials of `chaos.as`. */
  readonly auth: boolean;
  /** The idempotency header of a write: a fresh key per request. */
  readonly idempotencyHeader?: string;
  /** Statuses that count as served (a read: 2xx; a write: the ledger's acknowledged statuses). */
  readonly good: 'any-2xx' | readonly number[];
}

/** The health check of every service that declares an HTTP one, in config order. */
export function healthRequests(
  services: Readonly<Record<string, { readonly health?: HealthConfig | undefined }>>,
): DerivedRequest[] {
  return Object.entries(services).flatMap(([service, s]) =>
    s.health?.kind === 'http'
      ? [
          {
            label: `${service} health (GET ${s.health.path})`,
            role: 'health' as const,
            service,
            port: s.health.port,
            method: 'GET' as const,
            path: s.health.path,
            headers: {},
            auth: false,
            good: 'any-2xx' as const,
          },
        ]
      : [],
  );
}

/** The target's work as the ledger declares it: its list (a read) and its write. */
export function workRequests(ledger: LedgerConfig | undefined, auth: boolean): DerivedRequest[] {
  if (!ledger) return [];
  const query = new URLSearchParams(ledger.list.query).toString();
  const listPath = `${ledger.list.path}${query ? `${ledger.list.path.includes('?') ? '&' : '?'}${query}` : ''}`;
  return [
    {
      label: `GET ${ledger.list.path}`,
      role: 'read',
      method: 'GET',
      path: listPath,
      headers: ledger.list.headers,
      auth,
      good: 'any-2xx',
    },
    {
      label: `${ledger.write.method} ${ledger.write.path}`,
      role: 'write',
      method: ledger.write.method,
      path: ledger.write.path,
      headers: ledger.write.headers,
      body: ledger.write.body,
      auth,
      ...(ledger.write.idempotencyHeader === undefined ? {} : { idempotencyHeader: ledger.write.idempotencyHeader }),
      good: ledger.write.acknowledged,
    },
  ];
}

/** Whether an answer counts as served. */
function isGood(request: DerivedRequest, status: number): boolean {
  return request.good === 'any-2xx' ? status >= 200 && status < 300 : request.good.includes(status);
}

/** Sends one request through the chaos API: templates rendered (seeded), a fresh idempotency key for a write. */
export function send(api: ChaosApi, request: DerivedRequest, timeoutMs: number): Promise<HttpOutcome> {
  const key = api.uuid();
  const vars = { seq: 1, key };
  const random = (): number => api.random();
  const headers = renderTemplate(request.headers, vars, random) as Record<string, string>;
  return api.request({
    ...(request.service === undefined ? {} : { service: request.service }),
    ...(request.port === undefined ? {} : { port: request.port }),
    method: request.method,
    path: request.path,
    headers: request.idempotencyHeader ? { ...headers, [request.idempotencyHeader]: key } : headers,
    ...(request.body === undefined ? {} : { body: renderTemplate(request.body, vars, random) }),
    auth: request.auth,
    timeoutMs,
  });
}

const seen = (request: DerivedRequest, r: HttpOutcome): string =>
  `${request.label} -> ${r.status === 0 ? `no answer (${r.error ?? 'timeout'})` : r.status} in ${Math.round(r.latencyMs)}ms`;

/** A probe: the request answers with a good status (steady state and recovery). */
export function servedProbe(request: DerivedRequest, timeoutMs: number): ProbeInput {
  return {
    kind: 'fn',
    name: `${request.label} is served`,
    run: async (api) => {
      const r = await send(api, request, timeoutMs);
      return { ok: isGood(request, r.status), detail: seen(request, r) };
    },
  };
}

/**
 * A probe: every request answers, whatever its status, within `withinMs` (no hang): the other
 * services stay up or fail fast.
 */
export function answersProbe(name: string, requests: readonly DerivedRequest[], withinMs: number): ProbeInput {
  return {
    kind: 'fn',
    name,
    run: async (api): Promise<ProbeOutcome> => {
      const lines: string[] = [];
      let ok = true;
      for (const request of requests) {
        const r = await send(api, request, withinMs);
        const good = r.status !== 0 && r.latencyMs <= withinMs;
        ok &&= good;
        lines.push(`${seen(request, r)}${good ? '' : ' !'}`);
      }
      return { ok, detail: lines.join('; ') };
    },
  };
}

/** How the readiness-truth probe samples: this many good samples in a row, this far apart. */
const TRUTH_STREAK = 3;
const TRUTH_INTERVAL_MS = 400;

/**
 * A probe: readiness tells the truth. Each sample reads the target's readiness; while it says ready
 * (2xx), the target's work must be served (a good status) within `failFastMs`; a not-ready answer is
 * the service admitting the fault. Passes on `TRUTH_STREAK` good samples in a row, fails when
 * `settleWithinMs` runs out first (time for a breaker to open or a fallback to engage), with the
 * last bad sample. A wrong status is not about time: `timing: false`, so a busy host excuses it not.
 */
export function truthProbe(
  name: string,
  readiness: DerivedRequest,
  work: readonly DerivedRequest[],
  bounds: { readonly failFastMs: number; readonly answerWithinMs: number; readonly settleWithinMs: number },
): ProbeInput {
  return {
    kind: 'fn',
    name,
    run: async (api): Promise<ProbeOutcome> => {
      const deadline = api.clock.monotonicMs() + bounds.settleWithinMs;
      let streak = 0;
      let samples = 0;
      let last: { detail: string; timing: boolean } | undefined;
      for (;;) {
        samples += 1;
        const ready = await send(api, readiness, bounds.answerWithinMs);
        let bad: { detail: string; timing: boolean } | undefined;
        if (isGood(readiness, ready.status)) {
          for (const request of work) {
            const r = await send(api, request, bounds.answerWithinMs);
            if (!isGood(request, r.status)) bad = { detail: seen(request, r), timing: r.status === 0 };
            else if (r.latencyMs > bounds.failFastMs)
              bad = { detail: `${seen(request, r)}, over ${bounds.failFastMs}ms`, timing: true };
            if (bad) break;
          }
        }
        if (bad) {
          streak = 0;
          last = { detail: `${seen(readiness, ready)} (ready) but ${bad.detail}`, timing: bad.timing };
          api.log(`readiness truth: ${last.detail}`);
        } else streak += 1;
        if (streak >= TRUTH_STREAK)
          return {
            ok: true,
            detail: `${TRUTH_STREAK} samples in a row consistent after ${samples}; last: ${seen(readiness, ready)}`,
          };
        if (api.clock.monotonicMs() >= deadline)
          return {
            ok: false,
            detail: `not settled within ${bounds.settleWithinMs}ms (${samples} samples): ${last?.detail ?? 'no sample'}`,
            timing: last?.timing ?? true,
          };
        await api.clock.sleep(TRUTH_INTERVAL_MS, api.signal);
      }
    },
  };
}
