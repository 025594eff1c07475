import { z } from 'zod';
import { SEVERITIES } from '../../core/check-result.ts';
import { DISPOSABLE } from '../auth.ts';
import { checkServicePort } from './refine-context.ts';
import type { RefinementCtx } from './refine-context.ts';

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a lower-case name of letters, digits and dashes');
const port = z.number().int().min(1).max(65535);
const ms = z.number().int().positive();
const path = z.string().startsWith('/');
const method = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
/** A JSON value; strings may hold `{{token}}` placeholders (see src/runner/templates.ts). */
const template = z.json();
const statusList = z.array(z.number().int().min(100).max(599)).min(1);

/** Where probes go when they name no service: a service of the stack and one of its ports. */
const targetSchema = z.strictObject({ service: name, port });

/**
 * Who a stage acts as: a principal of `auth.principals`, or `'disposable'` for a fresh throwaway
 * user (`auth.disposable`) per experiment or drill. Requests with `auth: true` and every ledger
 * request carry its credentials, whatever the scheme.
 */
export const actAsSchema = name.describe(
  "Who the stage acts as (requests with auth: true, the ledger): a principal of auth.principals, or 'disposable' for a fresh throwaway user (auth.disposable) per experiment or drill; see docs/auth.md",
);

/** A key that no longer exists: any value is a config error naming what replaced it. */
export function removedKey(fix: string) {
  return z
    .custom<never>(() => false, { message: `was removed: ${fix}` })
    .optional()
    .meta({ description: `Removed: ${fix}`, deprecated: true, not: {} });
}

/** The fix of a config still using the old `session` (sign-up and login of the stage's own). */
export const sessionRemoved = (stage: 'chaos' | 'recovery'): string =>
  `declare who the stage acts as in ${stage}.as (a principal of the top-level auth.principals, or 'disposable' for a throwaway user of auth.disposable) and the login in auth; see docs/auth.md`;

/** Extra request headers: templates (`{{uuid}}`, and the variables each request names). */
const headersSchema = (vars: string) =>
  z
    .record(z.string().min(1), z.string())
    .default({})
    .describe(`Extra headers besides the credentials: templates with ${vars}`);

/**
 * The write ledger (Jepsen-lite): how to write a record, how to read it back, how to list them.
 * Nothing here is specific to one API: routes, body template and fields come from the config.
 */
export const ledgerSchema = z.strictObject({
  write: z.strictObject({
    method: method.default('POST'),
    path,
    /** Body template: `{{seq}}` (1-based write number), `{{key}}`, `{{uuid}}`, `{{pick:a,b}}` (seeded). */
    body: template,
    /** Header that carries the idempotency key; omit when the API takes none (then duplicates are only reported). */
    idempotencyHeader: z.string().optional(),
    headers: headersSchema('{{seq}}, {{key}}, {{uuid}}'),
    /** Statuses that acknowledge a write. */
    acknowledged: statusList.default([200, 201, 202]),
    /** Dotted path of the record id in the write answer. */
    idField: z.string().default('id'),
  }),
  read: z.strictObject({
    /** `{id}` is replaced by the record id; 200 means present, `missingStatus` means lost. */
    path: z.string().includes('{id}'),
    missingStatus: statusList.default([404]),
    headers: headersSchema('{{id}}, {{uuid}}'),
  }),
  list: z.strictObject({
    path,
    query: z.record(z.string(), z.string()).default({}),
    /** Dotted path of the records in the answer; `''` when the answer itself is the array. */
    itemsField: z.string().default('items'),
    idField: z.string().default('id'),
    /** Dotted path of the next-page cursor in the answer (null/absent on the last page), and its query parameter. */
    cursorField: z.string().optional(),
    cursorParam: z.string().default('cursor'),
    maxPages: z.number().int().positive().default(20),
    headers: headersSchema('{{uuid}}'),
  }),
  /** Dotted paths present in both the write body and a listed record whose values identify the write. */
  fingerprint: z.array(z.string().min(1)).min(1),
});

/** A byte string a link's upstream answers, so a probe through the link can see latency and resets. */
const linkHelloSchema = z.strictObject({
  /** `hex:0000000804d2162f` or plain text with \r\n escapes already applied. */
  send: z.string().min(1),
  /** Bytes of answer that count as answered (default 1). */
  expectBytes: z.number().int().positive().default(1),
});

/** Faults the derived matrix puts on each link: proxy disabled, a latency above the answer bound, partial resets. */
const DERIVED_LINK_FAULTS = ['down', 'slow', 'reset'] as const;
export type DerivedLinkFault = (typeof DERIVED_LINK_FAULTS)[number];
/** Faults the derived matrix puts on each service's container. */
const DERIVED_SERVICE_FAULTS = ['kill', 'pause'] as const;
export type DerivedServiceFault = (typeof DERIVED_SERVICE_FAULTS)[number];

/** A cell of the derived matrix: `<link>:<down|slow|reset>` or `<service>:<kill|pause>`. */
const cellKey = z
  .string()
  .regex(
    new RegExp(`^[a-z][a-z0-9-]*:(${[...DERIVED_LINK_FAULTS, ...DERIVED_SERVICE_FAULTS].join('|')})$`),
    `must be a cell <link>:<${DERIVED_LINK_FAULTS.join('|')}> or <service>:<${DERIVED_SERVICE_FAULTS.join('|')}>`,
  );

/** One cell of the derived matrix changed: its bounds, the slow latency or the reset share, its severity. */
const derivedOverrideSchema = z.strictObject({
  answerWithinMs: ms.optional(),
  failFastMs: ms.optional(),
  settleWithinMs: ms.optional(),
  recoverWithinMs: ms.optional(),
  latencyMs: ms.optional(),
  toxicity: z.number().gt(0).max(1).optional(),
  severity: z.enum(SEVERITIES).optional(),
});
/** One cell of the derived matrix changed. */
export type DerivedOverride = z.output<typeof derivedOverrideSchema>;

/**
 * The experiment matrix derived from the stack's topology: each link (Toxiproxy proxy) down, slow and
 * resetting, each service killed and paused, with generic expectations. A hand-written experiment on
 * the same link or service and fault replaces its cell.
 */
export const derivedSchema = z.strictObject({
  /** Faults put on every link (default all). */
  links: z.array(z.enum(DERIVED_LINK_FAULTS)).default([...DERIVED_LINK_FAULTS]),
  /** Faults put on every service's container (default all). */
  services: z.array(z.enum(DERIVED_SERVICE_FAULTS)).default([...DERIVED_SERVICE_FAULTS]),
  /** Latency of a `slow` link, ms: above `answerWithinMs`, so a caller without a timeout hangs past the bound. */
  slowLatencyMs: ms.default(3_000),
  /** Share of connections a `reset` link resets (re-drawn before each ledger write). */
  resetToxicity: z.number().gt(0).max(1).default(0.3),
  /** Every service other than the faulted one, and the target's probes, answer (any status) within this. */
  answerWithinMs: ms.default(2_500),
  /** While the target reports ready, its probes answer 2xx (a write: the ledger's acknowledged statuses) within this. */
  failFastMs: ms.default(1_000),
  /** How long the system may take to settle under the fault (a breaker opening, a replica leaving a balancer). */
  settleWithinMs: ms.default(10_000),
  /** Every service healthy and the target's probes 2xx again within this after the fault is removed. */
  recoverWithinMs: ms.default(30_000),
  /** Writes of the ledger in a cell that has one (a kill of the target, a resetting link). */
  ledgerWrites: z.number().int().positive().default(20),
  severity: z.enum(SEVERITIES).default('critical'),
  /** Cells not to run, e.g. `['lb:pause']`. */
  skip: z.array(cellKey).default([]),
  /** Cells changed, e.g. `{ 'postgres:slow': { latencyMs: 5000 } }`. */
  overrides: z.record(cellKey, derivedOverrideSchema).default({}),
});
export type DerivedConfig = z.output<typeof derivedSchema>;

/** Config of the `chaos` stage (`chaos: {...}` in readiness.config.ts). */
export const chaosConfigSchema = z.strictObject({
  /**
   * Folder of experiment files (`*.ts`, each `export default defineExperiment({...})`); relative to the
   * config file. `false`: no hand-written experiment, only the derived matrix.
   */
  experimentsDir: z.union([z.string().min(1), z.literal(false)]).default('scenarios/chaos'),
  /** Experiment ids to run (default: every experiment of the folder). */
  experiments: z.array(name).optional(),
  /** The experiment matrix derived from links and services (default on); `false` turns it off. */
  derived: z.union([z.literal(false), derivedSchema]).prefault({}),
  target: targetSchema,
  /** Who the experiments act as (requests with `auth: true`, the ledger); `'disposable'`: a throwaway user per experiment, and one for its ledger. Unset: the ledger sends no credentials. */
  as: actAsSchema.optional(),
  session: removedKey(sessionRemoved('chaos')),
  ledger: ledgerSchema.optional(),
  /** Per link (Toxiproxy proxy name): what to send through it to prove a fault from the outside. */
  links: z.record(name, linkHelloSchema).default({}),
  metricsPath: path.default('/metrics'),
  /** How long the steady state may take to settle (the previous experiment's recovery). */
  settleMs: ms.default(10_000),
  /** How long the fault may take to show its effect before it counts as not taken. */
  proofWithinMs: ms.default(5_000),
  /** Upper bound of any single HTTP probe, so a hung service costs a bounded time. */
  probeTimeoutMs: ms.default(3_000),
  /** Shuffle the experiments with the run seed (Jepsen-style); off keeps file order. */
  shuffle: z.boolean().default(true),
});
export type ChaosConfig = z.output<typeof chaosConfigSchema>;
export type LedgerConfig = z.output<typeof ledgerSchema>;

/** The part of `auth` the cross-check of a stage's `as` reads. */
export interface ActAsRefineInput {
  readonly auth?: { readonly principals: Readonly<Record<string, unknown>>; readonly disposable?: unknown } | undefined;
}

/**
 * Checks a stage's `as` against `auth`: a configured principal, or `'disposable'` with
 * `auth.disposable` configured. `needs` says what requires it when it is unset (undefined: nothing).
 */
export function checkActAs(
  config: ActAsRefineInput,
  ctx: RefinementCtx['ctx'],
  stage: 'chaos' | 'recovery',
  as: string | undefined,
  needs: { readonly path: readonly (string | number)[]; readonly what: string } | undefined,
): void {
  const principals = Object.keys(config.auth?.principals ?? {});
  const fix = `name a principal of auth.principals (${principals.join(', ') || 'none configured'}) or 'disposable'; see docs/auth.md`;
  if (as === undefined) {
    if (needs)
      ctx.addIssue({
        code: 'custom',
        path: [stage, ...needs.path],
        message: `${needs.what} sent as ${stage}.as, which is not set: ${fix} (a principal with scheme 'none' for an API without auth)`,
      });
    return;
  }
  if (as === DISPOSABLE) {
    if (config.auth?.disposable === undefined)
      ctx.addIssue({
        code: 'custom',
        path: [stage, 'as'],
        message: `'disposable' needs auth.disposable (how to sign up a throwaway user); declare it, or name a principal; see docs/auth.md`,
      });
    return;
  }
  if (!principals.includes(as))
    ctx.addIssue({ code: 'custom', path: [stage, 'as'], message: `names unknown principal "${as}": ${fix}` });
}

/** Cross-checks against the rest of the config (services, links, auth); add issues with paths under `chaos`. */
export function refineChaos(
  config: RefinementCtx['config'] & ActAsRefineInput & { readonly chaos?: ChaosConfig | undefined },
  ctx: RefinementCtx['ctx'],
): void {
  const chaos = config.chaos;
  if (!chaos) {
    if (config.stages.includes('chaos')) {
      ctx.addIssue({
        code: 'custom',
        path: ['chaos'],
        message:
          'is required when the chaos stage is enabled; declare chaos: { target: { service, port } } (see docs/stages/chaos.md)',
      });
    }
    return;
  }
  checkServicePort(config, ctx, ['chaos', 'target'], chaos.target);
  // Without `as` the ledger's requests carry no credentials (an API without auth); a probe that asks for them is refused when the experiments load.
  checkActAs(config, ctx, 'chaos', chaos.as, undefined);
  const linkNames = new Set(config.links.map((l) => l.name ?? l.service));
  for (const link of Object.keys(chaos.links)) {
    if (!linkNames.has(link)) {
      ctx.addIssue({ code: 'custom', path: ['chaos', 'links', link], message: `names unknown link "${link}"` });
    }
  }
  if (chaos.derived) refineDerived(chaos.derived, [...linkNames], Object.keys(config.services), ctx);
  if (chaos.experimentsDir === false && chaos.derived === false)
    ctx.addIssue({
      code: 'custom',
      path: ['chaos', 'derived'],
      message:
        'is false and chaos.experimentsDir is false too, so the chaos stage has no experiment; give a folder of experiments or derive the matrix',
    });
  if (chaos.experimentsDir === false && chaos.experiments !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['chaos', 'experiments'],
      message: 'selects hand-written experiments, but chaos.experimentsDir is false; remove one of the two',
    });
}

/** Each cell that `skip` and `overrides` name is a link with a link fault or a service with a service fault. */
function refineDerived(
  derived: DerivedConfig,
  links: readonly string[],
  services: readonly string[],
  ctx: RefinementCtx['ctx'],
): void {
  const problem = (cell: string): string | undefined => {
    const [target = '', fault = ''] = cell.split(':');
    // A malformed cell already has its issue from the schema.
    if (![...DERIVED_LINK_FAULTS, ...DERIVED_SERVICE_FAULTS].some((f) => f === fault)) return undefined;
    const isLinkFault = (DERIVED_LINK_FAULTS as readonly string[]).includes(fault);
    const known = isLinkFault ? links : services;
    if (!known.includes(target))
      return `names no ${isLinkFault ? 'link' : 'service'} "${target}" (${isLinkFault ? 'links' : 'services'}: ${known.join(', ') || 'none'})`;
    const on = isLinkFault ? derived.links : derived.services;
    if (!(on as readonly string[]).includes(fault))
      return `names fault "${fault}", which chaos.derived.${isLinkFault ? 'links' : 'services'} does not put (${on.join(', ') || 'none'})`;
    return undefined;
  };
  derived.skip.forEach((cell, i) => {
    const why = problem(cell);
    if (why) ctx.addIssue({ code: 'custom', path: ['chaos', 'derived', 'skip', i], message: why });
  });
  for (const cell of Object.keys(derived.overrides)) {
    const why = problem(cell);
    if (why) ctx.addIssue({ code: 'custom', path: ['chaos', 'derived', 'overrides', cell], message: why });
    if (derived.skip.includes(cell))
      ctx.addIssue({
        code: 'custom',
        path: ['chaos', 'derived', 'overrides', cell],
        message: 'overrides a cell that chaos.derived.skip leaves out; remove one of the two',
      });
  }
}
