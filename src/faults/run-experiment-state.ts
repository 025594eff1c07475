import type { Authenticator } from '../auth/authenticator.ts';
import type { Identity } from '../auth/act-as.ts';
import { stageAuthenticator } from '../auth/stage.ts';
import type { ChaosConfig } from '../config/stages/chaos.ts';
import type { CheckResult } from '../core/check-result.ts';
import { pollUntil } from '../core/clock.ts';
import { ConfigError } from '../core/errors.ts';
import { derivedSeed, seededRandom } from '../core/seed.ts';
import { httpExchange, refusedOutcome, requestHeaders } from '../runner/http.ts';
import type { HttpOutcome, HttpRequest } from '../runner/http.ts';
import { metricValue, parsePrometheus } from '../runner/prometheus.ts';
import { runCheck } from '../runner/suite.ts';
import type { CheckOutcome, PlannedCheck, SuiteContext } from '../runner/suite.ts';
import { seededUuid } from '../runner/templates.ts';
import { Timeline } from '../runner/timeline.ts';
import type { WriteLedger } from '../runner/write-ledger.ts';
import { serviceUrl } from '../stack/stack-handle.ts';
import { describeFault, unseededDraws } from './catalog.ts';
import type { Fault } from './catalog.ts';
import type { ChaosApi, Experiment, ExperimentLoad, Probe, ProbeOutcome } from './experiment.ts';
import type { ActiveFault } from './injector.ts';
import type { LinkObservation } from './link-probe.ts';
import { MissingBaselineError, runProbe } from './probes.ts';
import type { MetricBaselines } from './probes.ts';
import type { ExperimentRunOptions } from './run-experiment.ts';
import type { LinkTarget } from './run-experiment-link.ts';
import type { PolledProbe } from './run-experiment-judge.ts';

/** One experiment's run: what it was given, and what its phases set, in the order they run. */
export interface ExperimentRun {
  readonly context: SuiteContext;
  readonly experiment: Experiment;
  readonly options: ExperimentRunOptions;
  readonly chaos: ChaosConfig;
  readonly timeline: Timeline;
  /** Seeded from the run seed and the experiment id. */
  readonly random: () => number;
  readonly authenticator: Authenticator;
  /** The API probes, functions and the ledger use (requests act as `identity`). */
  readonly api: ChaosApi;
  readonly plan: readonly PlannedCheck[];
  /** Said on every check of the experiment. */
  readonly parameters: Readonly<Record<string, string>>;
  readonly results: CheckResult[];
  /** Load behind the experiment, once started; else why there is none. */
  load?: ExperimentLoad;
  loadProblem: string;
  /** When the current load phase began (monotonic ms). */
  loadPhaseAt: number;
  /** Who the requests act as (`chaos.as`), once signed up or logged in. */
  identity?: Identity;
  /** Where the fault is watched from outside, and what was seen there before it. */
  linkTarget?: LinkTarget;
  baselineObs: readonly LinkObservation[];
  baselines: MetricBaselines;
  ledger?: WriteLedger;
  /** The ledger check's outcome when the ledger did not start. */
  ledgerProblem: CheckOutcome;
  ledgerLoop?: { readonly stop: () => void; readonly done: Promise<void> };
  /** The fault in place (rolled back in the recovery phase). */
  active?: ActiveFault;
  /** When the fault was in place (monotonic ms). */
  injectedAt: number;
}

/** The parameters said on every check of an experiment: its seed, its fault, how to replay it, what the seed does not fix. */
export function experimentParameters(seed: number, fault: Fault, replay: string): Readonly<Record<string, string>> {
  const unseeded = unseededDraws(fault);
  return {
    seed: String(seed),
    fault: describeFault(fault),
    replay,
    // Said on every check, so nobody expects a replay to meet the same resets.
    ...(unseeded.length > 0
      ? { unseeded: `Toxiproxy draws from its own unseeded source: ${unseeded.join('; ')}` }
      : {}),
  };
}

/** The run state of one experiment before its first phase. */
export function startRun(
  context: SuiteContext,
  experiment: Experiment,
  options: ExperimentRunOptions,
  plan: readonly PlannedCheck[],
): ExperimentRun {
  const { seed, clock, signal } = context;
  const { chaos } = options;
  const timeline = new Timeline();
  const random = seededRandom(derivedSeed(seed, experiment.id));
  const parameters = experimentParameters(seed, experiment.fault, options.replay);
  const authenticator =
    options.authenticator ??
    stageAuthenticator(context, chaos.target, { random: seededRandom(derivedSeed(seed, `auth:${experiment.id}`)) });
  const run: ExperimentRun = {
    context,
    experiment,
    options,
    chaos,
    timeline,
    random,
    authenticator,
    plan,
    parameters,
    results: [],
    loadProblem: 'no k6 load driver was given to the chaos stage (the chaos suite passes the load stage one)',
    loadPhaseAt: 0,
    baselineObs: [],
    baselines: { values: new Map(), problems: [], lines: [] },
    ledgerProblem: { status: 'broken', message: 'The experiment declares a ledger but the config has no chaos.ledger' },
    injectedAt: 0,
    api: {
      seed,
      random,
      uuid: () => seededUuid(random),
      request: (req) => requestAs(run, run.identity, req),
      metric: async (name, labels, from) => {
        const out = await requestAs(run, run.identity, { ...from, path: chaos.metricsPath });
        if (out.status !== 200)
          throw new Error(`GET ${chaos.metricsPath} -> ${out.status || out.error || 'no answer'}`);
        return metricValue(parsePrometheus(out.body), name, labels);
      },
      fault: {
        redraw: () => run.active?.redraw() ?? Promise.resolve(),
        suspend: () => run.active?.suspend() ?? Promise.resolve(),
      },
      clock,
      signal,
      log: (line) => timeline.log(line),
    },
  };
  return run;
}

/** Records one planned check of the experiment, with the experiment's parameters and timeline attached. */
export async function recordCheck(
  run: ExperimentRun,
  id: string,
  body: () => Promise<CheckOutcome>,
  remediation = run.experiment.remediation,
): Promise<CheckResult> {
  const prefix = `chaos.${run.experiment.id}`;
  const spec = run.plan.find((c) => c.id === `${prefix}.${id}`);
  if (!spec) throw new Error(`check ${prefix}.${id} is not in the plan of ${run.experiment.id}`);
  const result = await runCheck(run.context, { ...spec, tags: [...(spec.tags ?? [])], remediation }, async () => {
    const outcome = await body();
    return {
      ...outcome,
      parameters: { ...run.parameters, ...outcome.parameters },
      evidence: [
        ...(outcome.evidence ?? []),
        { name: 'experiment timeline', contentType: 'text/plain', content: run.timeline.text() },
      ],
    };
  });
  run.results.push(result);
  return result;
}

/** Records every planned check still without a result as `unknown`, with the reason. */
export async function recordNotRun(run: ExperimentRun, why: string): Promise<void> {
  const prefix = `chaos.${run.experiment.id}`;
  for (const spec of run.plan) {
    if (run.results.some((r) => r.id === spec.id)) continue;
    await recordCheck(
      run,
      spec.id.slice(prefix.length + 1),
      () => Promise.resolve({ status: 'unknown', message: `Not run: ${why}` }),
      `Make the experiment reach this check: ${why}`,
    );
  }
}

/** The service and port a request goes to: its own, else the chaos target. */
export function targetOf(run: ExperimentRun, service?: string, port?: number): { service: string; port: number } {
  const s = service ?? run.chaos.target.service;
  const p =
    port ??
    (service === undefined
      ? run.chaos.target.port
      : Number(Object.keys(run.context.handle.services[s]?.endpoint.ports ?? {})[0]));
  return { service: s, port: p };
}

/** The config key named when a request needs `chaos.as` and it is not set. */
export const asKeyOf = (run: ExperimentRun): string => `${run.context.config.configFile}: chaos.as`;

/** One HTTP request to the stack acting as `as` (none: without credentials). */
export async function requestAs(run: ExperimentRun, as: Identity | undefined, req: HttpRequest): Promise<HttpOutcome> {
  const { context } = run;
  const target = targetOf(run, req.service, req.port);
  const url = context.assertTarget(`${serviceUrl(context.handle, target.service, target.port)}${req.path}`).href;
  const prepared = await requestHeaders(req, as, asKeyOf(run));
  if ('refused' in prepared) return refusedOutcome(prepared.refused);
  return httpExchange(url, {
    method: req.method ?? 'GET',
    headers: prepared.headers,
    ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
    timeoutMs: req.timeoutMs ?? run.chaos.probeTimeoutMs,
    signal: context.signal,
  });
}

/** One probe; its error is an outcome (not a harness failure), except an interrupt, which ends the check. */
export function probeOnce(run: ExperimentRun, probe: Probe): Promise<ProbeOutcome> {
  return runProbe(probe, run.api, run.baselines.values).catch((error: unknown) => {
    run.context.signal.throwIfAborted();
    // No baseline, or a config problem (auth: true without chaos.as), is a harness failure (broken), not the system failing the probe.
    if (error instanceof MissingBaselineError || error instanceof ConfigError) throw error;
    return { ok: false, detail: `${probe.name}: ${error instanceof Error ? error.message : String(error)}` };
  });
}

/** Polls a probe until it passes or `withinMs` runs out. */
export async function eventually(
  run: ExperimentRun,
  probe: Probe,
  withinMs: number,
  intervalMs = 200,
): Promise<PolledProbe> {
  const { clock, signal } = run.context;
  let missing: MissingBaselineError | ConfigError | undefined;
  const outcome = await pollUntil(
    () =>
      probeOnce(run, probe).catch((error: unknown) => {
        // pollUntil would retry a thrown error until the deadline; a missing baseline or a config problem never goes away.
        if (!(error instanceof MissingBaselineError || error instanceof ConfigError)) throw error;
        missing = error;
        const outcome: ProbeOutcome = { ok: false, detail: error.message };
        return outcome;
      }),
    (o) => o.ok || missing !== undefined,
    { timeoutMs: withinMs, intervalMs, clock, signal },
  );
  if (missing) throw missing;
  const last = outcome.ok ? outcome.value : outcome.last;
  run.timeline.log(
    `${probe.name}: ${last?.detail ?? 'no outcome'}${outcome.ok ? '' : ` (gave up after ${Math.round(outcome.elapsedMs)}ms)`}`,
  );
  return {
    ok: outcome.ok,
    elapsedMs: outcome.elapsedMs,
    detail: last?.detail ?? 'no outcome',
    metrics: last?.metrics ?? [],
  };
}

/** Polls probes in order, each within its own window, until one does not pass. */
export async function probeInTurn(
  run: ExperimentRun,
  probes: readonly Probe[],
  windowMs: () => number,
): Promise<{ readonly name: string; readonly result: PolledProbe }[]> {
  const steps: { name: string; result: PolledProbe }[] = [];
  for (const probe of probes) {
    const result = await eventually(run, probe, windowMs());
    steps.push({ name: probe.name, result });
    if (!result.ok) break;
  }
  return steps;
}
