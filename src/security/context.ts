import { randomBytes } from 'node:crypto';
import type { ResolvedConfig } from '../config/load-config.ts';
import type { SecurityConfig, ValueRef } from '../config/stages/security.ts';
import type { CheckResult } from '../core/check-result.ts';
import { ConfigError, ReadinessError } from '../core/errors.ts';
import { runCheck } from '../runner/suite.ts';
import type { CheckOutcome, CheckSpec, SuiteContext } from '../runner/suite.ts';
import { describeExchange, fieldOf, fromTemplate, jsonOf } from './http.ts';
import type { HttpExchange, SecurityHttp } from './http.ts';
import { parseOpenApi } from './openapi.ts';
import type { OpenApiDocument } from './openapi.ts';

/** Someone the stage acts as: a configured user or a throwaway account it signed up. */
export interface Identity {
  readonly label: string;
  readonly username: string;
  readonly password: string;
  readonly name?: string;
  readonly userId?: string;
  readonly role?: string;
  readonly accessToken: string;
  readonly refreshToken?: string;
}

/** Reads a value given literally or from a service's env in this config. */
export function resolveValue(config: ResolvedConfig, ref: ValueRef): string {
  if (typeof ref === 'string') return ref;
  const { service, key } = ref.fromServiceEnv;
  const value = config.services[service]?.env[key];
  if (value === undefined) {
    throw new ConfigError([
      `${config.configFile}: services.${service}.env.${key} is not set (security value reference)`,
    ]);
  }
  return value;
}

/** A check of the stage as it is planned and recorded: tagged `security` before its own tags. */
export function securitySpec(spec: CheckSpec): CheckSpec {
  return { ...spec, tags: ['security', ...(spec.tags ?? [])] };
}

/** What the security checks share during one stage run. */
export class SecurityContext {
  readonly suite: SuiteContext;
  readonly config: SecurityConfig;
  readonly http: SecurityHttp;
  /** Test PII the stage put into the system (throwaway e-mails and names, configured usernames). */
  readonly pii = new Set<string>();
  /** Native check results, for the SARIF file. */
  readonly results: CheckResult[] = [];
  readonly #users = new Map<string, Promise<Identity>>();
  #openapi: Promise<OpenApiDocument> | undefined;

  constructor(suite: SuiteContext, config: SecurityConfig, http: SecurityHttp) {
    this.suite = suite;
    this.config = config;
    this.http = http;
    for (const user of Object.values(config.users)) this.pii.add(user.username);
  }

  value(ref: ValueRef): string {
    return resolveValue(this.suite.config, ref);
  }

  /** Runs and records a native check, keeping its result for SARIF. */
  async check(spec: CheckSpec, body: () => Promise<CheckOutcome>): Promise<CheckResult> {
    const result = await runCheck(this.suite, securitySpec(spec), body);
    this.results.push(result);
    return result;
  }

  /** The OpenAPI document of the target, fetched once. */
  openapi(): Promise<OpenApiDocument> {
    this.#openapi ??= (async () => {
      const exchange = await this.http.send({ method: 'GET', path: this.config.openapiPath });
      const doc = jsonOf(exchange);
      if (exchange.status !== 200 || doc === undefined) {
        throw new ReadinessError(
          'OPENAPI_UNAVAILABLE',
          `GET ${this.config.openapiPath} answered ${exchange.status}${doc === undefined ? ' without JSON' : ''}: the stage needs the OpenAPI document`,
        );
      }
      return parseOpenApi(doc);
    })();
    return this.#openapi;
  }

  varsOf(identity: Identity | undefined): Record<string, string> {
    if (!identity) return {};
    return {
      username: identity.username,
      password: identity.password,
      ...(identity.name === undefined ? {} : { name: identity.name }),
      ...(identity.userId === undefined ? {} : { userId: identity.userId }),
      ...(identity.refreshToken === undefined ? {} : { refreshToken: identity.refreshToken }),
    };
  }

  /** Sends the configured login for a username and password (no retry on 429 unless asked). */
  login(username: string, password: string, retryOn429 = true): Promise<HttpExchange> {
    return this.http.send({ ...fromTemplate(this.config.auth.login.request, { username, password }), retryOn429 });
  }

  /** The tokens of a 2xx login or refresh answer; throws (harness) when the answer has none. */
  tokensOf(exchange: HttpExchange, what: string): { accessToken: string; refreshToken?: string } {
    const body = jsonOf(exchange);
    const accessToken = fieldOf(body, this.config.auth.login.accessTokenField);
    const refreshToken = fieldOf(body, this.config.auth.login.refreshTokenField);
    if (exchange.status < 200 || exchange.status >= 300 || typeof accessToken !== 'string') {
      throw new ReadinessError(
        'LOGIN_FAILED',
        `${what}: ${describeExchange(exchange)} without "${this.config.auth.login.accessTokenField}" (${exchange.body.slice(0, 200)})`,
      );
    }
    this.suite.redact.register(accessToken, ...(typeof refreshToken === 'string' ? [refreshToken] : []));
    return { accessToken, ...(typeof refreshToken === 'string' ? { refreshToken } : {}) };
  }

  /** A configured user, logged in once per stage. */
  user(id: string): Promise<Identity> {
    let pending = this.#users.get(id);
    if (!pending) {
      const user = this.config.users[id];
      if (!user) throw new ConfigError([`security.users has no user "${id}"`]);
      pending = (async () => {
        const password = this.value(user.password);
        const tokens = this.tokensOf(await this.login(user.username, password), `login of user "${id}"`);
        return { label: id, username: user.username, password, role: user.role, ...tokens };
      })();
      this.#users.set(id, pending);
    }
    return pending;
  }

  /** The first configured user with a role. */
  userWithRole(role: string): Promise<Identity> {
    const id = Object.entries(this.config.users).find(([, u]) => u.role === role)?.[0];
    if (id === undefined) throw new ConfigError([`security.users has no user with role "${role}"`]);
    return this.user(id);
  }

  /** Signs up a disposable account and logs it in; its e-mail and name join the test PII. */
  async throwaway(label: string): Promise<Identity> {
    const { throwaway } = this.config;
    const tag = randomBytes(4).toString('hex');
    const username = throwaway.username.replaceAll('{random}', tag);
    const name = throwaway.name.replaceAll('{random}', tag);
    const password = `Rd-${randomBytes(9).toString('base64url')}-9a`;
    this.pii.add(username);
    this.pii.add(name);
    const signup = await this.http.send(fromTemplate(throwaway.signup, { username, name, password }));
    if (signup.status < 200 || signup.status >= 300) {
      throw new ReadinessError(
        'SIGNUP_FAILED',
        `sign-up of a throwaway user for ${label}: ${describeExchange(signup)} (${signup.body.slice(0, 200)})`,
      );
    }
    const userId = fieldOf(jsonOf(signup), throwaway.idField);
    const tokens = this.tokensOf(await this.login(username, password), `login of throwaway user for ${label}`);
    return {
      label,
      username,
      password,
      name,
      ...(typeof userId === 'string' || typeof userId === 'number' ? { userId: String(userId) } : {}),
      ...tokens,
    };
  }
}
