import { randomBytes, randomUUID } from 'node:crypto';
import type { RequestTemplate } from '../config/stages/security.ts';
import type { Clock } from '../core/clock.ts';

export type HttpMethod = RequestTemplate['method'];
type Json = NonNullable<RequestTemplate['body']> | null;

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_]*)\}/g;

/**
 * Fills `{name}` placeholders in every string of a JSON value. `{uuid}` and `{random}` get fresh
 * values (one of each per call); unknown placeholders are left as they are (a literal `{...}`).
 */
export function fillTemplate<T extends Json | undefined>(value: T, vars: Readonly<Record<string, string>>): T {
  const uuid = randomUUID();
  const random = randomBytes(5).toString('hex');
  const fillString = (text: string): string =>
    text.replace(PLACEHOLDER, (whole, key: string) => {
      if (Object.hasOwn(vars, key)) return vars[key] ?? whole;
      if (key === 'uuid') return uuid;
      if (key === 'random') return random;
      return whole;
    });
  const walk = (v: Json | undefined): Json | undefined => {
    if (typeof v === 'string') return fillString(v);
    if (Array.isArray(v)) return v.map((item) => walk(item) ?? null);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item) ?? null]));
    }
    return v;
  };
  return walk(value) as T;
}

export interface HttpRequest {
  readonly method: HttpMethod;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Raw body; a JSON body is serialised by the caller (see `fromTemplate`). */
  readonly body?: string;
  /** Who sends it: the credential headers of a principal or throwaway user, added to `headers`. */
  readonly as?: { readonly headers: Readonly<Record<string, string>> };
  /** Wait out an unexpected 429 (Retry-After) and send again, so another client's limit does not decide a check. */
  readonly retryOn429?: boolean;
}

/** A request template with its placeholders filled, ready to send. */
export function fromTemplate(template: RequestTemplate, vars: Readonly<Record<string, string>>): HttpRequest {
  const body = fillTemplate(template.body, vars);
  return {
    method: template.method,
    path: fillTemplate(template.path, vars),
    headers: fillTemplate({ ...template.headers }, vars),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}

export interface HttpExchange {
  readonly method: HttpMethod;
  readonly path: string;
  readonly url: string;
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Every `Set-Cookie` header of the answer, as sent. */
  readonly setCookies: readonly string[];
  readonly body: string;
  readonly latencyMs: number;
  readonly correlationId: string;
  /** 429s waited out before this answer. */
  readonly throttled: number;
}

/** The body as JSON, or undefined when it is not JSON. */
export function jsonOf(exchange: Pick<HttpExchange, 'body'>): unknown {
  try {
    return JSON.parse(exchange.body) as unknown;
  } catch {
    return undefined;
  }
}

/** A field of a JSON object body, by a dotted path (`data.id`). */
export function fieldOf(value: unknown, dotted: string): unknown {
  let current: unknown = value;
  for (const key of dotted.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** `METHOD path -> status` for evidence. */
export function describeExchange(e: Pick<HttpExchange, 'method' | 'path' | 'status'>): string {
  return `${e.method} ${e.path} -> ${e.status}`;
}

/** Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); undefined when unusable. */
export function retryAfterSeconds(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number.parseInt(value.trim(), 10);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - nowMs) / 1000));
}

interface MutatingRequest {
  readonly method: HttpMethod;
  readonly path: string;
  readonly status: number;
  readonly correlationId: string;
}

interface SecurityHttpOptions {
  readonly baseUrl: string;
  readonly correlationHeader: string;
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Longest Retry-After waited out before giving the 429 back to the caller. */
  readonly maxRetryWaitMs?: number;
}

/**
 * The stage's HTTP client: every request carries a fresh correlation id, mutating requests are
 * remembered (the audit trail check looks for each), unexpected 429s are waited out.
 */
export class SecurityHttp {
  readonly baseUrl: string;
  readonly #options: SecurityHttpOptions;
  readonly #prefix = `rd${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  #sequence = 0;
  readonly #mutating: MutatingRequest[] = [];
  #last: string | undefined;

  constructor(options: SecurityHttpOptions) {
    this.#options = options;
    this.baseUrl = options.baseUrl.replace(/\/$/, '');
  }

  /** Mutating requests sent so far, each once (retries share the id). */
  get mutating(): readonly MutatingRequest[] {
    return this.#mutating;
  }

  /** The correlation id of the last request sent. */
  get lastCorrelationId(): string | undefined {
    return this.#last;
  }

  nextCorrelationId(): string {
    this.#sequence += 1;
    return `${this.#prefix}-${this.#sequence}`;
  }

  async send(request: HttpRequest): Promise<HttpExchange> {
    const { clock, signal } = this.#options;
    const correlationId = this.nextCorrelationId();
    this.#last = correlationId;
    const headers: Record<string, string> = {
      ...request.headers,
      ...request.as?.headers,
      [this.#options.correlationHeader]: correlationId,
    };
    const url = `${this.baseUrl}${request.path}`;
    const maxWaitMs = this.#options.maxRetryWaitMs ?? 15_000;
    let throttled = 0;
    for (;;) {
      const started = clock.monotonicMs();
      const response = await fetch(url, {
        method: request.method,
        headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.#options.timeoutMs)]),
      });
      const body = await response.text();
      const latencyMs = clock.monotonicMs() - started;
      const responseHeaders = Object.fromEntries([...response.headers].map(([k, v]) => [k.toLowerCase(), v]));
      if (response.status === 429 && request.retryOn429 !== false && throttled < 3) {
        const waitS = retryAfterSeconds(responseHeaders['retry-after'], clock.now()) ?? 1;
        if (waitS * 1000 <= maxWaitMs) {
          throttled += 1;
          await clock.sleep(Math.max(250, waitS * 1000), signal);
          continue;
        }
      }
      if (request.method !== 'GET') {
        this.#mutating.push({ method: request.method, path: request.path, status: response.status, correlationId });
      }
      return {
        method: request.method,
        path: request.path,
        url,
        status: response.status,
        headers: responseHeaders,
        setCookies: response.headers.getSetCookie(),
        body,
        latencyMs,
        correlationId,
        throttled,
      };
    }
  }
}
