import { connect } from 'node:net';
import { ConfigError, SystemFailureError } from '../core/errors.ts';
import type { Json } from './templates.ts';

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

/** An HTTP request of a probe or a ledger write; `service`/`port` default to the chaos target. */
export interface HttpRequest {
  readonly service?: string;
  readonly port?: number;
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Json;
  /** Carry the credentials of the stage's identity (`chaos.as`, `recovery.as`), whatever their scheme. */
  readonly auth?: boolean;
  readonly timeoutMs?: number;
}

/** What came back: `status` 0 means no answer (refused, reset, or no answer within the timeout). */
export interface HttpOutcome {
  readonly status: number;
  readonly latencyMs: number;
  readonly body: string;
  readonly json: unknown;
  readonly headers: Readonly<Record<string, string>>;
  /** Every `Set-Cookie` header of the answer, as sent (the `headers` map joins them). */
  readonly setCookies: readonly string[];
  readonly error?: string;
}

/** The text as JSON, or undefined when it is not JSON. */
export const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

/**
 * The headers of a request: its own, a JSON content type when it has a body, then with `auth: true`
 * the identity's credentials. `refused` when the system refused to renew those credentials (the
 * request is then not sent: the system's failure, seen as no answer). A request with `auth: true`
 * and no identity is a config error naming `asKey` (`readiness.config.ts: chaos.as`).
 */
export async function requestHeaders(
  req: HttpRequest,
  identity: Identity | undefined,
  asKey: string,
): Promise<{ readonly headers: Record<string, string> } | { readonly refused: string }> {
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  if (!req.auth) return { headers };
  if (!identity)
    throw new ConfigError([
      `${asKey} is not set, so ${req.method ?? 'GET'} ${req.path} (auth: true) has no one to act as: name a principal of auth.principals or 'disposable' (docs/auth.md)`,
    ]);
  try {
    return { headers: { ...headers, ...(await identity.headers()) } };
  } catch (error) {
    if (error instanceof SystemFailureError)
      return { refused: `credentials of ${identity.principal}: ${error.message}` };
    throw error;
  }
}

/** What a request the system refused credentials for looks like: no answer, with the refusal as the reason. */
export function refusedOutcome(why: string): HttpOutcome {
  return { status: 0, latencyMs: 0, body: '', json: undefined, headers: {}, setCookies: [], error: why };
}

/** One HTTP exchange with a hard timeout; never throws for the system's behaviour, only for an abort of the run. */
export async function httpExchange(
  url: string,
  init: {
    method: string;
    headers: Readonly<Record<string, string>>;
    body?: string;
    timeoutMs: number;
    signal: AbortSignal;
    /** `manual`: a 3xx is the answer (a form login's redirect carries its cookie); default follow. */
    redirect?: 'follow' | 'manual';
  },
): Promise<HttpOutcome> {
  const started = performance.now();
  const signal = AbortSignal.any([init.signal, AbortSignal.timeout(init.timeoutMs)]);
  try {
    const response = await fetch(url, {
      method: init.method,
      headers: init.headers,
      body: init.body ?? null,
      redirect: init.redirect ?? 'follow',
      signal,
    });
    const body = await response.text();
    return {
      status: response.status,
      latencyMs: performance.now() - started,
      body,
      json: parseJson(body),
      headers: Object.fromEntries(response.headers),
      setCookies: response.headers.getSetCookie(),
    };
  } catch (error) {
    init.signal.throwIfAborted();
    const latencyMs = performance.now() - started;
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
    const why =
      error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
        ? `no answer within ${init.timeoutMs}ms`
        : `${error instanceof Error ? error.message : String(error)}${cause ? ` (${(cause as NodeJS.ErrnoException).code ?? cause.message})` : ''}`;
    return { status: 0, latencyMs, body: '', json: undefined, headers: {}, setCookies: [], error: why };
  }
}

/**
 * Sends a request and resets the connection (TCP RST) as soon as the first byte of the answer
 * arrives: the server did the work, the client never saw the acknowledgement. Returns whether an
 * answer had started (so the server certainly received the request).
 */
export function sendAndLoseResponse(
  host: string,
  port: number,
  request: { method: string; path: string; headers: Record<string, string>; body: string },
  timeoutMs: number,
): Promise<{ answered: boolean; detail: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let done = false;
    const finish = (answered: boolean, detail: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!socket.destroyed) socket.resetAndDestroy();
      resolve({ answered, detail });
    };
    const timer = setTimeout(() => finish(false, `no answer within ${timeoutMs}ms`), timeoutMs);
    socket.once('connect', () => {
      const headers = {
        host: `${host}:${port}`,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(request.body)),
        connection: 'close',
        ...request.headers,
      };
      const head = [
        `${request.method} ${request.path} HTTP/1.1`,
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ].join('\r\n');
      socket.write(`${head}\r\n\r\n${request.body}`);
    });
    socket.once('data', () => finish(true, 'answer started; connection reset by the client'));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(false, error.code ?? error.message));
    socket.once('close', () => finish(false, 'closed before any answer'));
  });
}
