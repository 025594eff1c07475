import type { ValueRef } from '../config/auth.ts';
import type { ResolvedConfig } from '../config/load-config.ts';
import { ConfigError } from '../core/errors.ts';
import type { SuiteContext } from '../runner/suite.ts';
import { serviceUrl } from '../stack/stack-handle.ts';
import { Authenticator } from './authenticator.ts';
import type { AuthSend } from './authenticator.ts';
import { fetchAuthSend } from './transport.ts';

/** Reads a value given literally or from a service's env in this config; a missing key is a config error naming it. */
export function resolveValueRef(config: ResolvedConfig, ref: ValueRef): string {
  if (typeof ref === 'string') return ref;
  const { service, key } = ref.fromServiceEnv;
  const value = config.services[service]?.env[key];
  if (value === undefined) {
    throw new ConfigError([`${config.configFile}: services.${service}.env.${key} is not set (value reference)`]);
  }
  return value;
}

interface StageAuthenticatorOptions {
  /** Seeded randomness for `{{uuid}}` in credential templates. */
  readonly random?: () => number;
  /** Per-request bound of a credential request (default 10 s). */
  readonly timeoutMs?: number;
  /** The stage's own transport (default: fetch to the service's host port, resolved per request as ports move on restarts). */
  readonly send?: AuthSend;
}

/**
 * The authenticator of one stage run over `auth` of the config: credential requests that name no
 * service go to `auth.target`, else to the stage's `target`; obtained secrets are registered with
 * the run's redactor. A config without `auth` gives an authenticator with no principal, whose use
 * is a config error naming `auth.principals`.
 */
export function stageAuthenticator(
  context: Pick<SuiteContext, 'config' | 'handle' | 'redact' | 'signal'>,
  target: { readonly service: string; readonly port: number } | undefined,
  options: StageAuthenticatorOptions = {},
): Authenticator {
  const { config } = context;
  const auth = config.auth ?? { principals: {} };
  const fallback = auth.target ?? target;
  const baseUrl = (service: string | undefined, port: number | undefined): string => {
    const name = service ?? fallback?.service;
    if (name === undefined)
      throw new ConfigError([
        `${config.configFile}: auth.target is not set and the stage has no target: name the service of each credential request`,
      ]);
    const containerPort =
      port ?? (name === fallback?.service ? fallback.port : undefined) ?? config.services[name]?.ports[0];
    if (containerPort === undefined)
      throw new ConfigError([`${config.configFile}: services.${name} exposes no port for a credential request`]);
    return serviceUrl(context.handle, name, containerPort);
  };
  return new Authenticator(auth, {
    send: options.send ?? fetchAuthSend({ baseUrl, timeoutMs: options.timeoutMs ?? 10_000, signal: context.signal }),
    resolve: (ref) => resolveValueRef(config, ref),
    redact: (...secrets) => context.redact.register(...secrets),
    ...(options.random ? { random: options.random } : {}),
  });
}
