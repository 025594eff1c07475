import { z } from 'zod';
import { checkServicePort } from './stages/refine-context.ts';
import type { RefinementCtx } from './stages/refine-context.ts';

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a lower-case name of letters, digits and dashes');
const port = z.number().int().min(1).max(65535);
const status = z.number().int().min(100).max(599);

/** The name a stage's `as` (or a contract state's principal) gives for a fresh throwaway user of `auth.disposable`; no principal may take it. */
export const DISPOSABLE = 'disposable';

/** The authentication schemes a principal can use, in the order the docs present them. */
export const AUTH_SCHEMES = ['none', 'bearer', 'apiKey', 'basic', 'cookie', 'oauth2'] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];

/**
 * A value given literally or read from a service's environment in this config, so a password or
 * a signing key is written once (where the service gets it) and never copied into a stage.
 */
export const valueRefSchema = z.union([
  z.string().min(1),
  z.strictObject({ fromServiceEnv: z.strictObject({ service: name, key: z.string().min(1) }) }),
]);
export type ValueRef = z.output<typeof valueRefSchema>;

/**
 * A request that obtains a credential (a login, a token endpoint, an API-key issue, a sign-up).
 * Strings in `path`, `headers`, `body` and `form` are templates: `{{username}}`, `{{password}}`,
 * `{{clientId}}`, `{{clientSecret}}`, `{{uuid}}`, joined with `+` and encoded with `| base64`,
 * `| base64url` or `| url` (`{{username + ":" + password | base64}}`).
 */
const credentialRequestSchema = z
  .strictObject({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
    path: z.string().startsWith('/'),
    /** Service and container port to call; default `auth.target`, else the target of the stage that asks. */
    service: name.optional(),
    port: port.optional(),
    headers: z.record(z.string(), z.string()).default({}),
    /** A JSON body (sent as application/json). */
    body: z.json().optional(),
    /** A form body (sent as application/x-www-form-urlencoded), e.g. an HTML login form. */
    form: z.record(z.string(), z.string()).optional(),
    /** Statuses that mean success; default any 2xx (and 3xx for a cookie login, which often redirects). */
    expectStatus: z.array(status).min(1).optional(),
  })
  .refine((r) => r.body === undefined || r.form === undefined, {
    message: 'give either body (JSON) or form (urlencoded), not both',
    path: ['form'],
  });
export type CredentialRequest = z.output<typeof credentialRequestSchema>;

/** Who the principal is: the values `{{username}}` and `{{password}}` fill in, and its role for authorisation checks. */
const identityShape = {
  username: z.string().min(1).optional(),
  password: valueRefSchema.optional(),
  /** The principal's role, as authorisation checks expect it (`admin`, `customer`...). */
  role: name.optional(),
};

/** How long an obtained credential stays usable: from its answer (`expiresInField`, seconds) or `maxAgeMs`. */
const lifetimeShape = {
  /** Dotted path of the lifetime in seconds in the answer (`expires_in`); renewal at 80% of it. */
  expiresInField: z.string().min(1).optional(),
  /** Obtain the credential again once it is this old. */
  maxAgeMs: z.number().int().positive().optional(),
};

const noneSchema = z.strictObject({ scheme: z.literal('none'), role: name.optional() });

const bearerSchema = z
  .strictObject({
    scheme: z.literal('bearer'),
    ...identityShape,
    ...lifetimeShape,
    /** A fixed token (a personal access token); or `login`. */
    token: valueRefSchema.optional(),
    /** A login whose JSON answer carries the token. */
    login: credentialRequestSchema.optional(),
    /** Dotted path of the token in the login answer. */
    tokenField: z.string().min(1).default('accessToken'),
    /** Dotted path of a refresh token in the login answer, when the API issues one. */
    refreshTokenField: z.string().min(1).optional(),
    header: z.string().min(1).default('authorization'),
    /** Written before the token in the header, with a space (empty: the bare token). */
    prefix: z.string().default('Bearer'),
  })
  .refine((p) => (p.token === undefined) !== (p.login === undefined), {
    message: 'needs exactly one of "token" (a fixed token) or "login" (a request whose answer carries it)',
  });

const apiKeySchema = z
  .strictObject({
    scheme: z.literal('apiKey'),
    ...identityShape,
    ...lifetimeShape,
    /** The header that carries the key, e.g. `x-api-key`. */
    header: z.string().min(1),
    /** A fixed key; or `obtain`. */
    key: valueRefSchema.optional(),
    /** A request whose JSON answer carries the key (e.g. creating an API key as the user). */
    obtain: credentialRequestSchema.optional(),
    /** Dotted path of the key in the `obtain` answer. */
    keyField: z.string().min(1).default('key'),
    /** Written before the key in the header, with a space (empty: the bare key). */
    prefix: z.string().default(''),
    /** Principal whose credentials the `obtain` request carries (default: none, or basic with this username/password). */
    obtainAs: name.optional(),
  })
  .refine((p) => (p.key === undefined) !== (p.obtain === undefined), {
    message: 'needs exactly one of "key" (a fixed key) or "obtain" (a request whose answer carries it)',
  });

const basicSchema = z.strictObject({
  scheme: z.literal('basic'),
  username: z.string().min(1),
  password: valueRefSchema,
  role: name.optional(),
});

const cookieSchema = z.strictObject({
  scheme: z.literal('cookie'),
  ...identityShape,
  ...lifetimeShape,
  /** The login (JSON or `form`) whose answer sets the session cookie. */
  login: credentialRequestSchema,
  /** Names of the cookies to keep (default: every cookie the login sets). */
  cookies: z.array(z.string().min(1)).min(1).optional(),
});

const oauth2Schema = z.strictObject({
  scheme: z.literal('oauth2'),
  role: name.optional(),
  /** The token endpoint (client credentials grant); `service`/`port` default as for any credential request. */
  tokenEndpoint: z.strictObject({ path: z.string().startsWith('/'), service: name.optional(), port: port.optional() }),
  clientId: valueRefSchema,
  clientSecret: valueRefSchema,
  scope: z.string().min(1).optional(),
  audience: z.string().min(1).optional(),
  /** How the client authenticates at the token endpoint: HTTP basic (RFC 6749 default) or in the form body. */
  clientAuth: z.enum(['basic', 'body']).default('basic'),
  tokenField: z.string().min(1).default('access_token'),
  expiresInField: z.string().min(1).default('expires_in'),
  maxAgeMs: z.number().int().positive().optional(),
});

/** One named principal: someone the harness acts as, with the scheme it authenticates by. */
const principalSchema = z.discriminatedUnion('scheme', [
  noneSchema,
  bearerSchema,
  apiKeySchema,
  basicSchema,
  cookieSchema,
  oauth2Schema,
]);
export type PrincipalConfig = z.output<typeof principalSchema>;

/** Throwaway users: signed up by a request, then authenticated like the principal `like`. */
const disposableSchema = z.strictObject({
  /** A principal whose scheme (and login request) a disposable user uses, with its own username and password. */
  like: name,
  /** The sign-up; `{{username}}`, `{{password}}` and `{{name}}` are the new user's. */
  signup: credentialRequestSchema,
  /** Principal whose credentials the sign-up carries (e.g. an admin creating users); default none. */
  signupAs: name.optional(),
  /** Template of the new username; `{{random}}` is a fresh value per user. */
  username: z.string().min(1).default('readiness+{{random}}@example.test'),
  /** Template of the new user's display name (for sign-ups that want one). */
  name: z.string().min(1).default('Readiness Probe {{random}}'),
  /** Dotted path of the new user's id in the sign-up answer (fills `{{userId}}`), when it has one. */
  idField: z.string().min(1).default('id'),
  /** A sign-up answered with one of these counts as done (an account that already exists). */
  acceptStatus: z.array(status).default([]),
});
export type DisposableConfig = z.output<typeof disposableSchema>;

/** Config of `auth`: every authenticated request of every stage takes its credentials from here. */
export const authConfigSchema = z.strictObject({
  /** Where credential requests go when they name no service (default: the target of the stage that asks). */
  target: z.strictObject({ service: name, port }).optional(),
  principals: z.record(name, principalSchema).default({}),
  disposable: disposableSchema.optional(),
});
export type AuthConfig = z.output<typeof authConfigSchema>;
export type AuthConfigInput = z.input<typeof authConfigSchema>;

/** The schemes whose principal is a username and password a disposable user can replace. */
const USER_SCHEMES: ReadonlySet<AuthScheme> = new Set(['bearer', 'apiKey', 'basic', 'cookie']);

/** The part of the parsed config the auth cross-checks read. */
type AuthRefineInput = RefinementCtx['config'] & {
  readonly services: Readonly<
    Record<string, { readonly ports: readonly number[]; readonly env: Record<string, string> }>
  >;
  readonly auth?: AuthConfig | undefined;
};

/**
 * Checks a value reference against the config: `fromServiceEnv` must name a declared service and a
 * key of its env. Adds the issue at `path` (the dotted key where the config names the reference).
 */
export function checkValueRef(
  config: { readonly services: Readonly<Record<string, { readonly env: Record<string, string> }>> },
  ctx: RefinementCtx['ctx'],
  path: readonly (string | number)[],
  ref: ValueRef | undefined,
): void {
  if (ref === undefined || typeof ref === 'string') return;
  const { service, key } = ref.fromServiceEnv;
  const source = config.services[service];
  if (!source)
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'fromServiceEnv', 'service'],
      message: `names unknown service "${service}"`,
    });
  else if (!(key in source.env))
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'fromServiceEnv', 'key'],
      message: `"${key}" is not in services.${service}.env`,
    });
}

/** Cross-checks `auth` against the services and itself; issues carry paths under `auth`. */
export function refineAuth(config: AuthRefineInput, ctx: RefinementCtx['ctx']): void {
  const auth = config.auth;
  if (!auth) return;
  const issue = (path: readonly (string | number)[], message: string): void => {
    ctx.addIssue({ code: 'custom', path: ['auth', ...path], message });
  };
  if (auth.target) checkServicePort(config, ctx, ['auth', 'target'], auth.target);
  const checkRef = (ref: ValueRef | undefined, at: readonly (string | number)[]): void => {
    checkValueRef(config, ctx, ['auth', ...at], ref);
  };
  const checkRequest = (
    request: { service?: string | undefined; port?: number | undefined } | undefined,
    at: readonly (string | number)[],
  ): void => {
    if (request?.service === undefined) {
      if (request?.port !== undefined) issue([...at, 'port'], 'a port needs its service');
      return;
    }
    checkServicePort(config, ctx, ['auth', ...at], { service: request.service, port: request.port });
  };
  const names = new Set(Object.keys(auth.principals));
  if (names.has(DISPOSABLE))
    issue(
      ['principals', DISPOSABLE],
      `"${DISPOSABLE}" is reserved for throwaway users (auth.disposable): name the principal otherwise`,
    );
  for (const [id, principal] of Object.entries(auth.principals)) {
    const at = ['principals', id];
    switch (principal.scheme) {
      case 'none':
        break;
      case 'bearer':
        checkRef(principal.token, [...at, 'token']);
        checkRef(principal.password, [...at, 'password']);
        checkRequest(principal.login, [...at, 'login']);
        break;
      case 'apiKey':
        checkRef(principal.key, [...at, 'key']);
        checkRef(principal.password, [...at, 'password']);
        checkRequest(principal.obtain, [...at, 'obtain']);
        if (principal.obtainAs !== undefined && !names.has(principal.obtainAs))
          issue([...at, 'obtainAs'], `names unknown principal "${principal.obtainAs}"`);
        if (principal.obtainAs === id) issue([...at, 'obtainAs'], 'cannot name the principal itself');
        break;
      case 'basic':
        checkRef(principal.password, [...at, 'password']);
        break;
      case 'cookie':
        checkRef(principal.password, [...at, 'password']);
        checkRequest(principal.login, [...at, 'login']);
        break;
      case 'oauth2':
        checkRef(principal.clientId, [...at, 'clientId']);
        checkRef(principal.clientSecret, [...at, 'clientSecret']);
        checkRequest(principal.tokenEndpoint, [...at, 'tokenEndpoint']);
        break;
    }
  }
  const disposable = auth.disposable;
  if (disposable) {
    const like = auth.principals[disposable.like];
    if (!like) issue(['disposable', 'like'], `names unknown principal "${disposable.like}"`);
    else if (
      !USER_SCHEMES.has(like.scheme) ||
      ('token' in like && like.token !== undefined) ||
      ('key' in like && like.key !== undefined)
    )
      issue(
        ['disposable', 'like'],
        `principal "${disposable.like}" authenticates by ${like.scheme === 'none' || like.scheme === 'oauth2' ? `scheme ${like.scheme}` : 'a fixed secret'}: a new user cannot; name one with a login or basic credentials`,
      );
    checkRequest(disposable.signup, ['disposable', 'signup']);
    if (disposable.signupAs !== undefined && !names.has(disposable.signupAs))
      issue(['disposable', 'signupAs'], `names unknown principal "${disposable.signupAs}"`);
  }
}

/** The request headers the principals' credentials travel in (lower case), for redaction of captured requests. */
export function credentialHeaderNames(auth: AuthConfig | undefined): string[] {
  const names = new Set<string>();
  for (const principal of Object.values(auth?.principals ?? {})) {
    if (principal.scheme === 'bearer' || principal.scheme === 'apiKey') names.add(principal.header.toLowerCase());
    else if (principal.scheme === 'basic' || principal.scheme === 'oauth2') names.add('authorization');
    else if (principal.scheme === 'cookie') names.add('cookie');
  }
  return [...names];
}
