import { z } from 'zod';
import { checkServicePort } from './refine-context.ts';
import type { RefinementCtx } from './refine-context.ts';
import { checkValueRef, valueRefSchema } from '../auth.ts';
import type { AuthConfig } from '../auth.ts';

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a lower-case name of letters, digits and dashes');
const port = z.number().int().min(1).max(65535);
const ms = z.number().int().positive();
const path = z.string().startsWith('/');
const status = z.number().int().min(100).max(599);
/** One status or a list of acceptable ones; always a list once parsed. */
const statuses = z.union([status, z.array(status).min(1)]).transform((s) => (Array.isArray(s) ? s : [s]));

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** ZAP's rule levels, the actions of the policy file (plus OUTOFSCOPE lines there). */
export const POLICY_LEVELS = ['IGNORE', 'INFO', 'WARN', 'FAIL'] as const;

export { valueRefSchema } from '../auth.ts';
export type { ValueRef } from '../auth.ts';

/**
 * A request template. Strings in `path`, `headers` and `body` may hold placeholders filled at run
 * time: `{username}` `{password}` `{name}` `{userId}` of the identity, `{id}` of a created object,
 * `{uuid}` and `{random}` fresh values.
 */
const requestSchema = z.strictObject({
  method: z.enum(HTTP_METHODS).default('GET'),
  path,
  headers: z.record(z.string(), z.string()).default({}),
  body: z.json().optional(),
});
export type RequestTemplate = z.output<typeof requestSchema>;

/** The OpenAPI document's source; object variants first so a wrong shape is reported against them. */
const openapiSchema = z.union([
  z.strictObject({ path }),
  z.strictObject({ file: z.string().min(1) }),
  z.literal(false),
]);
export type OpenApiConfig = z.output<typeof openapiSchema>;

const defaultChecks = ['not_a_server_error', 'response_schema_conformance', 'ignored_auth'];

/** Config of the `security` stage (`security: {...}` in readiness.config.ts). */
export const securityConfigSchema = z.strictObject({
  /** The HTTP service under test and whether clients reach it over TLS (then HSTS is required). */
  target: z.strictObject({ service: name, port, tls: z.boolean().default(false) }),
  /**
   * Where the OpenAPI document of the target comes from (the injection check, malformed JSON without
   * explicit requests, schemathesis and ZAP use it): fetched from the service at `path`, read from `file`
   * (relative to the config file), or `false` when the service has none (those checks are then not applicable).
   */
  openapi: openapiSchema.default({ path: '/openapi.json' }),
  /** Request header carrying the correlation id the service must echo into its audit log. */
  correlationHeader: z.string().min(1).default('x-request-id'),
  requestTimeoutMs: ms.default(5_000),
  /** The one policy for every scanner, in ZAP's rules TSV format; relative to the config file. */
  rulesFile: z.string().min(1),
  policy: z
    .strictObject({
      /** FAIL: only FAIL findings fail a scanner check; WARN: warnings do too. */
      failOn: z.enum(['FAIL', 'WARN']).default('FAIL'),
      /** Level of a finding whose rule is not in the rules file (ZAP's own default is WARN). */
      unlisted: z.enum(POLICY_LEVELS).default('WARN'),
    })
    .default({ failOn: 'FAIL', unlisted: 'WARN' }),
  /**
   * What the token checks need beyond the credentials: principals come from the top-level `auth`
   * (`auth.principals`, roles from each principal's `role`) and throwaway users from `auth.disposable`.
   */
  auth: z.strictObject({
    /**
     * The refresh call; `{refreshToken}` in its body is the token to rotate. Its answer is read with the
     * fields of the principal `auth.disposable.like` (`tokenField`, `refreshTokenField`).
     */
    refresh: z.strictObject({ request: requestSchema }).optional(),
    /** A protected request that answers 2xx with a valid token: the target of the token checks. */
    probe: requestSchema,
    /** What a rejected credential must get. */
    rejectStatus: statuses.default([401]),
    /** HS256 signing settings, to forge expired and wrong-audience/issuer tokens with a valid signature. */
    jwt: z.strictObject({ secret: valueRefSchema, issuer: valueRefSchema, audience: valueRefSchema }).optional(),
    lockout: z
      .strictObject({ attempts: z.number().int().min(1).max(50), lockedStatus: statuses.default([423, 429]) })
      .optional(),
    latency: z
      .strictObject({
        p95Ms: ms.default(200),
        samples: z.number().int().min(5).max(200).default(40),
        /** Requests sent first and not measured (connection set-up, JIT, caches). */
        warmup: z.number().int().min(0).max(20).default(3),
      })
      .optional(),
  }),
  authz: z
    .strictObject({
      /** Role x request -> expected status; a role is a principal's `role` in `auth.principals`, `anonymous` sends no credentials. */
      rbac: z.array(z.strictObject({ request: requestSchema, expect: z.record(name, statuses) })).default([]),
      /** Object-level access: principal `other` must not read what principal `owner` created. */
      objects: z
        .array(
          z.strictObject({
            name,
            create: requestSchema,
            idField: z.string().default('id'),
            read: requestSchema,
            owner: name,
            other: name,
            deniedStatus: statuses.default([403, 404]),
          }),
        )
        .default([]),
    })
    .default({ rbac: [], objects: [] }),
  /** The limit a client (a throwaway user) must hit within the window, and be served again after. */
  rateLimit: z
    .strictObject({
      request: requestSchema,
      limit: z.number().int().min(1).max(10_000),
      windowMs: ms,
      /** Requests sent beyond the limit. */
      extra: z.number().int().min(1).default(10),
      concurrency: z.number().int().min(1).max(50).default(8),
    })
    .optional(),
  headers: z
    .strictObject({
      /** Paths fetched (GET, no credentials) whose responses must carry the security headers. */
      paths: z.array(path).min(1).default(['/']),
      /** An origin that is not allowed: CORS must not reflect it. */
      unlistedOrigin: z.string().default('https://readiness-unlisted.invalid'),
    })
    .default({ paths: ['/'], unlistedOrigin: 'https://readiness-unlisted.invalid' }),
  errors: z
    .strictObject({
      /** Requests sent with a truncated JSON body; empty: every JSON-body operation of the OpenAPI document. */
      malformedJson: z.array(requestSchema).default([]),
      oversize: z.strictObject({ request: requestSchema, bytes: z.number().int().min(1) }).optional(),
    })
    .default({ malformedJson: [] }),
  /** Injection payloads in every string field of the OpenAPI operations; none may yield a 5xx. */
  injection: z
    .strictObject({
      /** Operations left out, as `METHOD /path` of the OpenAPI document. */
      exclude: z.array(z.string()).default([]),
      payloads: z.array(z.string().min(1)).optional(),
      /** A principal of `auth.principals` for operations a throwaway user may not call (403), so payloads reach the handler. */
      privilegedUser: name.optional(),
      maxRequests: z.number().int().min(1).default(600),
      concurrency: z.number().int().min(1).max(16).default(4),
    })
    .default({ exclude: [], maxRequests: 600, concurrency: 4 }),
  compliance: z
    .strictObject({
      /** How an auditor (principal `as`) lists audit records; `{userId}` in it narrows to one user. */
      audit: z
        .strictObject({
          request: requestSchema,
          as: name,
          itemsField: z.string().default('items'),
          requestIdField: z.string().default('requestId'),
          cursorField: z.string().default('nextCursor'),
          cursorParam: z.string().default('cursor'),
          maxPages: z.number().int().min(1).default(20),
        })
        .optional(),
      /** The right to erasure: the request a user sends, and where the user's data shows. */
      erasure: z
        .strictObject({
          request: requestSchema,
          profile: requestSchema,
          /** A command run in a service's container that prints the stored data (e.g. pg_dump). */
          database: z.strictObject({ service: name, command: z.array(z.string()).min(1) }).optional(),
        })
        .optional(),
      /** Services whose captured logs must not contain the test PII; empty: every service. */
      logServices: z.array(name).default([]),
    })
    .default({ logServices: [] }),
  schemathesis: z
    .strictObject({
      enabled: z.boolean().default(true),
      checks: z.array(z.string().min(1)).min(1).default(defaultChecks),
      phases: z
        .array(z.enum(['examples', 'coverage', 'fuzzing', 'stateful']))
        .min(1)
        .default(['examples', 'fuzzing']),
      maxExamples: z.number().int().min(1).default(20),
      /** Schemathesis' own request rate limit, e.g. `9/s`, kept under the service's limit. */
      rateLimit: z
        .string()
        .regex(/^\d+\/(s|m|h)$/, 'a rate such as 9/s')
        .optional(),
      /** Whether generated strings may hold NUL bytes (schemathesis' --generation-allow-x00). */
      allowNullBytes: z.boolean().default(true),
      timeoutMs: ms.default(120_000),
    })
    .default({
      enabled: true,
      checks: defaultChecks,
      phases: ['examples', 'fuzzing'],
      maxExamples: 20,
      allowNullBytes: true,
      timeoutMs: 120_000,
    }),
  zap: z
    .strictObject({
      enabled: z.boolean().default(true),
      image: z.string().min(1).default('ghcr.io/zaproxy/zaproxy:stable'),
      timeoutMs: ms.default(600_000),
      /** ZAP's own bound on the active scan (`scanner.maxScanDurationInMins`). */
      maxScanMinutes: z.number().int().min(1).default(5),
    })
    .default({ enabled: true, image: 'ghcr.io/zaproxy/zaproxy:stable', timeoutMs: 600_000, maxScanMinutes: 5 }),
});
export type SecurityConfig = z.output<typeof securityConfigSchema>;

type ServiceView = Readonly<
  Record<
    string,
    { readonly ports: readonly number[]; readonly dependsOn: readonly string[]; readonly env: Record<string, string> }
  >
>;

/** The part of the parsed config the security cross-checks read. */
type SecurityRefineInput = RefinementCtx['config'] & {
  readonly services: ServiceView;
  readonly auth?: AuthConfig | undefined;
  readonly security?: SecurityConfig | undefined;
};

/** Cross-checks against the rest of the config (services, `auth`); add issues with paths under `security`. */
export function refineSecurity(config: SecurityRefineInput, ctx: RefinementCtx['ctx']): void {
  const security = config.security;
  const issue = (path: readonly (string | number)[], message: string): void => {
    ctx.addIssue({ code: 'custom', path: ['security', ...path], message });
  };
  if (!security) {
    if (config.stages.includes('security')) {
      issue([], 'is required when stages includes "security" (target, auth, rulesFile)');
    }
    return;
  }
  const services = config.services;
  checkServicePort(config, ctx, ['security', 'target'], security.target);
  if (security.auth.jwt) {
    for (const key of ['secret', 'issuer', 'audience'] as const)
      checkValueRef(config, ctx, ['security', 'auth', 'jwt', key], security.auth.jwt[key]);
  }
  const principals = config.auth?.principals ?? {};
  if (!config.auth?.disposable) {
    ctx.addIssue({
      code: 'custom',
      path: ['auth', 'disposable'],
      message:
        'is required by the security stage: its checks that lock, erase or exhaust an account act as throwaway users (auth.disposable: { like, signup })',
    });
  }
  const names = Object.keys(principals);
  const known = `auth.principals: ${names.join(', ') || '(none)'}`;
  const roles = new Set(Object.values(principals).flatMap((p) => (p.role === undefined ? [] : [p.role])));
  security.authz.rbac.forEach((entry, i) => {
    for (const role of Object.keys(entry.expect)) {
      if (role !== 'anonymous' && !roles.has(role)) {
        issue(
          ['authz', 'rbac', i, 'expect', role],
          `no principal of auth.principals has role "${role}" (roles: ${[...roles].join(', ') || '(none)'}; or "anonymous")`,
        );
      }
    }
  });
  const checkPrincipal = (value: string, at: readonly (string | number)[]): void => {
    if (!Object.hasOwn(principals, value)) issue(at, `names unknown principal "${value}" (${known})`);
  };
  security.authz.objects.forEach((object, i) => {
    for (const key of ['owner', 'other'] as const) checkPrincipal(object[key], ['authz', 'objects', i, key]);
    if (object.owner === object.other) issue(['authz', 'objects', i, 'other'], 'must differ from owner');
  });
  const privileged = security.injection.privilegedUser;
  if (privileged !== undefined) checkPrincipal(privileged, ['injection', 'privilegedUser']);
  const audit = security.compliance.audit;
  if (audit) checkPrincipal(audit.as, ['compliance', 'audit', 'as']);
  const database = security.compliance.erasure?.database;
  if (database && !services[database.service]) {
    issue(['compliance', 'erasure', 'database', 'service'], `names unknown service "${database.service}"`);
  }
  security.compliance.logServices.forEach((service, i) => {
    if (!services[service]) issue(['compliance', 'logServices', i], `names unknown service "${service}"`);
  });
}
