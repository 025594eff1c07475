import { resolve } from 'node:path';
import { fetchAuthSend, resolveValueRef, stageAuthenticator } from '../auth/index.ts';
import type { Authenticator } from '../auth/index.ts';
import type { AuthScheme, PrincipalConfig } from '../config/auth.ts';
import type { OpenApiConfig, SecurityConfig, ValueRef } from '../config/stages/security.ts';
import { NOT_APPLICABLE_TAG } from '../core/check-result.ts';
import type { CheckResult } from '../core/check-result.ts';
import { ConfigError, ReadinessError } from '../core/errors.ts';
import { notApplicableMessage } from '../runner/not-applicable.ts';
import { runCheck } from '../runner/suite.ts';
import type { CheckOutcome, CheckSpec, SuiteContext } from '../runner/suite.ts';
import { serviceUrl } from '../stack/stack-handle.ts';
import { describeExchange, fieldOf, fromTemplate, jsonOf } from './http.ts';
import type { HttpExchange, SecurityHttp } from './http.ts';
import { parseOpenApi, readOpenApiFile } from './openapi.ts';
import type { LoadedOpenApi } from './openapi.ts';
import { basicHeader, passwordProof, credentialHttpRequest, securityAuthSend } from './principals.ts';
import type { Identity, PasswordProof } from './principals.ts';

export type { Identity } from './principals.ts';

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
type OpenApiLookup =
  ({ readonly kind: 'document' } & LoadedOpenApi) | { readonly kind: 'failed'; readonly outcome: CheckOutcome };

const OPENAPI_REMEDIATION =
  'Serve the OpenAPI 3 document at security.openapi.path, or give it as a file (security.openapi: { file: "openapi.json" }), or set security.openapi: false when the service has none';

/** Judges the answer to `GET <path>` of the OpenAPI document: the document, or `failed` with the status and body. */
function openApiFromExchange(exchange: HttpExchange): OpenApiLookup {
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
  /** Credentials of `auth.principals` and throwaway users (`auth.disposable`). */
  readonly auth: Authenticator;
  #openapi: Promise<OpenApiLookup> | undefined;

  constructor(suite: SuiteContext, config: SecurityConfig, http: SecurityHttp) {
    this.suite = suite;
    this.config = config;
    this.http = http;
    this.openapiSource = openApiSource(config.openapi, suite.config.rootDir);
    // Credential requests to another service (a separate identity provider) go there directly.
    const other = fetchAuthSend({
      baseUrl: (service = config.target.service, port) =>
        serviceUrl(suite.handle, service, port ?? suite.config.services[service]?.ports[0] ?? config.target.port),
      timeoutMs: config.requestTimeoutMs,
      signal: suite.signal,
    });
    this.auth = stageAuthenticator(suite, config.target, {
      send: securityAuthSend(http, config.target, other, suite.signal),
      timeoutMs: config.requestTimeoutMs,
    });
    for (const principal of Object.values(suite.config.auth?.principals ?? {})) {
      if ('username' in principal && principal.username !== undefined) this.pii.add(principal.username);
    }
  }

  value(ref: ValueRef): string {
    return resolveValueRef(this.suite.config, ref);
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
      ...(identity.username === undefined ? {} : { username: identity.username }),
      ...(identity.password === undefined ? {} : { password: identity.password }),
      ...(identity.name === undefined ? {} : { name: identity.name }),
      ...(identity.userId === undefined ? {} : { userId: identity.userId }),
      ...(identity.refreshToken === undefined ? {} : { refreshToken: identity.refreshToken }),
    };
  }

  /** The principal throwaway users are made like (`auth.disposable.like`): its name and config. */
  like(): { readonly name: string; readonly principal: PrincipalConfig } {
    const name = this.suite.config.auth?.disposable?.like;
    if (name === undefined)
      throw new ConfigError(['auth.disposable is not configured: the security stage needs throwaway users']);
    return { name, principal: this.auth.principal(name) };
  }

  /** The scheme throwaway users authenticate by. */
  subjectScheme(): AuthScheme {
    return this.like().principal.scheme;
  }

  /** How a throwaway user proves a password (its login, or basic credentials on the probe); undefined when its scheme has none. */
  passwordProof(): PasswordProof | undefined {
    return passwordProof(this.like().principal);
  }

  /**
   * One attempt to authenticate `username` with `password` the way throwaway users do: their login
   * request, or the protected probe with basic credentials. The raw answer, for checks that judge it.
   */
  tryPassword(username: string, password: string, retryOn429 = true): Promise<HttpExchange> {
    const proof = this.passwordProof();
    if (!proof) {
      throw new ConfigError([`auth.principals.${this.like().name}: its scheme takes no password to try`]);
    }
    if (proof.kind === 'basic') {
      const request = fromTemplate(this.config.auth.probe, { username, password });
      return this.http.send({
        ...request,
        headers: { ...request.headers, ...basicHeader(username, password) },
        retryOn429,
      });
    }
    // An API key obtained as the user authenticates with basic credentials, as the authenticator does.
    const extra = proof.scheme === 'apiKey' ? basicHeader(username, password) : {};
    return this.http.send({ ...credentialHttpRequest(proof.request, { username, password }, extra), retryOn429 });
  }

  /** The tokens of a 2xx refresh answer, read with the fields of the principal throwaway users are like; throws (harness) when there is none. */
  tokensOf(exchange: HttpExchange, what: string): { token: string; refreshToken?: string } {
    const { principal } = this.like();
    const tokenField = principal.scheme === 'bearer' ? principal.tokenField : 'accessToken';
    const refreshField = principal.scheme === 'bearer' ? principal.refreshTokenField : undefined;
    const body = jsonOf(exchange);
    const token = fieldOf(body, tokenField);
    const refreshToken = refreshField === undefined ? undefined : fieldOf(body, refreshField);
    if (exchange.status < 200 || exchange.status >= 300 || typeof token !== 'string') {
      throw new ReadinessError(
        'TOKEN_MISSING',
        `${what}: ${describeExchange(exchange)} without "${tokenField}" (${exchange.body.slice(0, 200)})`,
      );
    }
    this.suite.redact.register(token, ...(typeof refreshToken === 'string' ? [refreshToken] : []));
    return { token, ...(typeof refreshToken === 'string' ? { refreshToken } : {}) };
  }

  /** A principal of `auth.principals`, authenticated once per stage (again when its credentials near their lifetime). */
  principal(name: string): Promise<Identity> {
    return this.auth.credentials(name);
  }

  /** The first principal of `auth.principals` with a role. */
  principalWithRole(role: string): Promise<Identity> {
    const name = Object.entries(this.suite.config.auth?.principals ?? {}).find(([, p]) => p.role === role)?.[0];
    if (name === undefined) throw new ConfigError([`auth.principals has no principal with role "${role}"`]);
    return this.principal(name);
  }

  /** Signs up a throwaway user (`auth.disposable`) and authenticates it; its username and name join the test PII. */
  async throwaway(label: string): Promise<Identity> {
    const user = await this.auth.disposable(label);
    if (user.username !== undefined) this.pii.add(user.username);
    if (user.name !== undefined) this.pii.add(user.name);
    return user;
  }
}
