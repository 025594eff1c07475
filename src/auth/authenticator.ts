import { randomBytes } from 'node:crypto';
import type {
  AuthConfig,
  AuthScheme,
  CredentialRequest,
  DisposableConfig,
  PrincipalConfig,
  ValueRef,
} from '../config/auth.ts';
import { ConfigError, ReadinessError, SystemFailureError } from '../core/errors.ts';
import { parseJson } from '../runner/http.ts';
import { getPath, renderString, renderTemplate } from '../runner/templates.ts';

/** A request the authenticator sends; `service`/`port` undefined means the asking stage's target. */
export interface AuthRequest {
  readonly service?: string;
  readonly port?: number;
  readonly method: string;
  readonly path: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** What came back; `status` 0 means no answer (refused, reset, timed out), with `error` saying which. */
export interface AuthAnswer {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Every `Set-Cookie` header of the answer, as sent. */
  readonly setCookies: readonly string[];
  readonly body: string;
  readonly error?: string;
}

/** How the authenticator reaches the system: each stage passes its own client. */
export type AuthSend = (request: AuthRequest) => Promise<AuthAnswer>;

/** Credentials of one principal, ready to put on a request. */
export interface Credentials {
  /** The principal's name, or `disposable:<label>` for a throwaway user. */
  readonly principal: string;
  readonly scheme: AuthScheme;
  /** Headers to add to a request made as this principal (lower-case names; none for scheme `none`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The bearer token (bearer, oauth2) or the API key: what token checks examine. */
  readonly token?: string;
  readonly refreshToken?: string;
  readonly username?: string;
  readonly password?: string;
  /** A disposable user's display name and id (from its sign-up answer). */
  readonly name?: string;
  readonly userId?: string;
  readonly role?: string;
  /** When they were obtained and when to obtain them again (epoch ms; undefined: they do not expire). */
  readonly obtainedAt: number;
  readonly renewAt?: number;
  /** What obtaining them sent and got (`POST /login -> 200`), secrets left out. */
  readonly evidence: readonly string[];
}

interface AuthenticatorOptions {
  readonly send: AuthSend;
  /** Reads a value given literally or from a service's env. */
  readonly resolve: (ref: ValueRef) => string;
  /** Registers secrets to redact from every artifact (tokens, keys, passwords, cookie values, encoded credentials). */
  readonly redact: (...secrets: string[]) => void;
  /** Seeded randomness for `{{uuid}}` in templates (default Math.random). */
  readonly random?: () => number;
  readonly now?: () => number;
}

const is2xx = (status: number): boolean => status >= 200 && status < 300;
const is3xx = (status: number): boolean => status >= 300 && status < 400;

/** `METHOD path -> status` of an answer (or why there was none). */
function describeAnswer(request: Pick<AuthRequest, 'method' | 'path'>, answer: AuthAnswer): string {
  return `${request.method} ${request.path} -> ${answer.status === 0 ? `no answer (${answer.error ?? 'unknown'})` : answer.status}`;
}

/** The `name=value` part of each Set-Cookie header, keeping only `names` when given. */
export function cookiePairs(setCookies: readonly string[], names?: readonly string[]): string[] {
  const pairs: string[] = [];
  for (const line of setCookies) {
    const pair = line.split(';', 1)[0]?.trim() ?? '';
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const cookieName = pair.slice(0, eq);
    if (names && !names.includes(cookieName)) continue;
    pairs.push(pair);
  }
  return pairs;
}

/** Whether a token has the shape of a JWT (three base64url parts whose header names an `alg`). */
export function looksLikeJwt(token: string | undefined): boolean {
  if (token === undefined) return false;
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  try {
    const header = JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString('utf8')) as unknown;
    return header !== null && typeof header === 'object' && 'alg' in header;
  } catch {
    return false;
  }
}

/**
 * A credential request with its `{{...}}` placeholders filled: method, path, lower-case headers
 * (`extraHeaders` last) and the body, JSON or form-urlencoded with its content type. Where it is
 * sent (`service`, `port`) is the caller's.
 */
export function renderCredentialRequest(
  spec: CredentialRequest,
  vars: Readonly<Record<string, string>>,
  random: () => number,
  extraHeaders: Readonly<Record<string, string>> = {},
): Omit<AuthRequest, 'service' | 'port'> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.headers))
    headers[key.toLowerCase()] = renderString(value, vars, random);
  for (const [key, value] of Object.entries(extraHeaders)) headers[key.toLowerCase()] = value;
  let body: string | undefined;
  if (spec.form) {
    const pairs = Object.entries(spec.form).map(([k, v]): [string, string] => [k, renderString(v, vars, random)]);
    body = new URLSearchParams(pairs).toString();
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  } else if (spec.body !== undefined) {
    body = JSON.stringify(renderTemplate(spec.body, vars, random));
    headers['content-type'] ??= 'application/json';
  }
  return {
    method: spec.method,
    path: renderString(spec.path, vars, random),
    headers,
    ...(body === undefined ? {} : { body }),
  };
}

/** A value placed before a secret in a header: `Bearer abc`, or the bare secret for an empty prefix. */
const withPrefix = (prefix: string, secret: string): string => (prefix === '' ? secret : `${prefix} ${secret}`);

/** A username and password to authenticate with, in place of the principal's own (disposable users, wrong-password probes). */
interface UserOverride {
  readonly username: string;
  readonly password: string;
}

/**
 * Obtains credentials for the named principals of `auth` (and for disposable users), whatever the
 * scheme: a bearer token from a JSON login or a fixed one, an API key fixed or obtained by a
 * request, HTTP basic, a session cookie from a form or JSON login, an OAuth2 client-credentials
 * token, or none. Credentials are cached per principal and obtained again when they near their
 * lifetime. The system refusing a login is its failure (`SystemFailureError`, recorded `failed`);
 * a login answer without the configured field is a harness/config error.
 */
export class Authenticator {
  readonly #config: AuthConfig;
  readonly #options: AuthenticatorOptions;
  readonly #cache = new Map<string, Promise<Credentials>>();
  readonly #random: () => number;
  readonly #now: () => number;

  constructor(config: AuthConfig, options: AuthenticatorOptions) {
    this.#config = config;
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** The configured principals' names. */
  get principals(): readonly string[] {
    return Object.keys(this.#config.principals);
  }

  /** Whether throwaway users can be made (`auth.disposable` is configured). */
  get hasDisposable(): boolean {
    return this.#config.disposable !== undefined;
  }

  /** A principal's config; a name that is not configured is a config error naming the key. */
  principal(name: string): PrincipalConfig {
    const principal = this.#config.principals[name];
    if (!principal) {
      const known = this.principals.join(', ') || '(none)';
      throw new ConfigError([`auth.principals has no principal "${name}" (known: ${known})`]);
    }
    return principal;
  }

  /** The scheme a principal, or a disposable user (`'disposable'`), authenticates by. */
  schemeOf(name: string): AuthScheme {
    if (name === 'disposable') return this.principal(this.#disposable().like).scheme;
    return this.principal(name).scheme;
  }

  /** The credentials of a configured principal, obtained once and again when they near their lifetime or `fresh`. */
  credentials(name: string, options: { readonly fresh?: boolean } = {}): Promise<Credentials> {
    const cached = this.#cache.get(name);
    if (cached && !options.fresh) {
      return cached.then((c) =>
        c.renewAt !== undefined && this.#now() >= c.renewAt ? this.credentials(name, { fresh: true }) : c,
      );
    }
    const principal = this.principal(name);
    const pending = this.#obtain(name, principal, undefined);
    this.#cache.set(name, pending);
    // A failed attempt is not kept: the next caller tries again.
    pending.catch(() => {
      if (this.#cache.get(name) === pending) this.#cache.delete(name);
    });
    return pending;
  }

  /**
   * Authenticates a principal's scheme with another username and password (a wrong password for a
   * lockout check): resolves to credentials, or rejects with the system's refusal. Never cached.
   */
  credentialsAs(name: string, user: UserOverride): Promise<Credentials> {
    return this.#obtain(name, this.principal(name), user);
  }

  /** Signs up a throwaway user (`auth.disposable`) and authenticates it like `disposable.like`. */
  async disposable(label: string): Promise<Credentials> {
    const disposable = this.#disposable();
    const tag = randomBytes(4).toString('hex');
    const vars = { random: tag };
    const username = renderString(disposable.username, vars, this.#random);
    const name = renderString(disposable.name, vars, this.#random);
    const password = `Rd-${randomBytes(9).toString('base64url')}-9a`;
    this.#options.redact(password);
    const signupHeaders = disposable.signupAs ? (await this.credentials(disposable.signupAs)).headers : {};
    const { request, answer } = await this.#send(disposable.signup, { username, password, name }, signupHeaders);
    const expected = disposable.signup.expectStatus;
    const ok =
      (expected ? expected.includes(answer.status) : is2xx(answer.status)) ||
      disposable.acceptStatus.includes(answer.status);
    if (!ok) {
      throw new SystemFailureError(
        `sign-up of a throwaway user for ${label} was refused: ${describeAnswer(request, answer)}`,
        `${describeAnswer(request, answer)}\n${answer.body.slice(0, 500)}`,
      );
    }
    const userId = getPath(parseJson(answer.body), disposable.idField);
    const like = this.principal(disposable.like);
    const credentials = await this.#obtain(`disposable:${label}`, like, { username, password });
    const { role: _role, ...rest } = credentials;
    return {
      ...rest,
      name,
      ...(typeof userId === 'string' || typeof userId === 'number' ? { userId: String(userId) } : {}),
      evidence: [`sign-up: ${describeAnswer(request, answer)}`, ...credentials.evidence],
    };
  }

  #disposable(): DisposableConfig {
    const disposable = this.#config.disposable;
    if (!disposable) throw new ConfigError(['auth.disposable is not configured: no way to make a throwaway user']);
    return disposable;
  }

  async #send(
    spec: CredentialRequest,
    vars: Readonly<Record<string, string>>,
    extraHeaders: Readonly<Record<string, string>> = {},
  ): Promise<{ request: AuthRequest; answer: AuthAnswer }> {
    const request: AuthRequest = {
      ...(spec.service === undefined ? this.#targetService() : { service: spec.service }),
      ...(spec.port === undefined ? this.#targetPort(spec.service) : { port: spec.port }),
      ...renderCredentialRequest(spec, vars, this.#random, extraHeaders),
    };
    return { request, answer: await this.#options.send(request) };
  }

  #targetService(): { service?: string } {
    const target = this.#config.target;
    return target ? { service: target.service } : {};
  }

  #targetPort(service: string | undefined): { port?: number } {
    const target = this.#config.target;
    if (!target || (service !== undefined && service !== target.service)) return {};
    return { port: target.port };
  }

  /** A credential request that must succeed: the system refusing it is the system's failure. */
  async #require(
    what: string,
    spec: CredentialRequest,
    vars: Readonly<Record<string, string>>,
    options: { readonly redirectOk?: boolean; readonly headers?: Readonly<Record<string, string>> } = {},
  ): Promise<{ answer: AuthAnswer; line: string }> {
    const { request, answer } = await this.#send(spec, vars, options.headers);
    const line = describeAnswer(request, answer);
    const ok = spec.expectStatus
      ? spec.expectStatus.includes(answer.status)
      : is2xx(answer.status) || (options.redirectOk === true && is3xx(answer.status));
    if (!ok) {
      throw new SystemFailureError(`${what} was refused: ${line}`, `${line}\n${answer.body.slice(0, 500)}`);
    }
    return { answer, line };
  }

  #field(answer: AuthAnswer, field: string, what: string, key: string): string {
    const value = getPath(parseJson(answer.body), field);
    if (typeof value !== 'string' || value === '') {
      throw new ReadinessError(
        'AUTH_FIELD_MISSING',
        `${what}: the answer (${answer.status}) has no string at "${field}"`,
        { hint: `Check ${key} against what the system answers: ${answer.body.slice(0, 120)}` },
      );
    }
    return value;
  }

  #renewAt(
    obtainedAt: number,
    answer: AuthAnswer | undefined,
    spec: { expiresInField?: string | undefined; maxAgeMs?: number | undefined },
  ): number | undefined {
    const candidates: number[] = [];
    if (spec.maxAgeMs !== undefined) candidates.push(obtainedAt + spec.maxAgeMs);
    if (answer && spec.expiresInField !== undefined) {
      const seconds = Number(getPath(parseJson(answer.body), spec.expiresInField));
      // Renew at 80% of the credential's own lifetime so it never expires in flight.
      if (Number.isFinite(seconds) && seconds > 0) candidates.push(obtainedAt + seconds * 800);
    }
    return candidates.length === 0 ? undefined : Math.min(...candidates);
  }

  /** Obtains credentials for one principal's scheme: `user` replaces its own username and password. */
  async #obtain(label: string, principal: PrincipalConfig, user: UserOverride | undefined): Promise<Credentials> {
    const base: Base = {
      principal: label,
      scheme: principal.scheme,
      obtainedAt: this.#now(),
      ...(principal.role ? { role: principal.role } : {}),
    };
    const key = `auth.principals.${label}`;
    switch (principal.scheme) {
      case 'none':
        return { ...base, headers: {}, evidence: ['no credentials (scheme none)'] };
      case 'basic':
        return this.#basic(base, principal, user);
      case 'bearer':
        return this.#bearer(base, key, principal, user);
      case 'apiKey':
        return this.#apiKey(base, key, principal, user);
      case 'cookie':
        return this.#cookie(base, principal, user);
      case 'oauth2':
        return this.#oauth2(base, key, principal);
    }
  }

  /** The username and password a request fills in: the override's, or the principal's own (the password redacted). */
  #identity(principal: PrincipalConfig, user: UserOverride | undefined): { username?: string; password?: string } {
    if (user) return user;
    if (!('username' in principal)) return {};
    const password = principal.password === undefined ? undefined : this.#options.resolve(principal.password);
    if (password !== undefined) this.#options.redact(password);
    return {
      ...(principal.username === undefined ? {} : { username: principal.username }),
      ...(password === undefined ? {} : { password }),
    };
  }

  /** `Basic base64(username:password)`, redacted, sent with no request of its own. */
  #basicHeader(username: string, password: string): Record<string, string> {
    const encoded = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
    this.#options.redact(encoded);
    return { authorization: `Basic ${encoded}` };
  }

  #basic(
    base: Base,
    principal: Extract<PrincipalConfig, { scheme: 'basic' }>,
    user: UserOverride | undefined,
  ): Credentials {
    const username = user?.username ?? principal.username;
    const password = user?.password ?? this.#options.resolve(principal.password);
    this.#options.redact(password);
    return {
      ...base,
      headers: this.#basicHeader(username, password),
      username,
      password,
      evidence: [`HTTP basic as ${username}`],
    };
  }

  async #bearer(
    base: Base,
    key: string,
    principal: Extract<PrincipalConfig, { scheme: 'bearer' }>,
    user: UserOverride | undefined,
  ): Promise<Credentials> {
    const who = this.#identity(principal, user);
    const header = principal.header.toLowerCase();
    if (principal.token !== undefined && !user) {
      const token = this.#options.resolve(principal.token);
      this.#options.redact(token);
      return {
        ...base,
        ...who,
        headers: { [header]: withPrefix(principal.prefix, token) },
        token,
        evidence: ['fixed bearer token'],
      };
    }
    if (!principal.login) throw new ConfigError([`${key}: a fixed token cannot log in another user; give a login`]);
    const { answer, line } = await this.#require(`login of ${base.principal}`, principal.login, who);
    const token = this.#field(answer, principal.tokenField, `login of ${base.principal}`, `${key}.tokenField`);
    const refresh =
      principal.refreshTokenField === undefined
        ? undefined
        : getPath(parseJson(answer.body), principal.refreshTokenField);
    this.#options.redact(token, ...(typeof refresh === 'string' ? [refresh] : []));
    const renewAt = this.#renewAt(base.obtainedAt, answer, principal);
    return {
      ...base,
      ...who,
      headers: { [header]: withPrefix(principal.prefix, token) },
      token,
      ...(typeof refresh === 'string' ? { refreshToken: refresh } : {}),
      ...(renewAt === undefined ? {} : { renewAt }),
      evidence: [`login: ${line}`],
    };
  }

  async #apiKey(
    base: Base,
    key: string,
    principal: Extract<PrincipalConfig, { scheme: 'apiKey' }>,
    user: UserOverride | undefined,
  ): Promise<Credentials> {
    const who = this.#identity(principal, user);
    const header = principal.header.toLowerCase();
    if (principal.key !== undefined && !user) {
      const apiKey = this.#options.resolve(principal.key);
      this.#options.redact(apiKey);
      return {
        ...base,
        ...who,
        headers: { [header]: withPrefix(principal.prefix, apiKey) },
        token: apiKey,
        evidence: ['fixed API key'],
      };
    }
    if (!principal.obtain) throw new ConfigError([`${key}: a fixed key cannot authenticate another user; give obtain`]);
    let asHeaders: Readonly<Record<string, string>> = {};
    if (principal.obtainAs !== undefined && !user) asHeaders = (await this.credentials(principal.obtainAs)).headers;
    else if (who.username !== undefined && who.password !== undefined)
      asHeaders = this.#basicHeader(who.username, who.password);
    const { answer, line } = await this.#require(`API key of ${base.principal}`, principal.obtain, who, {
      headers: asHeaders,
    });
    const apiKey = this.#field(answer, principal.keyField, `API key of ${base.principal}`, `${key}.keyField`);
    this.#options.redact(apiKey);
    const renewAt = this.#renewAt(base.obtainedAt, answer, principal);
    return {
      ...base,
      ...who,
      headers: { [header]: withPrefix(principal.prefix, apiKey) },
      token: apiKey,
      ...(renewAt === undefined ? {} : { renewAt }),
      evidence: [`API key: ${line}`],
    };
  }

  async #cookie(
    base: Base,
    principal: Extract<PrincipalConfig, { scheme: 'cookie' }>,
    user: UserOverride | undefined,
  ): Promise<Credentials> {
    const who = this.#identity(principal, user);
    const { answer, line } = await this.#require(`login of ${base.principal}`, principal.login, who, {
      redirectOk: true,
    });
    const pairs = cookiePairs(answer.setCookies, principal.cookies);
    if (pairs.length === 0) {
      throw new SystemFailureError(
        `login of ${base.principal} set no ${principal.cookies ? `cookie named ${principal.cookies.join(' or ')}` : 'cookie'}: ${line}`,
        `${line}\nset-cookie: ${answer.setCookies.length === 0 ? '(none)' : answer.setCookies.map((c) => c.split('=', 1)[0]).join(', ')}`,
      );
    }
    for (const pair of pairs) this.#options.redact(pair.slice(pair.indexOf('=') + 1));
    const renewAt = this.#renewAt(base.obtainedAt, answer, principal);
    return {
      ...base,
      ...who,
      headers: { cookie: pairs.join('; ') },
      ...(renewAt === undefined ? {} : { renewAt }),
      evidence: [`login: ${line} (cookies ${pairs.map((p) => p.split('=', 1)[0]).join(', ')})`],
    };
  }

  async #oauth2(
    base: Base,
    key: string,
    principal: Extract<PrincipalConfig, { scheme: 'oauth2' }>,
  ): Promise<Credentials> {
    const clientId = this.#options.resolve(principal.clientId);
    const clientSecret = this.#options.resolve(principal.clientSecret);
    this.#options.redact(clientSecret);
    const form: Record<string, string> = { grant_type: 'client_credentials' };
    if (principal.scope) form['scope'] = principal.scope;
    if (principal.audience) form['audience'] = principal.audience;
    // RFC 6749 2.3.1: for HTTP basic the id and secret are form-urlencoded before the basic encoding.
    const headers =
      principal.clientAuth === 'basic'
        ? this.#basicHeader(encodeURIComponent(clientId), encodeURIComponent(clientSecret))
        : {};
    if (principal.clientAuth === 'body') Object.assign(form, { client_id: clientId, client_secret: clientSecret });
    const spec: CredentialRequest = {
      method: 'POST',
      path: principal.tokenEndpoint.path,
      ...(principal.tokenEndpoint.service === undefined ? {} : { service: principal.tokenEndpoint.service }),
      ...(principal.tokenEndpoint.port === undefined ? {} : { port: principal.tokenEndpoint.port }),
      headers: { accept: 'application/json' },
      form,
    };
    const { answer, line } = await this.#require(`token request of ${base.principal}`, spec, {}, { headers });
    const token = this.#field(answer, principal.tokenField, `token request of ${base.principal}`, `${key}.tokenField`);
    this.#options.redact(token);
    const renewAt = this.#renewAt(base.obtainedAt, answer, principal);
    return {
      ...base,
      headers: { authorization: `Bearer ${token}` },
      token,
      ...(renewAt === undefined ? {} : { renewAt }),
      evidence: [`client credentials: ${line}`],
    };
  }
}

/** What every credential carries whatever its scheme. */
type Base = Pick<Credentials, 'principal' | 'scheme' | 'obtainedAt' | 'role'>;
