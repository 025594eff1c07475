import { httpExchange } from '../runner/http.ts';
import type { AuthAnswer, AuthRequest, AuthSend } from './authenticator.ts';

interface FetchAuthSendOptions {
  /** The base URL (`http://host:port`) of a service and container port; undefined: the stage's target. */
  readonly baseUrl: (service: string | undefined, port: number | undefined) => string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/**
 * The authenticator's transport over the runner's `httpExchange`: redirects are not followed (a
 * form login's 302 carries its cookie), no answer is status 0 with the reason, and only an abort
 * of the run throws.
 */
export function fetchAuthSend(options: FetchAuthSendOptions): AuthSend {
  return async (request: AuthRequest): Promise<AuthAnswer> => {
    const url = `${options.baseUrl(request.service, request.port).replace(/\/$/, '')}${request.path}`;
    const answer = await httpExchange(url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      redirect: 'manual',
    });
    return {
      status: answer.status,
      headers: answer.headers,
      setCookies: answer.setCookies,
      body: answer.body,
      ...(answer.error === undefined ? {} : { error: answer.error }),
    };
  };
}
