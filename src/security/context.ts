import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { ResolvedConfig } from '../config/load-config.ts';
import type { OpenApiConfig, SecurityConfig, ValueRef } from '../config/stages/security.ts';
import { NOT_APPLICABLE_TAG } from '../core/check-result.ts';
import type { CheckResult } from '../core/check-result.ts';
import { ConfigError, ReadinessError } from '../core/errors.ts';
import { notApplicableMessage } from '../runner/not-applicable.ts';
import { runCheck } from '../runner/suite.ts';
import type { CheckOutcome, CheckSpec, SuiteContext } from '../runner/suite.ts';
import { describeExchange, fieldOf, fromTemplate, jsonOf } from './http.ts';
import type { HttpExchange, SecurityHttp } from './http.ts';
import { parseOpenApi, readOpenApiFile } from './openapi.ts';
import type { LoadedOpenApi } from './openapi.ts';

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

/** Why the checks that need an OpenAPI document do not apply when the config says there is none. */
export const NO_OPENAPI_REASON = 'no OpenAPI document (security.openapi: false)';

/** Where the target's OpenAPI document comes from, as the stage uses it (a file's path absolute). */
export type OpenApiSource =
  | { readonly kind: 'service'; readonly path: string }
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'none' };

/** The config's `security.openapi`, a file resolved against the config's folder like the rules file. */
export function openApiSource(openapi: OpenApiConfig, rootDir: string): OpenApiSource {
  if (openapi === false) return { kind: 'none' };
  if ('file' in openapi) return { kind: 'file', file: resolve(rootDir, openapi.file) };
  return { kind: 'service', path: openapi.path };
}

/** The OpenAPI document, or the target's failure to serve it (a `failed` outcome with its status and body). */
export type OpenApiLookup =
  ({ readonly kind: 'document' } & LoadedOpenApi) | { readonly kind: 'failed'; readonly outcome: CheckOutcome };

const OPENAPI_REMEDIATION =
  'Serve the OpenAPI 3 document at security.openapi.path, or give it as a file (security.openapi: { file: "openapi.json" }), or set security.openapi: false when the service has none';

/** Judges the answer to `GET <path>` of the OpenAPI document: the document, or `failed` with the status and body. */
export function openApiFromExchange(exchange: HttpExchange): OpenApiLookup {
  const evidence = [
    {
      name: 'OpenAPI document answer',
      contentType: 'text/plain',
      content: `${describeExchange(exchange)}\n${exchange.body.slice(0, 2000)}`,
    },
  ];
  const failed = (why: string): OpenApiLookup => ({
    kind: 'failed',
    outcome: {
      status: 'failed',
      message: `${describeExchange(exchange)}: ${why}, so the check has no document to work from (${exchange.body.slice(0, 200)})`,
      remediation: OPENAPI_REMEDIATION,
      evidence,
    },
  });
  if (exchange.status !== 200) return failed('the OpenAPI document is not served (expected 200)');
  const raw = jsonOf(exchange);
  if (raw === undefined) return failed('the answer is not JSON');
  try {
    return { kind: 'document', raw: raw as Readonly<Record<string, unknown>>, document: parseOpenApi(raw) };
  } catch (error) {
    return failed(`the answer is ${(error as Error).message}`);
  }
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
  /** Where the OpenAPI document comes from (`security.openapi`). */
  readonly openapiSource: OpenApiSource;
  readonly #users = new Map<string, Promise<Identity>>();
  #openapi: Promise<OpenApiLookup> | undefined;

  constructor(suite: SuiteContext, config: SecurityConfig, http: SecurityHttp) {
    this.suite = suite;
    this.config = config;
    this.http = http;
    this.openapiSource = openApiSource(config.openapi, suite.config.rootDir);
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

  /**
   * Records a check `not-applicable` with `reason` (tag `not-applicable`) without running it: for what
   * the config makes inapplicable. A reason the config's own `notApplicable` gives still wins.
   */
  notApplicable(spec: CheckSpec, reason: string): Promise<CheckResult> {
    const { remediation: _remediation, ...rest } = spec;
    return this.check({ ...rest, tags: [...(spec.tags ?? []), NOT_APPLICABLE_TAG] }, () =>
      Promise.resolve({ status: 'not-applicable', message: notApplicableMessage(reason) }),
    );
  }

  /**
   * The target's OpenAPI document, read once: fetched from the service (a failure to serve it is the
   * system's, a `failed` outcome) or read from the configured file. Callers check `openapiSource` for
   * `none` first (their checks are then not applicable).
   */
  openapi(): Promise<OpenApiLookup> {
    const source = this.openapiSource;
    this.#openapi ??= (async (): Promise<OpenApiLookup> => {
      switch (source.kind) {
        case 'service':
          return openApiFromExchange(await this.http.send({ method: 'GET', path: source.path }));
        case 'file':
          try {
            return { kind: 'document', ...(await readOpenApiFile(source.file)) };
          } catch (error) {
            throw new ReadinessError(
              'OPENAPI_FILE_UNREADABLE',
              `security.openapi.file ${source.file} ${(error as Error).message} (it was checked before the run)`,
              { cause: error },
            );
          }
        case 'none':
          throw new ReadinessError('OPENAPI_NONE', `the OpenAPI document was asked for: ${NO_OPENAPI_REASON}`);
      }
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
