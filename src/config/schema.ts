import { z } from 'zod';
import { SEVERITIES } from '../core/check-result.ts';
import { authConfigSchema, refineAuth } from './auth.ts';
import { STAGES } from '../core/stage.ts';
import { noiseBandsConfigSchema } from './noise-bands.ts';
import { propertiesConfigSchema } from './properties.ts';
import { refineReplicas, replicasSchema } from './replicas.ts';
import { DEFAULT_CONDITIONAL_MARGIN, DEFAULT_CRITICAL_SEVERITIES, listPolicyExceptions } from './policy-exceptions.ts';
import { chaosConfigSchema, refineChaos } from './stages/chaos.ts';
import { contractConfigSchema, refineContract } from './stages/contract.ts';
import { loadConfigSchema, refineLoad } from './stages/load.ts';
import { recoveryConfigSchema, refineRecovery } from './stages/recovery.ts';
import { refineSecurity, securityConfigSchema } from './stages/security.ts';
import { defaultSignals, refineSignals, signalsConfigSchema } from './signals.ts';

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a lower-case name of letters, digits and dashes');
const port = z.number().int().min(1).max(65535);
const ms = z.number().int().positive();
const ratio = z.number().min(0).max(1);

/** An image reference, or `{ image }` in a build arg so the resolver can swap in a local drop-in. */
const imageRefSchema = z.string().min(1);

const healthSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('http'),
    port,
    path: z.string().startsWith('/'),
    timeoutMs: ms.default(60_000),
  }),
  z.strictObject({ kind: z.literal('tcp'), port, timeoutMs: ms.default(60_000) }),
  z.strictObject({
    kind: z.literal('command'),
    command: z.array(z.string()).min(1),
    timeoutMs: ms.default(60_000),
  }),
]);

const buildArgSchema = z.union([z.string(), z.strictObject({ image: imageRefSchema })]);

const buildSchema = z.strictObject({
  context: z.string().min(1),
  dockerfile: z.string().default('Dockerfile'),
  args: z.record(z.string(), buildArgSchema).default({}),
  /** Host commands run in the context before `docker build` (e.g. installing dependencies). */
  prepare: z.array(z.array(z.string()).min(1)).default([]),
});

const serviceSchema = z
  .strictObject({
    image: imageRefSchema.optional(),
    build: buildSchema.optional(),
    command: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).default({}),
    ports: z.array(port).default([]),
    health: healthSchema.optional(),
    /** Services to wait for: a name waits until it is healthy; `{ service, until: 'started' }` only until its container runs (for clients that retry on their own). */
    dependsOn: z
      .array(z.union([name, z.strictObject({ service: name, until: z.enum(['healthy', 'started']) })]))
      .default([]),
    /** Names of env variables whose values are secrets to redact (besides names with password/secret/token/key). */
    secretEnv: z.array(z.string()).default([]),
    tmpfs: z.record(z.string(), z.string()).default({}),
  })
  .transform(({ dependsOn, ...rest }) => ({
    ...rest,
    dependsOn: dependsOn.map((d) => (typeof d === 'string' ? d : d.service)),
    /** How long to wait for each dependency; absent means until healthy. */
    waitUntil: Object.fromEntries(
      dependsOn.map((d) => (typeof d === 'string' ? [d, 'healthy'] : [d.service, d.until])),
    ),
  }))
  .superRefine((service, ctx) => {
    if ((service.image === undefined) === (service.build === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of "image" or "build"', path: [] });
    }
    const seen = new Set<number>();
    service.ports.forEach((p, i) => {
      if (seen.has(p)) ctx.addIssue({ code: 'custom', message: `duplicate port ${p}`, path: ['ports', i] });
      seen.add(p);
    });
  });

const linkSchema = z.strictObject({
  /** Proxy name; defaults to the service name. */
  name: name.optional(),
  service: name,
  port,
});

const stagePolicySchema = z.strictObject({
  minPassRate: ratio.default(1),
  weight: z.number().min(0).default(1),
  /** false: the stage runs and is reported but does not gate the verdict or the score (its critical checks still do). */
  mandatory: z.boolean().optional(),
});

const policySchema = z
  .strictObject({
    stages: z.partialRecord(z.enum(STAGES), stagePolicySchema).default({}),
    /** Checks with these severities, or these ids, must pass whatever the average. */
    critical: z
      .strictObject({
        severities: z.array(z.enum(SEVERITIES)).default([...DEFAULT_CRITICAL_SEVERITIES]),
        ids: z.array(z.string()).default([]),
      })
      .default({ severities: [...DEFAULT_CRITICAL_SEVERITIES], ids: [] }),
    /** Check ids (or id prefixes ending in '*') whose `skipped` status is not counted as due, e.g. a scanner whose image is absent. */
    skippable: z.array(z.string()).default([]),
    /** A non-critical shortfall up to this much below a stage minimum is CONDITIONAL, not NOT CERTIFIED (default 0.1; 0 when strict). */
    conditionalMargin: ratio.optional(),
    validityDays: z.number().int().positive().default(30),
    /** Exit code for CONDITIONAL: 4 blocks a pipeline, 0 lets it pass. */
    conditionalExitCode: z.union([z.literal(0), z.literal(4)]).default(4),
    /** true: refuse every policy exception (a minimum below 1, mandatory: false, skippable ids, a margin...) as a config error. */
    strict: z.boolean().default(false),
    /** How far each key figure may move from the previous CERTIFIED run before "what changed" lists it (src/config/noise-bands.ts). */
    noiseBands: noiseBandsConfigSchema,
  })
  .superRefine((policy, ctx) => {
    if (!policy.strict) return;
    const exceptions = listPolicyExceptions({ ...policy, conditionalMargin: policy.conditionalMargin ?? 0 });
    for (const exception of exceptions) {
      ctx.addIssue({
        code: 'custom',
        path: exception.key.split('.').slice(1),
        message: `is ${JSON.stringify(exception.value)}, a policy exception that policy.strict: true refuses (${exception.text}); remove it or set policy.strict: false`,
      });
    }
  })
  .transform((policy) => ({
    ...policy,
    conditionalMargin: policy.conditionalMargin ?? (policy.strict ? 0 : DEFAULT_CONDITIONAL_MARGIN),
  }));

const readinessTruthSchema = z.strictObject({
  service: name,
  port,
  path: z.string().startsWith('/'),
  /** The link whose loss must make the service report not-ready. */
  link: name,
  failWithinMs: ms.default(5_000),
  recoverWithinMs: ms.default(10_000),
});

const bootSchema = z.strictObject({
  readinessTruth: z.array(readinessTruthSchema).default([]),
  /** Replica groups whose answers to the same authenticated requests must agree (docs/stages/boot.md). */
  replicas: replicasSchema,
});

const stagesSchema = z
  .array(z.enum(STAGES))
  .min(1, 'enable at least one stage')
  .refine((list) => new Set(list).size === list.length, 'lists a stage twice');

export const configSchema = z
  .strictObject({
    name: z.string().min(1),
    /** Stages to run; they are the mandatory stages of the verdict. */
    stages: stagesSchema.default(['boot']),
    services: z.record(name, serviceSchema).refine((s) => Object.keys(s).length > 0, 'declare at least one service'),
    links: z.array(linkSchema).default([]),
    images: z
      .strictObject({
        /** `missing`: pull what is not local, then fall back to a drop-in; `never`: local or drop-in only. */
        pull: z.enum(['missing', 'never']).default('missing'),
        toxiproxy: imageRefSchema.default('ghcr.io/shopify/toxiproxy:2.12.0'),
        pullTimeoutMs: ms.default(120_000),
      })
      .default({ pull: 'missing', toxiproxy: 'ghcr.io/shopify/toxiproxy:2.12.0', pullTimeoutMs: 120_000 }),
    /** Named principals and throwaway users: every stage's authenticated requests take their credentials here. */
    auth: authConfigSchema.optional(),
    boot: bootSchema.default({ readinessTruth: [], replicas: [] }),
    contract: contractConfigSchema.optional(),
    security: securityConfigSchema.optional(),
    load: loadConfigSchema.optional(),
    chaos: chaosConfigSchema.optional(),
    recovery: recoveryConfigSchema.optional(),
    /** Error signals (ERROR/FATAL lines, 5xx) in the services' logs during the phases without a fault. */
    signals: signalsConfigSchema.default(defaultSignals),
    policy: policySchema.default(() => policySchema.parse({})),
    /**
     * Checks that do not apply to this system, by check id or family prefix ending in '*' (`security.authn.*`),
     * each with the reason: recorded `not-applicable` (their bodies never run), never passed, never due, and
     * listed as not covered on the certificate.
     */
    notApplicable: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9._:-]*\*?$/, "a check id, or an id prefix ending in '*'"),
        z.string().trim().min(1, 'needs a reason: say why the check does not apply'),
      )
      .default({}),
    /** Readiness properties added to, replacing or (`false`) leaving out the built-in catalogue's, by id. */
    properties: propertiesConfigSchema,
    deadlines: z
      .strictObject({
        runMs: ms.default(30 * 60_000),
        stageMs: ms.default(10 * 60_000),
        stackStartMs: ms.default(5 * 60_000),
      })
      .default({ runMs: 30 * 60_000, stageMs: 10 * 60_000, stackStartMs: 5 * 60_000 }),
    /** Extra attempts for a check whose outcome is `failed`; a pass on a retry is recorded flaky, never hidden. */
    retries: z.number().int().min(0).max(3).default(0),
    /**
     * When the host counts as saturated during a check that judges latency (docs/running.md, "Saturated hosts"): the
     * CPU busy share over the check at least `maxBusyRatio`; where no busy share could be measured, the 1-minute load average per core above `maxLoadPerCore`.
     */
    hostSaturation: z
      .strictObject({ maxLoadPerCore: z.number().positive().default(1.5), maxBusyRatio: ratio.default(0.95) })
      .default({ maxLoadPerCore: 1.5, maxBusyRatio: 0.95 }),
    /** Hosts beyond loopback and the run's own containers that load, chaos and scans may target. */
    allowTargets: z.array(z.string().min(1)).default([]),
    reportsDir: z.string().default('reports'),
    suitesDir: z.string().default('suites'),
    /** Extra literal secrets to redact from every artifact. */
    secrets: z.array(z.string()).default([]),
  })
  .superRefine((config, ctx) => {
    const services = config.services;
    for (const [id, service] of Object.entries(services)) {
      service.dependsOn.forEach((dep, i) => {
        if (!(dep in services)) {
          ctx.addIssue({
            code: 'custom',
            path: ['services', id, 'dependsOn', i],
            message: `names unknown service "${dep}"`,
          });
        }
      });
    }
    const cycle = findCycle(Object.fromEntries(Object.entries(services).map(([id, s]) => [id, s.dependsOn])));
    if (cycle)
      ctx.addIssue({ code: 'custom', path: ['services'], message: `dependsOn has a cycle: ${cycle.join(' -> ')}` });
    const linkNames = new Set<string>();
    const linkPorts = new Set<number>();
    config.links.forEach((link, i) => {
      const target = services[link.service];
      if (!target) {
        ctx.addIssue({
          code: 'custom',
          path: ['links', i, 'service'],
          message: `names unknown service "${link.service}"`,
        });
      } else if (!target.ports.includes(link.port)) {
        ctx.addIssue({
          code: 'custom',
          path: ['links', i, 'port'],
          message: `port ${link.port} is not in services.${link.service}.ports`,
        });
      }
      const linkName = link.name ?? link.service;
      if (linkNames.has(linkName))
        ctx.addIssue({ code: 'custom', path: ['links', i], message: `duplicate link "${linkName}"` });
      if (linkPorts.has(link.port)) {
        ctx.addIssue({
          code: 'custom',
          path: ['links', i, 'port'],
          message: `port ${link.port} is used by another link (one Toxiproxy listens on every link port)`,
        });
      }
      linkNames.add(linkName);
      linkPorts.add(link.port);
    });
    for (const refine of [refineAuth, refineContract, refineSecurity, refineLoad, refineChaos, refineRecovery])
      refine(config, ctx);
    refineSignals(config, ctx);
    refineReplicas(config, ctx);
    config.boot.readinessTruth.forEach((truth, i) => {
      if (!services[truth.service]) {
        ctx.addIssue({
          code: 'custom',
          path: ['boot', 'readinessTruth', i, 'service'],
          message: `names unknown service "${truth.service}"`,
        });
      }
      if (!linkNames.has(truth.link)) {
        ctx.addIssue({
          code: 'custom',
          path: ['boot', 'readinessTruth', i, 'link'],
          message: `names unknown link "${truth.link}"`,
        });
      }
    });
  });

/** The policy every default fills in: one source for the schema and for tests. */
export function defaultPolicy(): z.output<typeof policySchema> {
  return policySchema.parse({});
}

/** What a user writes in readiness.config.ts. */
export type ReadinessConfigInput = z.input<typeof configSchema>;
export type ReadinessConfigOutput = z.output<typeof configSchema>;
export type ServiceConfig = ReadinessConfigOutput['services'][string];
export type HealthConfig = NonNullable<ServiceConfig['health']>;
export type PolicyConfig = ReadinessConfigOutput['policy'];

/** The first dependency cycle found, as a path that starts and ends on the same node. */
function findCycle(graph: Readonly<Record<string, readonly string[]>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'visiting');
    path.push(node);
    for (const next of graph[node] ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of Object.keys(graph)) {
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}
