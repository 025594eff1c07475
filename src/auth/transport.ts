import type { AuthAnswer, AuthRequest, AuthSend } from './authenticator.ts';

export interface FetchAuthSendOptions {
  /** The base URL (`http://host:port`) of a service and container port; undefined: the stage's target. */
  readonly baseUrl: (service: string | undefined, port: number | undefined) => string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/**
 * The authenticator's transport over fetch: redirects are not followed (a form login's 302 carries
 * its cookie), no answer is status 0 with the reason, and only an abort of the run throws.
 */
export function fetchAuthSend(options: FetchAuthSendOptions): AuthSend {
  return async (request: AuthRequest): Promise<AuthAnswer> => {
    const url = `${options.baseUrl(request.service, request.port).replace(/\/$/, '')}${request.path}`;
    try {
      const response = await fetch(url, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        redirect: 'manual',
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
      });
      const body = await response.text();
      return {
        status: response.status,
        headers: Object.fromEntries([...response.headers].map(([k, v]) => [k.toLowerCase(), v])),
        setCookies: response.headers.getSetCookie(),
        body,
      };
    } catch (error) {
      options.signal.throwIfAborted();
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
      const why =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
          ? `no answer within ${options.timeoutMs}ms`
          : `${error instanceof Error ? error.message : String(error)}${cause ? ` (${(cause as NodeJS.ErrnoException).code ?? cause.message})` : ''}`;
      return { status: 0, headers: {}, setCookies: [], body: '', error: why };
    }
  };
}
