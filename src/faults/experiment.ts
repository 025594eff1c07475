import type { LoadSlo } from '../config/stages/load.ts';
import type { Metric, Severity } from '../core/check-result.ts';
import type { Clock } from '../core/clock.ts';
import type { SuiteContext } from '../runner/suite.ts';
import type { Fault } from './catalog.ts';
import type { HttpOutcome, HttpRequest } from '../runner/http.ts';
import type { Json } from '../runner/templates.ts';
import type { LedgerWritePlan } from '../runner/write-ledger.ts';

/** What a function probe returns: the verdict as data, with a line saying what was seen. */
export interface ProbeOutcome {
  readonly ok: boolean;
  readonly detail: string;
  readonly metrics?: readonly Metric[];
}

/** The fault as a probe function may steer it (e.g. re-draw toxicity before each request). */
export interface FaultControl {
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

/** JSON expectations on an answer: dotted path -> exact value, or `{ oneOf: [...] }`. */
export type JsonExpectation = Readonly<Record<string, Json | { readonly oneOf: readonly Json[] }>>;

export interface HttpExpect {
  /** Accepted statuses (a number, a list, or `'2xx'`); `0` stands for "no answer". Default `'2xx'`. */
  readonly status?: number | readonly number[] | '2xx' | 'any';
  readonly maxLatencyMs?: number;
  readonly minLatencyMs?: number;
  readonly json?: JsonExpectation;
}

/** A probe: an HTTP exchange, a Prometheus metric from `/metrics`, or a function. `name` becomes part of a check id. */
export type Probe =
  | { readonly kind: 'http'; readonly name: string; readonly request: HttpRequest; readonly expect: HttpExpect }
  | {
      readonly kind: 'metric';
      readonly name: string;
      readonly metric: string;
      readonly labels?: Readonly<Record<string, string>>;
      readonly service?: string;
      readonly port?: number;
      readonly expect: {
        readonly op: '==' | '>=' | '<=' | '>' | '<';
        readonly value: number;
        /** Compare the increase since the fault was injected rather than the value. */
        readonly sinceFault?: boolean;
      };
    }
  | { readonly kind: 'fn'; readonly name: string; run(api: ChaosApi): Promise<ProbeOutcome> };

/**
 * An expectation while the fault is in place: the probe must pass on every one of `samples` tries
 * (default 3, spaced by `intervalMs`), or with `withinMs`, eventually within that time.
 */
export type Expectation = Probe & {
  readonly samples?: number;
  readonly intervalMs?: number;
  readonly withinMs?: number;
  /** What to fix when this expectation fails. */
  readonly remediation?: string;
};

/** The ledger part of an experiment: how many writes, when, and which client faults to add. */
export interface LedgerPlan extends LedgerWritePlan {
  readonly writes: number;
  /**
   * `around-injection`: writes run while the fault is injected (half are acknowledged first), as
   * for a crash right after acknowledged writes. `during-fault`: writes run while the fault is in place.
   */
  readonly phase: 'around-injection' | 'during-fault';
  /** Re-draw the fault's toxicity before each write (pooled connections otherwise dodge a partial toxic). */
  readonly redrawEachWrite?: boolean;
  readonly remediation?: string;
}

/** The phases of an experiment under load: before the fault, while it is in place, after its removal. */
export type LoadPhase = 'baseline' | 'fault' | 'recovery';

/**
 * k6 load behind the experiment, on the load stage's script and target (`load.script`, `load.target`,
 * `load.env` in the config): a constant arrival rate from before the steady state to the end of
 * recovery, each request judged in the phase during which it was sent.
 */
export interface LoadPlan {
  /** Iterations per second of the script's `exec` function. */
  readonly ratePerSec: number;
  readonly exec?: string;
  /** SLO per phase; each phase given one is a check (`chaos.<id>.load.<phase>`), the others are measured. */
  readonly slo: Readonly<Partial<Record<LoadPhase, LoadSlo>>>;
  /**
   * Least seconds of each phase (load before the fault, with the fault in place, after its removal);
   * default 5, so each phase is judged on more than a handful of requests.
   */
  readonly minPhaseSec?: number;
  /** Upper bound of the k6 run, seconds (default 300); it is stopped after the recovery phase. */
  readonly maxDurationSec?: number;
  readonly maxVUs?: number;
  readonly remediation?: string;
}

/** Figures of one phase of the load behind an experiment. */
export interface LoadPhaseStats {
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

/** A chaos experiment (Chaos Toolkit's shape, typed): steady state, fault, expectations during, recovery, ledger. */
export interface Experiment {
  /** Lower-case id, used in check ids and `readiness drill <id>`. */
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly fault: Fault;
  /** Must hold before anything is injected. */
  readonly steadyState: readonly Probe[];
  /** The system-side proof that the fault took effect (besides Toxiproxy/Docker and a probe through the link). */
  readonly proof?: readonly Probe[];
  readonly during: readonly Expectation[];
  readonly recovery: { readonly withinMs: number; readonly probes: readonly Probe[]; readonly remediation?: string };
  readonly ledger?: LedgerPlan;
  /** k6 load behind the whole experiment, judged per phase. */
  readonly load?: LoadPlan;
  /** What to fix when a check of this experiment fails, unless the expectation gives its own. */
  readonly remediation: string;
  readonly tags?: readonly string[];
}

/** Typed identity for `scenarios/chaos/*.ts`: `export default defineExperiment({...})`. */
export function defineExperiment(experiment: Experiment): Experiment {
  return experiment;
}
