import { connect } from 'node:net';
import type { Json } from './templates.ts';

/** An HTTP request of a probe or a ledger write; `service`/`port` default to the chaos target. */
export interface HttpRequest {
  readonly service?: string;
  readonly port?: number;
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Json;
  /** Send the experiment session's token. */
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
  readonly error?: string;
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

/** One HTTP exchange with a hard timeout; never throws for the system's behaviour, only for an abort of the run. */
export async function httpExchange(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number; signal: AbortSignal },
): Promise<HttpOutcome> {
  const started = performance.now();
  const signal = AbortSignal.any([init.signal, AbortSignal.timeout(init.timeoutMs)]);
  try {
    const response = await fetch(url, {
      method: init.method,
      headers: init.headers,
      body: init.body ?? null,
      signal,
    });
    const body = await response.text();
    return {
      status: response.status,
      latencyMs: performance.now() - started,
      body,
      json: parseJson(body),
      headers: Object.fromEntries(response.headers),
    };
  } catch (error) {
    init.signal.throwIfAborted();
    const latencyMs = performance.now() - started;
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
    const why =
      error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
        ? `no answer within ${init.timeoutMs}ms`
        : `${error instanceof Error ? error.message : String(error)}${cause ? ` (${(cause as NodeJS.ErrnoException).code ?? cause.message})` : ''}`;
    return { status: 0, latencyMs, body: '', json: undefined, headers: {}, error: why };
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
