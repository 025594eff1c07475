import { z } from 'zod';
import { checkService, checkServicePort } from './refine-context.ts';
import type { RefinementCtx } from './refine-context.ts';

/** k6's built-in metrics and their types (https://grafana.com/docs/k6/latest/using-k6/metrics/reference/). */
export const K6_BUILTIN_METRICS = {
  checks: 'rate',
  data_received: 'counter',
  data_sent: 'counter',
  dropped_iterations: 'counter',
  iteration_duration: 'trend',
  iterations: 'counter',
  vus: 'gauge',
  vus_max: 'gauge',
  http_req_blocked: 'trend',
  http_req_connecting: 'trend',
  http_req_duration: 'trend',
  http_req_failed: 'rate',
  http_req_receiving: 'trend',
  http_req_sending: 'trend',
  http_req_tls_handshaking: 'trend',
  http_req_waiting: 'trend',
  http_reqs: 'counter',
} as const;

const K6_METRIC_TYPES = ['trend', 'rate', 'counter', 'gauge'] as const;
export type K6MetricType = (typeof K6_METRIC_TYPES)[number];

/** Aggregations k6 accepts in a threshold, per metric type. */
const AGGREGATIONS: Record<K6MetricType, RegExp> = {
  trend: /^(avg|min|max|med|p\(\d+(\.\d+)?\))$/,
  rate: /^rate$/,
  counter: /^(count|rate)$/,
  gauge: /^value$/,
};

/** `metric` or `metric{tag:value,...}`. */
const SELECTOR = /^([A-Za-z_][A-Za-z0-9_]*)(\{[A-Za-z0-9_-]+:[^{},]+(,[A-Za-z0-9_-]+:[^{},]+)*\})?$/;
const EXPRESSION = /^\s*([a-z]+(?:\(\d+(?:\.\d+)?\))?)\s*(<=|>=|<|>|===|==|!=)\s*-?\d+(\.\d+)?\s*$/;

const ms = z.number().int().positive();
/** VUs the knee probe pre-allocates, at most (`knee.maxVUs` when lower). */
export const KNEE_PREALLOCATED_VUS = 50;

/** Most k6 processes one scenario may run as (`load.runners`). */
const MAX_RUNNERS = 16;
const ratio = z.number().min(0).max(1);
const id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and -');

/** Service-level objectives; each becomes a k6 threshold (per phase when the scenario has phases). */
const sloSchema = z.strictObject({
  p95Ms: ms.optional(),
  p99Ms: ms.optional(),
  /** Highest share of failed requests (`http_req_failed`), 0..1. */
  maxErrorRate: ratio.optional(),
  /** Lowest share of passed k6 `check()`s, 0..1. */
  minCheckRate: ratio.optional(),
});
export type LoadSlo = z.infer<typeof sloSchema>;

/** Extra thresholds exactly as k6 takes them: `{ 'http_req_duration{name:list}': ['p(95)<200'] }`. */
const thresholdsSchema = z.record(z.string(), z.array(z.string().min(1)).min(1));

const rateStage = z.strictObject({ target: z.number().int().min(0), durationSec: z.number().int().positive() });

const faultSchema = z.strictObject({
  kind: z.literal('latency'),
  link: z.string().min(1),
  latencyMs: ms,
  jitterMs: z.number().int().min(0).default(0),
  stream: z.enum(['upstream', 'downstream']).default('downstream'),
});
export type LoadFault = z.infer<typeof faultSchema>;

const phaseSchema = z.strictObject({
  name: id,
  durationSec: z.number().int().positive(),
  /** The fault is on during this phase only. */
  fault: z.boolean().default(false),
  /** Replaces the scenario's SLO for this phase (not merged: a fault phase may bound latency only). */
  slo: sloSchema.optional(),
});

const scenarioSchema = z.strictObject({
  id,
  /** k6 script, relative to the config file; default `load.script`. */
  script: z.string().min(1).optional(),
  /** The script's exported function each iteration runs. */
  exec: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .default('default'),
  /** Constant arrival rate (iterations per second) for `durationSec`, or `stages` for a ramping arrival rate. */
  ratePerSec: z.number().int().positive().optional(),
  durationSec: z.number().int().positive().optional(),
  startRatePerSec: z.number().int().min(0).default(0),
  stages: z.array(rateStage).min(1).optional(),
  /** Baseline, fault and recovery windows: the constant rate runs through each, requests tagged `phase:<name>`. */
  phases: z.array(phaseSchema).min(1).optional(),
  fault: faultSchema.optional(),
  preAllocatedVUs: z.number().int().positive().default(20),
  maxVUs: z.number().int().positive().default(100),
  /** Overrides of `load.slo` for this scenario. */
  slo: sloSchema.optional(),
  thresholds: thresholdsSchema.default({}),
  /** Fails the scenario when a service's memory grows faster than this (MB/min, least squares over the second half of the samples). */
  maxMemorySlopeMbPerMin: z.record(z.string(), z.number().positive()).default({}),
  /**
   * Fails the scenario when a service still holds more than this (MB) after the load stops and
   * `settleSec` of quiet: the floor of its memory after settling minus its memory when the load began.
   * Garbage a healthy runtime collects is given back; what a leak keeps is not.
   */
  maxRetainedMemoryMb: z.record(z.string(), z.number().positive()).default({}),
  /** Quiet seconds after the load, sampled, before retained memory is judged (only with `maxRetainedMemoryMb`). */
  settleSec: z.number().int().positive().max(120).default(15),
  /** Overrides `load.runners` for this scenario. */
  runners: z.number().int().min(1).max(MAX_RUNNERS).optional(),
  severity: z.enum(['blocker', 'critical', 'normal', 'minor', 'trivial']).default('critical'),
});
export type LoadScenario = z.infer<typeof scenarioSchema>;

/** Config of the `load` stage (`load: {...}` in readiness.config.ts). */
export const loadConfigSchema = z.strictObject({
  k6: z
    .strictObject({
      module: z.string().default('go.k6.io/k6'),
      version: z
        .string()
        .regex(/^v\d+\.\d+\.\d+$/, 'a pinned release tag such as v1.8.1')
        .default('v1.8.1'),
      /** A k6 binary to use instead of building the pinned one. */
      binary: z.string().optional(),
    })
    .default({ module: 'go.k6.io/k6', version: 'v1.8.1' }),
  /** Default script of every scenario, relative to the config file. */
  script: z.string().min(1),
  /** The service and port the script targets: `BASE_URL` in the script's env. */
  target: z.strictObject({ service: z.string().min(1), port: z.number().int().positive() }),
  /** Extra env for the script (credentials, knobs); values are redacted from artifacts when listed in `secrets`. */
  env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).default({}),
  /**
   * Principals of the top-level `auth.principals` whose credentials the script gets: before each k6
   * run the harness obtains them and passes `READINESS_AUTH_<NAME>` (upper case, `-` as `_`), the
   * JSON of the headers to send; redacted from every artifact.
   */
  principals: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/, 'a principal name of auth.principals')).default([]),
  /** Metrics the scripts declare (`new Trend('x')`), so thresholds on them are known: name -> type. */
  customMetrics: z.record(z.string(), z.enum(K6_METRIC_TYPES)).default({}),
  slo: sloSchema.default({}),
  /**
   * Fewest samples a threshold's selector must hold for its check to pass or fail; fewer is `unknown`
   * with the count. 50: a p(95) on fewer rests on the two slowest samples, so one outlier decides it.
   */
  minSamples: z.number().int().min(1).default(50),
  /**
   * Highest share of an arrival-rate executor's planned iterations (rate x duration) k6 may drop for
   * want of a free VU; beyond it the generator, not the system, set the load and the scenario is `broken`.
   */
  maxDroppedRatio: ratio.default(0.01),
  /**
   * Lowest share of an executor's planned iterations that must complete: below it the generator did not
   * hold the asked rate (short of CPU, or iterations cut off at the window's end) and the scenario is `broken`.
   */
  minReachedRatio: ratio.default(0.9),
  /**
   * k6 processes each scenario runs as, sharing its load through k6's execution segments (runner i of N
   * runs segment i/N:(i+1)/N); the harness judges every threshold on the merged samples of all of them.
   * 1 (default): one process, judged as before. The knee probe runs as this many too, its windows judged
   * on the samples of all of them.
   */
  runners: z.number().int().min(1).max(MAX_RUNNERS).default(1),
  scenarios: z.array(scenarioSchema).min(1),
  /** Capacity knee probe: ramping arrival rate; the highest rate whose window still met `load.slo`. */
  knee: z
    .strictObject({
      exec: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
        .default('default'),
      script: z.string().min(1).optional(),
      fromRatePerSec: z.number().int().positive(),
      toRatePerSec: z.number().int().positive(),
      durationSec: z.number().int().positive().max(120),
      /** Width of the windows the SLO is judged on. */
      windowSec: z.number().int().positive().default(3),
      /** When set, the knee is a check that fails below this rate; otherwise a reported figure (`<run>/load/knee.json`), never a check. */
      floorRatePerSec: z.number().positive().optional(),
      maxVUs: z.number().int().positive().default(200),
    })
    .optional(),
  /**
   * How far this run's capacity figures may fall behind the last CERTIFIED run of the same config name
   * before `load.capacity.regression` fails: the knee may drop by `kneeDrop` of the earlier knee; a p95 or
   * p99 may rise by `p95Rise`/`p99Rise` of the earlier value and by more than `absoluteFloorMs`; an error
   * rate may rise by `errorRateRise` (absolute, 0..1). Defaults from the spread of recorded healthy runs
   * (docs/stages/load.md).
   */
  regression: z
    .strictObject({
      kneeDrop: ratio.default(0.25),
      p95Rise: z.number().positive().default(1),
      p99Rise: z.number().positive().default(1),
      errorRateRise: ratio.default(0.2),
      absoluteFloorMs: z.number().min(0).default(100),
    })
    .default({ kneeDrop: 0.25, p95Rise: 1, p99Rise: 1, errorRateRise: 0.2, absoluteFloorMs: 100 }),
  /** Docker stats sampling of the services during each scenario. */
  resources: z
    .strictObject({
      sampleIntervalMs: ms.default(1_000),
      services: z.array(z.string()).optional(),
      /**
       * Per service, read memory from its own Prometheus endpoint instead of the container's (the sum of
       * these gauges, in bytes): e.g. a Node service's `nodejs_heap_size_used_bytes` +
       * `nodejs_external_memory_bytes`, which a runtime's reserved-but-free heap does not inflate.
       */
      memoryFromPrometheus: z
        .record(
          z.string(),
          z.strictObject({
            port: z.number().int().positive(),
            path: z.string().startsWith('/').default('/metrics'),
            metrics: z.array(z.string().regex(/^[A-Za-z_:][A-Za-z0-9_:]*$/, 'a Prometheus metric name')).min(1),
          }),
        )
        .default({}),
    })
    .default({ sampleIntervalMs: 1_000, memoryFromPrometheus: {} }),
});
export type LoadConfig = z.infer<typeof loadConfigSchema>;

/** How many k6 processes a scenario runs as: its own `runners`, else `load.runners`. */
export function scenarioRunners(load: Pick<LoadConfig, 'runners'>, scenario: Pick<LoadScenario, 'runners'>): number {
  return scenario.runners ?? load.runners;
}

/** Metric type of a threshold's metric, or undefined when neither k6 nor `customMetrics` defines it. */
function metricTypeOf(metric: string, custom: Readonly<Record<string, K6MetricType>>): K6MetricType | undefined {
  return (K6_BUILTIN_METRICS as Record<string, K6MetricType>)[metric] ?? custom[metric];
}

/** Problems with one threshold (selector + expressions): an unknown metric, a bad tag filter, an aggregation the type lacks. */
export function thresholdProblems(
  selector: string,
  expressions: readonly string[],
  custom: Readonly<Record<string, K6MetricType>>,
): string[] {
  const match = SELECTOR.exec(selector);
  if (!match) return [`"${selector}" is not a k6 metric selector (metric or metric{tag:value})`];
  const metric = match[1] ?? '';
  const type = metricTypeOf(metric, custom);
  if (type === undefined) {
    const known = [...Object.keys(K6_BUILTIN_METRICS), ...Object.keys(custom)].sort();
    return [
      `"${metric}" is not a metric k6 or the scripts define (k6 would ignore this threshold); known: ${known.join(', ')}; declare script metrics in load.customMetrics`,
    ];
  }
  const problems: string[] = [];
  for (const expression of expressions) {
    const parsed = EXPRESSION.exec(expression);
    if (!parsed) {
      problems.push(`"${expression}" is not a threshold expression such as p(95)<200`);
      continue;
    }
    const aggregation = parsed[1] ?? '';
    if (!AGGREGATIONS[type].test(aggregation)) {
      problems.push(`"${expression}": ${metric} is a ${type}, which has no "${aggregation}"`);
    }
  }
  return problems;
}

/**
 * The values a scenario's own tags can take, known from the config: `phase` is one of its phases, and
 * `scenario` one of the k6 scenarios it runs as (one per phase, named after it; else the scenario id).
 */
function knownTagValues(scenario: LoadScenario): { phase: readonly string[]; scenario: readonly string[] } {
  const phases = (scenario.phases ?? []).map((p) => p.name);
  return { phase: phases, scenario: phases.length > 0 ? phases : [scenario.id] };
}

/** A `phase` or `scenario` tag value in a threshold selector that no request of the scenario can carry (a typo). */
function unmatchedTagProblems(selector: string, scenario: LoadScenario): string[] {
  const inner = /\{(.*)\}$/.exec(selector)?.[1];
  if (inner === undefined) return [];
  const known = knownTagValues(scenario);
  return inner.split(',').flatMap((pair) => {
    const colon = pair.indexOf(':');
    const key = pair.slice(0, colon).trim();
    const value = pair.slice(colon + 1).trim();
    if (key !== 'phase' && key !== 'scenario') return [];
    const values = known[key];
    if (values.includes(value)) return [];
    return [
      `tag ${key}:${value} matches no request of scenario "${scenario.id}", so the threshold would pass on no sample; ${values.length === 0 ? `it has no ${key}s` : `its ${key} values are ${values.join(', ')}`}`,
    ];
  });
}

/** The env var that carries a principal's credential headers (JSON) to the k6 script: `READINESS_AUTH_ALICE`. */
export function principalEnvName(principal: string): string {
  return `READINESS_AUTH_${principal.toUpperCase().replace(/-/g, '_')}`;
}

type LoadRefineConfig = RefinementCtx['config'] & {
  readonly load?: LoadConfig | undefined;
  readonly auth?: { readonly principals: Readonly<Record<string, unknown>> } | undefined;
};
type Path = (string | number)[];

/** `load.principals` must be declared in `auth.principals`, and their env vars are the harness's. */
function refinePrincipals(config: LoadRefineConfig, load: LoadConfig, ctx: RefinementCtx['ctx']): void {
  const declared = Object.keys(config.auth?.principals ?? {});
  load.principals.forEach((principal, i) => {
    if (!declared.includes(principal)) {
      ctx.addIssue({
        code: 'custom',
        path: ['load', 'principals', i],
        message: `names principal "${principal}", which auth.principals does not declare (known: ${declared.join(', ') || 'none'})`,
      });
    }
    const env = principalEnvName(principal);
    if (env in load.env) {
      ctx.addIssue({
        code: 'custom',
        path: ['load', 'env', env],
        message: `is set by the harness for load.principals "${principal}"; remove it from load.env`,
      });
    }
  });
}

/** A scenario's phases: at a constant rate, unique names, exactly one fault phase with a fault. */
function refinePhases(scenario: LoadScenario, at: (...rest: Path) => Path, ctx: RefinementCtx['ctx']): void {
  const constant = scenario.ratePerSec !== undefined;
  if (scenario.phases === undefined) {
    if (scenario.fault)
      ctx.addIssue({
        code: 'custom',
        path: at('fault'),
        message: 'needs phases (the fault is on during the phase marked fault: true)',
      });
    return;
  }
  if (!constant)
    ctx.addIssue({
      code: 'custom',
      path: at('phases'),
      message: 'need ratePerSec (phases run at a constant rate)',
    });
  if (scenario.durationSec !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: at('durationSec'),
      message: 'conflicts with phases (their durations add up)',
    });
  const faulty = scenario.phases.filter((p) => p.fault).length;
  if (scenario.fault && faulty !== 1)
    ctx.addIssue({
      code: 'custom',
      path: at('phases'),
      message: `mark exactly one phase fault: true (found ${faulty})`,
    });
  if (!scenario.fault && faulty > 0)
    ctx.addIssue({ code: 'custom', path: at('fault'), message: 'is required when a phase has fault: true' });
  const names = scenario.phases.map((p) => p.name);
  if (new Set(names).size !== names.length)
    ctx.addIssue({ code: 'custom', path: at('phases'), message: 'phase names must be unique' });
}

/** One scenario: its rate, phases, fault link, thresholds, memory services and runners. */
function refineScenario(
  config: LoadRefineConfig,
  load: LoadConfig,
  scenario: LoadScenario,
  at: (...rest: Path) => Path,
  ctx: RefinementCtx['ctx'],
): void {
  const constant = scenario.ratePerSec !== undefined;
  if (constant === (scenario.stages !== undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: at(),
      message: 'needs exactly one of ratePerSec (constant) or stages (ramping)',
    });
  }
  if (constant && scenario.durationSec === undefined && scenario.phases === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: at('durationSec'),
      message: 'is required with ratePerSec (or give phases)',
    });
  }
  refinePhases(scenario, at, ctx);
  const linkNames = new Set(config.links.map((l) => l.name ?? l.service));
  if (scenario.fault && !linkNames.has(scenario.fault.link)) {
    ctx.addIssue({
      code: 'custom',
      path: at('fault', 'link'),
      message: `names unknown link "${scenario.fault.link}" (known: ${[...linkNames].join(', ') || 'none'})`,
    });
  }
  for (const [selector, expressions] of Object.entries(scenario.thresholds)) {
    for (const problem of [
      ...thresholdProblems(selector, expressions, load.customMetrics),
      ...unmatchedTagProblems(selector, scenario),
    ]) {
      ctx.addIssue({ code: 'custom', path: at('thresholds', selector), message: problem });
    }
  }
  for (const key of ['maxMemorySlopeMbPerMin', 'maxRetainedMemoryMb'] as const) {
    for (const service of Object.keys(scenario[key])) checkService(config, ctx, at(key, service), service);
  }
  const runners = scenarioRunners(load, scenario);
  if (runners > scenario.preAllocatedVUs) {
    // k6 splits the VUs between the segments: a runner without one would run nothing.
    ctx.addIssue({
      code: 'custom',
      path: scenario.runners === undefined ? ['load', 'runners'] : at('runners'),
      message: `${runners} runners share the ${scenario.preAllocatedVUs} preAllocatedVUs of scenario "${scenario.id}": each needs at least one (raise preAllocatedVUs or lower runners)`,
    });
  }
}

/** Cross-checks of the load stage against the rest of the config (services, links, principals); issues under `load`. */
export function refineLoad(config: LoadRefineConfig, ctx: RefinementCtx['ctx']): void {
  const load = config.load;
  if (!load) {
    if (config.stages.includes('load'))
      ctx.addIssue({
        code: 'custom',
        path: ['load'],
        message: 'is required when "load" is in stages (script, target, scenarios)',
      });
    return;
  }
  checkServicePort(config, ctx, ['load', 'target'], load.target);
  refinePrincipals(config, load, ctx);
  for (const name of Object.keys(load.customMetrics)) {
    if (name in K6_BUILTIN_METRICS)
      ctx.addIssue({ code: 'custom', path: ['load', 'customMetrics', name], message: 'is a k6 built-in metric' });
  }
  const seen = new Set<string>();
  load.scenarios.forEach((scenario, i) => {
    const at = (...rest: Path): Path => ['load', 'scenarios', i, ...rest];
    if (seen.has(scenario.id))
      ctx.addIssue({ code: 'custom', path: at('id'), message: `duplicate scenario "${scenario.id}"` });
    seen.add(scenario.id);
    refineScenario(config, load, scenario, at, ctx);
  });
  if (load.knee && load.knee.toRatePerSec <= load.knee.fromRatePerSec) {
    ctx.addIssue({ code: 'custom', path: ['load', 'knee', 'toRatePerSec'], message: 'must be above fromRatePerSec' });
  }
  if (load.knee && load.runners > Math.min(load.knee.maxVUs, KNEE_PREALLOCATED_VUS)) {
    // The knee probe runs as load.runners too; k6 splits its pre-allocated VUs between the segments.
    ctx.addIssue({
      code: 'custom',
      path: ['load', 'runners'],
      message: `${load.runners} runners share the ${Math.min(load.knee.maxVUs, KNEE_PREALLOCATED_VUS)} pre-allocated VUs of the knee probe (min(knee.maxVUs, ${KNEE_PREALLOCATED_VUS})): each needs at least one (raise knee.maxVUs or lower runners)`,
    });
  }
  for (const [i, service] of (load.resources.services ?? []).entries()) {
    checkService(config, ctx, ['load', 'resources', 'services', i], service);
  }
  for (const [service, source] of Object.entries(load.resources.memoryFromPrometheus)) {
    const at = ['load', 'resources', 'memoryFromPrometheus', service];
    checkServicePort(config, ctx, at, { service, port: source.port }, at);
  }
}
