import { z } from 'zod';
import { formatIssues } from '../config/load-config.ts';
import { loadConfigSchema } from '../config/stages/load.ts';
import type { LoadSlo } from '../config/stages/load.ts';
import { SEVERITIES } from '../core/check-result.ts';
import type { Metric } from '../core/check-result.ts';
import type { Clock } from '../core/clock.ts';
import type { SuiteContext } from '../runner/suite.ts';
import { STREAMS } from './catalog.ts';
import type { HttpOutcome, HttpRequest } from '../runner/http.ts';
import { renderString } from '../runner/templates.ts';
import { slug } from './probes.ts';

/** What a function probe returns: the verdict as data, with a line saying what was seen. */
export interface ProbeOutcome {
  readonly ok: boolean;
  readonly detail: string;
  readonly metrics?: readonly Metric[];
  /** false: the failure is not about time (a wrong status or body), so a saturated host does not excuse it. */
  readonly timing?: boolean;
}

/** The fault as a probe function may steer it (e.g. re-draw toxicity before each request). */
interface FaultControl {
  redraw(): Promise<void>;
  suspend(): Promise<void>;
}

/** What a function probe gets: seeded randomness, HTTP and metrics against the stack, the fault, a timeline. */
export interface ChaosApi {
  readonly seed: number;
  /** Seeded from the run seed and the experiment id. */
  random(): number;
  uuid(): string;
  request(request: HttpRequest): Promise<HttpOutcome>;
  /** A Prometheus metric of a service (default: the chaos target), summed over series whose labels include `labels`. */
  metric(
    name: string,
    labels?: Readonly<Record<string, string>>,
    from?: { readonly service?: string; readonly port?: number },
  ): Promise<number | undefined>;
  readonly fault: FaultControl;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** A line of the experiment's timeline (attached to its checks). */
  log(line: string): void;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const ms = z.number().int().positive();
const nonNegativeInt = z.number().int().min(0);
/** A service of the stack: must be one of the config's services (checked when the experiments load). */
const serviceName = z.string().min(1);

/** A header value template: `{{uuid}}` (seeded) and `{{pick:a,b}}`; one that does not render is refused when the file loads. */
const headerTemplate = z.string().superRefine((value, ctx) => {
  try {
    renderString(value, {}, () => 0.5);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
  }
});

/** An HTTP request of a probe; goes to `chaos.target` unless it names a `service` and `port`. */
const httpRequestSchema = z.strictObject({
  service: serviceName.optional(),
  port: z.number().int().min(1).max(65535).optional(),
  method: z.enum(METHODS).optional(),
  path: z.string().startsWith('/'),
  /** Extra headers besides the credentials: templates (`{{uuid}}`, seeded per experiment). */
  headers: z.record(z.string(), headerTemplate).optional(),
  body: z.json().optional(),
  /** Carry the credentials of `chaos.as` (bearer, basic, API key, cookie...). */
  auth: z.boolean().optional(),
  timeoutMs: ms.optional(),
});

const jsonExpectationSchema = z.record(
  z.string().min(1),
  z.union([z.strictObject({ oneOf: z.array(z.json()).min(1) }), z.json()]),
);

const httpExpectSchema = z.strictObject({
  /** Accepted statuses (a number, a list, or `'2xx'`); `0` stands for "no answer". Default `'2xx'`. */
  status: z
    .union([
      z.number().int().min(0).max(599),
      z.array(z.number().int().min(0).max(599)).min(1),
      z.literal('2xx'),
      z.literal('any'),
    ])
    .optional(),
  maxLatencyMs: ms.optional(),
  minLatencyMs: nonNegativeInt.optional(),
  /** JSON expectations on the answer: dotted path -> exact value, or `{ oneOf: [...] }`. */
  json: jsonExpectationSchema.optional(),
});

/** A probe's name is part of a check id (`chaos.<id>.during.<slug of name>`). */
const probeName = z.string().regex(/[a-zA-Z0-9]/, 'a name with at least one letter or digit (it becomes a check id)');

const httpProbeShape = {
  kind: z.literal('http'),
  name: probeName,
  request: httpRequestSchema,
  expect: httpExpectSchema,
};

const metricProbeShape = {
  kind: z.literal('metric'),
  name: probeName,
  /** A Prometheus metric of a service (default: the chaos target), summed over series whose labels include `labels`. */
  metric: z.string().regex(/^[A-Za-z_:][A-Za-z0-9_:]*$/, 'a Prometheus metric name'),
  labels: z.record(z.string(), z.string()).optional(),
  service: serviceName.optional(),
  port: z.number().int().min(1).max(65535).optional(),
  expect: z.strictObject({
    op: z.enum(['==', '>=', '<=', '>', '<']),
    value: z.number(),
    /** Compare the increase since the fault was injected rather than the value. */
    sinceFault: z.boolean().optional(),
  }),
};

/** A function probe: gets the chaos API, returns the verdict as data. */
type ProbeFn = (api: ChaosApi) => Promise<ProbeOutcome>;

const fnProbeShape = {
  kind: z.literal('fn'),
  name: probeName,
  run: z.custom<ProbeFn>((v) => typeof v === 'function', {
    message: 'must be a function (api) => Promise<{ ok, detail }>',
  }),
};

const probeSchema = z.discriminatedUnion('kind', [
  z.strictObject(httpProbeShape),
  z.strictObject(metricProbeShape),
  z.strictObject(fnProbeShape),
]);

/**
 * While the fault is in place the probe must pass on every one of `samples` tries (default 3, or 1
 * for a function; spaced by `intervalMs`), or with `withinMs`, eventually within that time.
 */
const expectationShape = {
  samples: z.number().int().min(1).optional(),
  intervalMs: nonNegativeInt.optional(),
  withinMs: ms.optional(),
  /**
   * The expectation judges latency (a function probe timing its requests): a failure on a saturated host is
   * `broken`, not `failed`. Implied by `withinMs` and by an HTTP probe's `maxLatencyMs`/`minLatencyMs`.
   */
  judgesTiming: z.boolean().optional(),
  /** What to fix when this expectation fails. */
  remediation: z.string().min(1).optional(),
};

const expectationSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...httpProbeShape, ...expectationShape }),
  z.strictObject({ ...metricProbeShape, ...expectationShape }),
  z.strictObject({ ...fnProbeShape, ...expectationShape }),
]);

/** A probe: an HTTP exchange, a Prometheus metric, or a function. `name` becomes part of a check id. */
export type Probe = z.output<typeof probeSchema>;
/** A probe as an experiment file writes it. */
export type ProbeInput = z.input<typeof probeSchema>;
/** A probe with how it is judged while the fault is in place. */
export type Expectation = z.output<typeof expectationSchema>;
/** An expectation as an experiment file writes it. */
export type ExpectationInput = z.input<typeof expectationSchema>;
export type HttpExpect = z.output<typeof httpExpectSchema>;

const toxicBase = {
  /** Toxiproxy proxy name (a `links[]` entry of the config). */
  link: z.string().min(1),
  stream: z.enum(STREAMS).optional(),
  /** Share of connections the toxic affects, drawn per connection by Toxiproxy. */
  toxicity: z.number().gt(0, 'must be > 0 (a share of connections, at most 1)').max(1).optional(),
};

/** The fault catalog as a schema; Toxiproxy takes integer attributes. Matches `Fault` of catalog.ts. */
export const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('latency'), ...toxicBase, latencyMs: ms, jitterMs: nonNegativeInt.optional() }),
  z.strictObject({ kind: z.literal('down'), link: toxicBase.link }),
  z.strictObject({ kind: z.literal('timeout'), ...toxicBase, timeoutMs: nonNegativeInt }),
  z.strictObject({ kind: z.literal('reset_peer'), ...toxicBase, timeoutMs: nonNegativeInt.optional() }),
  z.strictObject({ kind: z.literal('bandwidth'), ...toxicBase, rateKBps: z.number().int().positive() }),
  z.strictObject({
    kind: z.literal('slicer'),
    ...toxicBase,
    averageSizeBytes: z.number().int().positive(),
    sizeVariationBytes: nonNegativeInt.optional(),
    delayUs: nonNegativeInt.optional(),
  }),
  z.strictObject({ kind: z.literal('limit_data'), ...toxicBase, bytes: nonNegativeInt }),
  z.strictObject({ kind: z.literal('slow_close'), ...toxicBase, delayMs: nonNegativeInt }),
  z.strictObject({ kind: z.literal('container'), action: z.enum(['pause', 'kill', 'restart']), service: serviceName }),
  z.strictObject({
    kind: z.literal('signal'),
    service: serviceName,
    /** Processes whose command line contains this. */
    process: z.string().min(1),
    signal: z.enum(['KILL', 'TERM']),
  }),
]);

/** The ledger part of an experiment: how many writes, when, and which client faults to add. */
const ledgerPlanSchema = z.strictObject({
  writes: z.number().int().positive(),
  /**
   * `around-injection`: writes run while the fault is injected (half are acknowledged first), as
   * for a crash right after acknowledged writes. `during-fault`: writes run while the fault is in place.
   */
  phase: z.enum(['around-injection', 'during-fault']),
  /** Re-draw the fault's toxicity before each write (pooled connections otherwise dodge a partial toxic). */
  redrawEachWrite: z.boolean().optional(),
  /** Share of writes whose first answer the client loses (it resets the connection), then retries with the same key. */
  lostResponseRatio: z.number().min(0).max(1).optional(),
  /** Attempts per write, same idempotency key each time (default 6). */
  maxAttempts: z.number().int().positive().optional(),
  remediation: z.string().min(1).optional(),
});

/** The phases of an experiment under load: before the fault, while it is in place, after its removal. */
export type LoadPhase = 'baseline' | 'fault' | 'recovery';

/** The load stage's SLO (`load.slo`): p95/p99, error rate, check rate. */
const loadSloSchema = loadConfigSchema.shape.slo.unwrap();

/**
 * k6 load behind the experiment, on the load stage's script and target (`load.script`, `load.target`,
 * `load.env` in the config): a constant arrival rate from before the steady state to the end of
 * recovery, each request judged in the phase during which it was sent.
 */
const loadPlanSchema = z.strictObject({
  /** Iterations per second of the script's `exec` function. */
  ratePerSec: z.number().int().positive(),
  exec: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a function name the script exports')
    .optional(),
  /** SLO per phase; each phase given one is a check (`chaos.<id>.load.<phase>`), the others are measured. */
  slo: z.strictObject({
    baseline: loadSloSchema.optional(),
    fault: loadSloSchema.optional(),
    recovery: loadSloSchema.optional(),
  }),
  /**
   * Least seconds of each phase (load before the fault, with the fault in place, after its removal);
   * default 5, so each phase is judged on more than a handful of requests.
   */
  minPhaseSec: z.number().int().positive().optional(),
  /** Upper bound of the k6 run, seconds (default 300); it is stopped after the recovery phase. */
  maxDurationSec: z.number().int().positive().optional(),
  maxVUs: z.number().int().positive().optional(),
  remediation: z.string().min(1).optional(),
});

/** Figures of one phase of the load behind an experiment. */
interface LoadPhaseStats {
  readonly phase: string;
  readonly requests: number;
  readonly ratePerSec: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly errorRate: number;
  /** What the phase crossed of its SLO (empty: held); absent without an SLO or without requests. */
  readonly breaches?: readonly string[];
}

/** Load running behind an experiment: phases are marked as the experiment goes. */
export interface ExperimentLoad {
  mark(phase: LoadPhase): void;
  /** Idempotent. */
  stop(): Promise<
    | { readonly kind: 'measured'; readonly phases: readonly LoadPhaseStats[]; readonly csv: string }
    | { readonly kind: 'broken'; readonly message: string; readonly stderrTail: string }
  >;
}

/**
 * Starts load behind an experiment, resolving once it runs (the load stage provides one: the chaos
 * suite passes it in, since stage modules do not import each other).
 */
export type LoadDriver = (
  context: SuiteContext,
  plan: {
    readonly ratePerSec: number;
    readonly maxDurationSec: number;
    readonly exec?: string;
    readonly maxVUs?: number;
    readonly slo: Readonly<Record<string, LoadSlo>>;
  },
  label: string,
) => Promise<ExperimentLoad>;

/** Lower-case id, used in check ids and `readiness drill <id>`. */
const EXPERIMENT_ID = /^[a-z0-9][a-z0-9-]*$/;

/** A chaos experiment (Chaos Toolkit's shape): steady state, fault, expectations during, recovery, ledger, load. */
export const experimentSchema = z
  .strictObject({
    id: z.string().regex(EXPERIMENT_ID, 'lower-case letters, digits and dashes (it is part of check ids)'),
    title: z.string().min(1),
    severity: z.enum(SEVERITIES),
    fault: faultSchema,
    /** Must hold before anything is injected: without it a failure during the fault proves nothing. */
    steadyState: z.array(probeSchema).min(1, 'must list at least one probe (what holds before anything is injected)'),
    /** The system-side proof that the fault took effect (besides Toxiproxy/Docker and a probe through the link). */
    proof: z.array(probeSchema).optional(),
    during: z.array(expectationSchema),
    recovery: z.strictObject({
      withinMs: ms,
      probes: z.array(probeSchema).min(1, 'must list at least one probe (what shows the system recovered)'),
      remediation: z.string().min(1).optional(),
    }),
    ledger: ledgerPlanSchema.optional(),
    /** k6 load behind the whole experiment, judged per phase. */
    load: loadPlanSchema.optional(),
    /** What to fix when a check of this experiment fails, unless the expectation gives its own. */
    remediation: z.string().min(1),
    tags: z.array(z.string().min(1)).optional(),
  })
  .superRefine((experiment, ctx) => {
    // Two expectations with one name would record two checks under one id.
    const seen = new Map<string, number>();
    experiment.during.forEach((expectation, i) => {
      const id = slug(expectation.name);
      const first = seen.get(id);
      if (first === undefined) seen.set(id, i);
      else
        ctx.addIssue({
          code: 'custom',
          path: ['during', i, 'name'],
          message: `gives the same check id (during.${id}) as during[${first}]; name each expectation differently`,
        });
    });
  });

/** A chaos experiment as the runner gets it (validated). */
export type Experiment = z.output<typeof experimentSchema>;
/** What `scenarios/chaos/*.ts` write: `export default defineExperiment({...})`. */
export type ExperimentInput = z.input<typeof experimentSchema>;

/** Typed identity for `scenarios/chaos/*.ts`: `export default defineExperiment({...})`; validated when loaded. */
export function defineExperiment(experiment: ExperimentInput): ExperimentInput {
  return experiment;
}

/**
 * Validates what an experiment file default-exported: the experiment, or one line per problem
 * naming `file` (as given) and the dotted key, e.g. `x.ts: fault.latencyMs must be a number (received "500")`.
 */
export function parseExperiment(
  raw: unknown,
  file: string,
):
  | { readonly experiment: Experiment; readonly problems?: undefined }
  | { readonly experiment?: undefined; readonly problems: readonly string[] } {
  const parsed = experimentSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) return { problems: formatIssues(file, parsed.error.issues) };
  return { experiment: parsed.data };
}
