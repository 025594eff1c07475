import type { Authenticator } from '../auth/authenticator.ts';
import { stageAuthenticator } from '../auth/stage.ts';
import type { LoadSlo } from '../config/stages/load.ts';
import { DISPOSABLE } from '../config/auth.ts';
import type { ChaosConfig } from '../config/stages/chaos.ts';
import type { CheckResult, Metric } from '../core/check-result.ts';
import { pollUntil } from '../core/clock.ts';
import { ConfigError, SystemFailureError } from '../core/errors.ts';
import { derivedSeed, seededRandom } from '../core/seed.ts';
import { actAs } from '../auth/act-as.ts';
import type { Identity } from '../auth/act-as.ts';
import { Timeline } from '../runner/timeline.ts';
import { runCheck } from '../runner/suite.ts';
import type { CheckOutcome, PlannedCheck, SuiteContext } from '../runner/suite.ts';
import { serviceUrl } from '../stack/stack-handle.ts';
import { describeFault, faultLink, isToxic, unseededDraws } from './catalog.ts';
import { dockerClient } from '../stack/containers.ts';
import type {
  ChaosApi,
  Experiment,
  ExperimentLoad,
  Expectation,
  LoadDriver,
  Probe,
  ProbeOutcome,
} from './experiment.ts';
import { judgeLink, samplesFor } from './fault-proof.ts';
import type { LinkVerdict } from './fault-proof.ts';
import { httpExchange, refusedOutcome, requestHeaders, sendAndLoseResponse } from '../runner/http.ts';
import type { HttpOutcome, HttpRequest } from '../runner/http.ts';
import { injectFault } from './injector.ts';
import type { ActiveFault, FaultEnv } from './injector.ts';
import { observeLink } from './link-probe.ts';
import type { LinkObservation } from './link-probe.ts';
import { MissingBaselineError, readMetricBaselines, runProbe, slug } from './probes.ts';
import type { MetricBaselines } from './probes.ts';
import { metricValue, parsePrometheus } from '../runner/prometheus.ts';
import { helloBytes, seededUuid } from '../runner/templates.ts';
import { WriteLedger } from '../runner/write-ledger.ts';

/** What the chaos stage passes to each experiment besides the suite context. */
export interface ExperimentRunOptions {
  readonly chaos: ChaosConfig;
  /** Handle files to rewrite when a restarted container gets new host ports. */
  readonly handleFiles: readonly string[];
  /** Short unique tag of this run, in user names and toxic names. */
  readonly runTag: string;
  /** How to replay this experiment, printed with its checks. */
  readonly replay: string;
  /** Starts k6 load behind an experiment that declares `load` (the load stage's `startPhaseLoad`). */
  readonly loadDriver?: LoadDriver;
  /** The stage's authenticator (principals' credentials are obtained once per stage); default: one for this experiment. */
  readonly authenticator?: Authenticator;
}

interface LinkTarget {
  readonly host: string;
  readonly port: number;
  readonly hello: Buffer;
  readonly expectBytes: number;
  readonly via: string;
  /** The blast-radius guard of the run (throws for a host that is not the run's own). */
  readonly assert: (target: string) => unknown;
}

/** Where to look for a fault from the outside: through its Toxiproxy link, or at the service's own port. */
function linkTargetOf(context: SuiteContext, chaos: ChaosConfig, experiment: Experiment): LinkTarget | undefined {
  const { handle, config } = context;
  const fault = experiment.fault;
  const link = faultLink(fault);
  const toxiproxyHost = handle.toxiproxy ? new URL(handle.toxiproxy.apiUrl).hostname : '127.0.0.1';
  if (link !== undefined) {
    const proxy = handle.toxiproxy?.proxies[link];
    const hello = chaos.links[link];
    if (!proxy || !hello) return undefined;
    return {
      host: toxiproxyHost,
      port: proxy.hostPort,
      hello: helloBytes(hello.send),
      expectBytes: hello.expectBytes,
      via: `link ${link}`,
      assert: (t: string) => context.assertTarget(t),
    };
  }
  if (fault.kind !== 'container') return undefined;
  const viaLink = Object.entries(handle.toxiproxy?.proxies ?? {}).find(
    ([name, p]) => p.service === fault.service && chaos.links[name],
  );
  if (viaLink) {
    const hello = chaos.links[viaLink[0]];
    if (hello)
      return {
        host: toxiproxyHost,
        port: viaLink[1].hostPort,
        hello: helloBytes(hello.send),
        expectBytes: hello.expectBytes,
        via: `link ${viaLink[0]}`,
        assert: (t: string) => context.assertTarget(t),
      };
  }
  const health = config.services[fault.service]?.health;
  const entry = handle.services[fault.service];
  if (health?.kind === 'http' && entry) {
    const port = entry.endpoint.ports[String(health.port)];
    if (port !== undefined)
      return {
        host: entry.endpoint.host,
        port,
        hello: Buffer.from(`GET ${health.path} HTTP/1.0\r\nHost: ${fault.service}\r\n\r\n`),
        expectBytes: 12,
        via: `${fault.service}:${health.port}`,
        assert: (t: string) => context.assertTarget(t),
      };
  }
  return undefined;
}

const observeMany = async (
  target: LinkTarget,
  n: number,
  timeoutMs: number,
  waitCloseMs?: number,
): Promise<LinkObservation[]> => {
  const out: LinkObservation[] = [];
  target.assert(`${target.host}:${target.port}`);
  for (let i = 0; i < n; i += 1)
    out.push(
      await observeLink(target.host, target.port, target.hello, {
        expectBytes: target.expectBytes,
        timeoutMs,
        ...(waitCloseMs === undefined ? {} : { waitCloseMs }),
      }),
    );
  return out;
};

const loadCheckName = (plan: NonNullable<Experiment['load']>, phase: string, slo: LoadSlo): string => {
  const bounds = [
    slo.p95Ms === undefined ? '' : `p95 < ${slo.p95Ms}ms`,
    slo.p99Ms === undefined ? '' : `p99 < ${slo.p99Ms}ms`,
    slo.maxErrorRate === undefined ? '' : `errors < ${slo.maxErrorRate * 100}%`,
  ].filter(Boolean);
  return `under ${plan.ratePerSec}/s k6 load, the ${phase} phase holds ${bounds.join(', ') || 'its SLO'}`;
};

/** An experiment's checks, in order: the id after `chaos.<experiment>.` and the name after its title. */
function experimentChecks(experiment: Experiment): { readonly id: string; readonly name: string }[] {
  const load = experiment.load;
  return [
    { id: 'steady-state', name: 'steady state holds before the fault' },
    { id: 'fault-effect', name: `the fault took effect (${describeFault(experiment.fault)})` },
    ...experiment.during.map((e) => ({ id: `during.${slug(e.name)}`, name: e.name })),
    { id: 'recovery', name: `recovered within ${experiment.recovery.withinMs}ms` },
    ...(experiment.ledger
      ? [{ id: 'ledger', name: 'every acknowledged write is stable, none lost or duplicated' }]
      : []),
    ...(load
      ? Object.entries(load.slo).map(([phase, slo]) => ({ id: `load.${phase}`, name: loadCheckName(load, phase, slo) }))
      : []),
  ];
}

/** The checks an experiment is due to record, known from its definition before it runs. */
export function planExperiment(experiment: Experiment): PlannedCheck[] {
  const tags = ['chaos', experiment.fault.kind, ...(experiment.tags ?? [])];
  return experimentChecks(experiment).map((c) => ({
    id: `chaos.${experiment.id}.${c.id}`,
    name: `${experiment.title}: ${c.name}`,
    feature: `chaos: ${experiment.id}`,
    severity: experiment.severity,
    tags,
  }));
}

/** Runs one experiment and records its checks: steady state, fault effect, each expectation, recovery, ledger, load. */
export async function runExperiment(
  context: SuiteContext,
  experiment: Experiment,
  options: ExperimentRunOptions,
): Promise<CheckResult[]> {
  const { handle, clock, signal, seed } = context;
  const { chaos } = options;
  const results: CheckResult[] = [];
  const timeline = new Timeline();
  const random = seededRandom(derivedSeed(seed, experiment.id));
  const prefix = `chaos.${experiment.id}`;
  const description = describeFault(experiment.fault);
  const unseeded = unseededDraws(experiment.fault);
  const parameters = {
    seed: String(seed),
    fault: description,
    replay: options.replay,
    // Said on every check, so nobody expects a replay to meet the same resets.
    ...(unseeded.length > 0
      ? { unseeded: `Toxiproxy draws from its own unseeded source: ${unseeded.join('; ')}` }
      : {}),
  };
  const evidence = (): CheckOutcome['evidence'] => [
    { name: 'experiment timeline', contentType: 'text/plain', content: timeline.text() },
  ];
  const plan = planExperiment(experiment);
  const check = async (
    id: string,
    body: () => Promise<CheckOutcome>,
    remediation = experiment.remediation,
  ): Promise<CheckResult> => {
    const spec = plan.find((c) => c.id === `${prefix}.${id}`);
    if (!spec) throw new Error(`check ${prefix}.${id} is not in the plan of ${experiment.id}`);
    const result = await runCheck(context, { ...spec, tags: [...(spec.tags ?? [])], remediation }, async () => {
      const outcome = await body();
      return {
        ...outcome,
        parameters: { ...parameters, ...outcome.parameters },
        evidence: [...(outcome.evidence ?? []), ...(evidence() ?? [])],
      };
    });
    results.push(result);
    return result;
  };
  /** Records every planned check still without a result as `unknown`, with the reason. */
  const notRun = async (why: string): Promise<void> => {
    for (const spec of plan) {
      if (results.some((r) => r.id === spec.id)) continue;
      await check(
        spec.id.slice(prefix.length + 1),
        () => Promise.resolve({ status: 'unknown', message: `Not run: ${why}` }),
        `Make the experiment reach this check: ${why}`,
      );
    }
  };

  // --- the API probes and ledger use -----------------------------------------------------------
  let identity: Identity | undefined;
  let active: ActiveFault | undefined;
  const authenticator =
    options.authenticator ??
    stageAuthenticator(context, chaos.target, { random: seededRandom(derivedSeed(seed, `auth:${experiment.id}`)) });
  const asKey = `${context.config.configFile}: chaos.as`;
  const targetOf = (service?: string, port?: number): { service: string; port: number } => {
    const s = service ?? chaos.target.service;
    const p =
      port ??
      (service === undefined ? chaos.target.port : Number(Object.keys(handle.services[s]?.endpoint.ports ?? {})[0]));
    return { service: s, port: p };
  };
  const requestAs = async (as: Identity | undefined, req: HttpRequest): Promise<HttpOutcome> => {
    const target = targetOf(req.service, req.port);
    const url = context.assertTarget(`${serviceUrl(handle, target.service, target.port)}${req.path}`).href;
    const prepared = await requestHeaders(req, as, asKey);
    if ('refused' in prepared) return refusedOutcome(prepared.refused);
    return httpExchange(url, {
      method: req.method ?? 'GET',
      headers: prepared.headers,
      ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
      timeoutMs: req.timeoutMs ?? chaos.probeTimeoutMs,
      signal,
    });
  };
  const request = (req: HttpRequest): Promise<HttpOutcome> => requestAs(identity, req);
  const api: ChaosApi = {
    seed,
    random,
    uuid: () => seededUuid(random),
    request,
    metric: async (name, labels, from) => {
      const out = await request({ ...from, path: chaos.metricsPath });
      if (out.status !== 200) throw new Error(`GET ${chaos.metricsPath} -> ${out.status || out.error || 'no answer'}`);
      return metricValue(parsePrometheus(out.body), name, labels);
    },
    fault: {
      redraw: () => active?.redraw() ?? Promise.resolve(),
      suspend: () => active?.suspend() ?? Promise.resolve(),
    },
    clock,
    signal,
    log: (line) => timeline.log(line),
  };
  let baselines: MetricBaselines = { values: new Map(), problems: [], lines: [] };
  /** One probe; its error is an outcome (not a harness failure), except an interrupt, which ends the check. */
  const probeOnce = (probe: Probe): Promise<ProbeOutcome> =>
    runProbe(probe, api, baselines.values).catch((error: unknown) => {
      signal.throwIfAborted();
      // No baseline, or a config problem (auth: true without chaos.as), is a harness failure (broken), not the system failing the probe.
      if (error instanceof MissingBaselineError || error instanceof ConfigError) throw error;
      return { ok: false, detail: `${probe.name}: ${error instanceof Error ? error.message : String(error)}` };
    });
  /** Polls a probe until it passes or `withinMs` runs out. */
  const eventually = async (probe: Probe, withinMs: number, intervalMs = 200) => {
    let missing: MissingBaselineError | ConfigError | undefined;
    const outcome = await pollUntil(
      () =>
        probeOnce(probe).catch((error: unknown) => {
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
    timeline.log(
      `${probe.name}: ${last?.detail ?? 'no outcome'}${outcome.ok ? '' : ` (gave up after ${Math.round(outcome.elapsedMs)}ms)`}`,
    );
    return {
      ok: outcome.ok,
      elapsedMs: outcome.elapsedMs,
      detail: last?.detail ?? 'no outcome',
      metrics: last?.metrics ?? [],
    };
  };

  // --- 0. load behind the experiment (when declared) ---------------------------------------------------
  timeline.log(`experiment ${experiment.id} (seed ${seed}): ${description}`);
  let load: ExperimentLoad | undefined;
  let loadPhaseAt = 0;
  /** Keeps the current load phase going until it has lasted `minPhaseSec`. */
  const holdLoadPhase = async (phase: string): Promise<void> => {
    if (!load || !experiment.load) return;
    const waitMs = (experiment.load.minPhaseSec ?? 5) * 1000 - (clock.monotonicMs() - loadPhaseAt);
    if (waitMs <= 0) return;
    timeline.log(`k6 load: ${phase} phase held ${Math.round(waitMs)}ms more`);
    await clock.sleep(waitMs, signal);
  };
  let loadProblem = 'no k6 load driver was given to the chaos stage (the chaos suite passes the load stage one)';
  if (experiment.load && options.loadDriver) {
    const plan = experiment.load;
    try {
      load = await options.loadDriver(
        context,
        {
          ratePerSec: plan.ratePerSec,
          maxDurationSec: plan.maxDurationSec ?? 300,
          slo: plan.slo,
          ...(plan.exec === undefined ? {} : { exec: plan.exec }),
          ...(plan.maxVUs === undefined ? {} : { maxVUs: plan.maxVUs }),
        },
        `chaos-${experiment.id}`,
      );
      const started = load;
      context.teardowns.add(`stop the k6 load behind ${experiment.id}`, async () => {
        await started.stop();
      });
      load.mark('baseline');
      loadPhaseAt = clock.monotonicMs();
      timeline.log(`k6 load started: ${plan.ratePerSec} iterations/s`);
    } catch (error) {
      loadProblem = `k6 load did not start: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  // --- 1. steady state ------------------------------------------------------------------------------
  const steady = await check('steady-state', async () => {
    if (chaos.as !== undefined) {
      try {
        identity = await actAs(authenticator, chaos.as, experiment.id, context.config.auth?.disposable?.like);
        timeline.log(`acting as ${identity.principal}: ${identity.evidence.join('; ')}`);
      } catch (error) {
        // The service refusing a sign-up or a login is the system's state, with its answer as evidence.
        if (!(error instanceof SystemFailureError)) throw error;
        return {
          status: 'failed',
          message: `Steady state not met before the fault: ${error.message}`,
          remediation: 'Bring the service back to a working state; the experiment was not run',
          evidence: [{ name: 'system evidence', contentType: 'text/plain', content: error.evidence }],
        };
      }
    }
    const lines: string[] = [];
    for (const probe of experiment.steadyState) {
      const r = await eventually(probe, chaos.settleMs);
      lines.push(`${r.ok ? 'ok' : 'FAILED'} ${probe.name}: ${r.detail}`);
      if (!r.ok)
        return {
          status: 'failed',
          message: `Steady state not met before the fault: ${probe.name}: ${r.detail}`,
          remediation: `Make the service meet "${probe.name}" without any fault; the experiment was not run`,
        };
    }
    return { status: 'passed', message: lines.join('\n') };
  });
  if (steady.status !== 'passed') {
    // Not run: its load must not run on behind the next experiment.
    await load?.stop();
    await notRun(`the steady state did not hold before the fault (${steady.status}), so the fault was not injected`);
    return results;
  }
  await holdLoadPhase('baseline');

  // --- 2. baselines, ledger, injection and proof of effect ------------------------------------------------
  const linkTarget = linkTargetOf(context, chaos, experiment);
  const baselineObs = linkTarget && isToxic(experiment.fault) ? await observeMany(linkTarget, 3, 1_500) : [];
  if (baselineObs.length > 0)
    timeline.log(`baseline through ${linkTarget?.via}: ${baselineObs.map((o) => o.detail).join('; ')}`);
  baselines = await readMetricBaselines(
    [...(experiment.proof ?? []), ...experiment.during, ...experiment.recovery.probes],
    (name, labels, from) => api.metric(name, labels, from),
  );
  for (const line of [...baselines.lines, ...baselines.problems.map((p) => `baseline NOT read: ${p}`)])
    timeline.log(line);

  let ledger: WriteLedger | undefined;
  let ledgerProblem: CheckOutcome = {
    status: 'broken',
    message: 'The experiment declares a ledger but the config has no chaos.ledger',
  };
  if (experiment.ledger && chaos.ledger) {
    const ledgerConfig = chaos.ledger;
    const ledgerPlan = experiment.ledger;
    try {
      // A throwaway user of its own for the ledger, so its listing holds nothing but its writes.
      const writer =
        chaos.as === DISPOSABLE
          ? await actAs(authenticator, DISPOSABLE, `${experiment.id}-ledger`, context.config.auth?.disposable?.like)
          : identity;
      if (writer && writer !== identity)
        timeline.log(`ledger acting as ${writer.principal}: ${writer.evidence.join('; ')}`);
      ledger = new WriteLedger(
        ledgerConfig,
        ledgerPlan,
        {
          // Without chaos.as the ledger's requests carry no credentials (an API without auth).
          request: (req) => requestAs(writer, { ...req, auth: writer !== undefined }),
          sendAndLose: async (req) => {
            const target = targetOf(req.service, req.port);
            const entry = handle.services[target.service];
            const hostPort = entry?.endpoint.ports[String(target.port)];
            if (!entry || hostPort === undefined) throw new Error(`no host port for ${target.service}:${target.port}`);
            const prepared = await requestHeaders({ ...req, auth: writer !== undefined }, writer, asKey);
            if ('refused' in prepared) return { answered: false, detail: prepared.refused };
            return sendAndLoseResponse(
              entry.endpoint.host,
              hostPort,
              {
                method: req.method ?? 'POST',
                path: req.path,
                headers: prepared.headers,
                body: JSON.stringify(req.body ?? null),
              },
              chaos.probeTimeoutMs,
            );
          },
          random,
          sleep: (ms) => clock.sleep(ms, signal),
          now: () => clock.now(),
          signal,
        },
        'chaos.ledger',
      );
    } catch (error) {
      signal.throwIfAborted();
      // The system refusing the ledger user's sign-up or login is its failure; anything else is the harness's.
      ledgerProblem =
        error instanceof SystemFailureError
          ? {
              status: 'failed',
              message: `The ledger's user could not be signed up or logged in: ${error.message}`,
              evidence: [{ name: 'system evidence', contentType: 'text/plain', content: error.evidence }],
            }
          : {
              status: 'broken',
              message: `The ledger could not start: ${error instanceof Error ? error.message : String(error)}`,
            };
    }
  }

  let ledgerLoop: { stop: () => void; done: Promise<void> } | undefined;
  if (ledger && experiment.ledger?.phase === 'around-injection') {
    const state = { stopped: false };
    const target = experiment.ledger.writes;
    const done = (async () => {
      while (!state.stopped && ledger.entries.length < target) await ledger.write(() => state.stopped);
    })().catch((error: unknown) =>
      timeline.log(`ledger loop stopped: ${error instanceof Error ? error.message : String(error)}`),
    );
    ledgerLoop = { stop: () => (state.stopped = true), done };
    await pollUntil(
      () => Promise.resolve(ledger.acknowledged),
      (n) => n >= Math.ceil(target / 2),
      {
        timeoutMs: 10_000,
        intervalMs: 5,
        clock,
        signal,
      },
    );
    timeline.log(`ledger: ${ledger.acknowledged} writes acknowledged before the injection`);
  }

  const env: FaultEnv = {
    handle,
    teardowns: context.teardowns,
    handleFiles: options.handleFiles,
    docker: dockerClient,
    log: (line) => timeline.log(line),
  };
  const toxicName = `readiness-${options.runTag}-${experiment.id}`;
  let injectedAt = 0;
  const effect = await check('fault-effect', async () => {
    if (baselines.problems.length > 0) {
      ledgerLoop?.stop();
      return {
        status: 'broken',
        message: `The fault was not injected: metric baselines could not be read right before the injection, so no rise since the fault could be measured: ${baselines.problems.join('; ')}`,
        remediation: `Make the metrics endpoint (chaos.metricsPath) answer before the fault, or drop sinceFault from those probes`,
      };
    }
    injectedAt = clock.monotonicMs();
    active = await injectFault(env, experiment.fault, toxicName);
    load?.mark('fault');
    loadPhaseAt = clock.monotonicMs();
    const injectMs = clock.monotonicMs() - injectedAt;
    // Detection is timed from the moment the fault is in place.
    injectedAt = clock.monotonicMs();
    ledgerLoop?.stop();
    const control = await pollUntil(
      () => active?.control() ?? Promise.reject(new Error('not injected')),
      (c) => c.ok,
      {
        timeoutMs: chaos.proofWithinMs,
        intervalMs: 100,
        clock,
        signal,
      },
    );
    const controlLine = control.ok ? control.value.detail : (control.last?.detail ?? String(control.lastError));
    timeline.log(`control plane: ${controlLine}`);
    const effects: string[] = [];
    let effectOk = true;
    let detectMs: number | undefined;
    for (const probe of experiment.proof ?? []) {
      const r = await eventually(probe, chaos.proofWithinMs, 100);
      effects.push(`${r.ok ? 'seen' : 'NOT seen'} ${probe.name}: ${r.detail}`);
      effectOk &&= r.ok;
      if (r.ok) detectMs = clock.monotonicMs() - injectedAt;
    }
    let link: LinkVerdict = { verdict: 'unobservable', detail: 'no link hello configured for this fault' };
    if (linkTarget) {
      const fault = experiment.fault;
      const waitCloseMs = fault.kind === 'slow_close' ? fault.delayMs + 1_000 : undefined;
      const timeoutMs =
        fault.kind === 'reset_peer'
          ? (fault.timeoutMs ?? 0) + 1_500
          : fault.kind === 'latency'
            ? fault.latencyMs + (fault.jitterMs ?? 0) + 1_500
            : 1_500;
      if (fault.kind === 'container') {
        const obs = await observeMany(linkTarget, 1, 1_000);
        const silent = obs.every((o) => o.outcome !== 'answered');
        link =
          fault.action === 'restart'
            ? { verdict: 'unobservable', detail: 'a restarted container is proven by its new start time' }
            : {
                verdict: silent ? 'observed' : 'not-observed',
                detail: `${linkTarget.via}: ${obs.map((o) => o.detail).join('; ')}`,
              };
      } else if (fault.kind !== 'signal') {
        const during = await observeMany(linkTarget, samplesFor(fault), timeoutMs, waitCloseMs);
        link = judgeLink(fault, baselineObs, during, linkTarget.expectBytes);
        link = { ...link, detail: `${linkTarget.via}: ${link.detail}` };
      } else link = { verdict: 'unobservable', detail: 'a process signal is proven by the process table' };
    }
    timeline.log(`probe through the link: ${link.verdict}: ${link.detail}`);
    detectMs ??= clock.monotonicMs() - injectedAt;
    const hasEffects = (experiment.proof ?? []).length > 0;
    const controlled = experiment.fault.kind === 'container' || experiment.fault.kind === 'signal';
    const linkOk = link.verdict === 'observed' || (link.verdict === 'unobservable' && (hasEffects || controlled));
    const metrics: Metric[] = [
      { name: 'time_to_inject_ms', value: Math.round(injectMs), unit: 'ms' },
      ...(effectOk ? [{ name: 'time_to_detect_ms', value: Math.round(detectMs), unit: 'ms' }] : []),
      ...(link.shiftMs === undefined
        ? []
        : [{ name: 'link_latency_shift_ms', value: Math.round(link.shiftMs), unit: 'ms' }]),
    ];
    const message = [
      `control plane: ${controlLine}`,
      `through the link: ${link.verdict}: ${link.detail}`,
      ...effects,
    ].join('\n');
    if (!control.ok || !linkOk || !effectOk) {
      const why = !control.ok
        ? 'the control plane does not show it'
        : !linkOk
          ? `the link does not show it (${link.verdict})`
          : 'the system shows no effect';
      return {
        status: 'broken',
        message: `The fault did not take effect: ${why}\n${message}`,
        remediation:
          'Make the experiment target something its probes cross (the link and the routes that use it), or declare a link hello in chaos.links',
        metrics,
      };
    }
    return { status: 'passed', message, metrics };
  });

  // --- 3. expectations while the fault is in place ------------------------------------------------------
  const noEvidence = (why: string) => (): Promise<CheckOutcome> => Promise.resolve({ status: 'unknown', message: why });
  if (effect.status === 'passed') {
    for (const expectation of experiment.during) {
      await check(
        `during.${slug(expectation.name)}`,
        () => judgeExpectation(expectation),
        expectation.remediation ?? experiment.remediation,
      );
    }
    if (ledger && experiment.ledger?.phase === 'during-fault') {
      for (let i = 0; i < experiment.ledger.writes; i += 1) {
        if (experiment.ledger.redrawEachWrite) await active?.redraw();
        await ledger.write();
      }
      timeline.log(`ledger: ${ledger.acknowledged}/${ledger.entries.length} writes acknowledged during the fault`);
    }
  } else {
    for (const expectation of experiment.during)
      await check(`during.${slug(expectation.name)}`, noEvidence('Not measured: the fault did not take effect'));
  }
  await ledgerLoop?.done;

  // --- 4. rollback and recovery ----------------------------------------------------------------------------
  if (active) await holdLoadPhase('fault');
  const rollbackStart = clock.monotonicMs();
  await active?.rollback();
  load?.mark('recovery');
  loadPhaseAt = clock.monotonicMs();
  timeline.log(
    `rolled back in ${Math.round(clock.monotonicMs() - rollbackStart)}ms (fault active ${Math.round(clock.monotonicMs() - injectedAt)}ms)`,
  );
  await check(
    'recovery',
    async () => {
      // Recovering from a fault that was never in place proves nothing.
      if (!active) return { status: 'unknown', message: 'Not measured: the fault was never injected' };
      if (experiment.recovery.probes.length === 0)
        return { status: 'unknown', message: 'No recovery probe is declared: nothing shows the system recovered' };
      const lines: string[] = [];
      for (const probe of experiment.recovery.probes) {
        const left = experiment.recovery.withinMs - (clock.monotonicMs() - rollbackStart);
        const r = await eventually(probe, Math.max(0, left));
        lines.push(`${r.ok ? 'ok' : 'FAILED'} ${probe.name}: ${r.detail}`);
        if (!r.ok)
          return {
            status: 'failed',
            message: `Not recovered within ${experiment.recovery.withinMs}ms after the fault was removed: ${probe.name}: ${r.detail}`,
          };
      }
      const recoverMs = Math.round(clock.monotonicMs() - rollbackStart);
      return {
        status: 'passed',
        message: `recovered ${recoverMs}ms after the fault was removed\n${lines.join('\n')}`,
        metrics: [{ name: 'time_to_recover_ms', value: recoverMs, unit: 'ms' }],
      };
    },
    experiment.recovery.remediation ?? experiment.remediation,
  );

  // --- 5. ledger -------------------------------------------------------------------------------------
  if (experiment.ledger) {
    await check(
      'ledger',
      async () => {
        if (!ledger) return ledgerProblem;
        const verdict = await ledger.verify();
        const c = verdict.counts;
        const metrics: Metric[] = (Object.keys(c) as (keyof typeof c)[]).map((k) => ({
          name: `writes_${k}`,
          value: c[k],
          unit: 'writes',
        }));
        const summary = `${ledger.entries.length} writes, ${ledger.acknowledged} acknowledged: ${c.stable} stable, ${c.lost} lost, ${c.duplicated} duplicated, ${c.unacknowledged} unacknowledged, ${c.unknown} unknown`;
        const ev = [{ name: 'write ledger', contentType: 'text/plain', content: verdict.lines.join('\n') }];
        if (verdict.failures.length > 0)
          return {
            status: 'failed',
            message: `${summary}\n${verdict.failures.slice(0, 10).join('\n')}`,
            metrics,
            evidence: ev,
          };
        if (ledger.acknowledged === 0 || c.unknown > 0 || verdict.lines.some((l) => l.startsWith('listing failed')))
          return { status: 'unknown', message: `No evidence: ${summary}`, metrics, evidence: ev };
        return { status: 'passed', message: summary, metrics, evidence: ev };
      },
      experiment.ledger.remediation ?? experiment.remediation,
    );
  }

  // --- 6. load, per phase ------------------------------------------------------------------------------
  if (experiment.load) {
    const loadPlan = experiment.load;
    await holdLoadPhase('recovery');
    const outcome = load ? await load.stop() : undefined;
    const phaseMetrics: Metric[] =
      outcome?.kind === 'measured'
        ? outcome.phases.flatMap((p) => [
            { name: `${p.phase}_p95_ms`, value: p.p95Ms, unit: 'ms' },
            { name: `${p.phase}_p99_ms`, value: p.p99Ms, unit: 'ms' },
            { name: `${p.phase}_rps`, value: p.ratePerSec, unit: 'req/s' },
            { name: `${p.phase}_error_rate`, value: p.errorRate, unit: 'ratio' },
          ])
        : [];
    for (const phase of Object.keys(loadPlan.slo)) {
      await check(
        `load.${phase}`,
        (): Promise<CheckOutcome> => {
          if (!outcome) return Promise.resolve({ status: 'broken', message: loadProblem });
          if (outcome.kind === 'broken')
            return Promise.resolve({
              status: 'broken',
              message: `k6 load broken: ${outcome.message}`,
              evidence: [{ name: 'k6 stderr (tail)', contentType: 'text/plain', content: outcome.stderrTail }],
            });
          const evidence = [{ name: 'k6 load per phase', contentType: 'text/csv', content: outcome.csv }];
          const stats = outcome.phases.find((p) => p.phase === phase);
          if (!stats || stats.requests === 0 || stats.breaches === undefined)
            return Promise.resolve({
              status: 'unknown',
              message: `No k6 request was sent during the ${phase} phase: nothing to judge`,
              metrics: phaseMetrics,
              evidence,
            });
          const seen = `${stats.requests} requests at ${stats.ratePerSec}/s: p95 ${stats.p95Ms}ms, p99 ${stats.p99Ms}ms, errors ${Math.round(stats.errorRate * 1000) / 10}%`;
          return Promise.resolve({
            status: stats.breaches.length === 0 ? 'passed' : 'failed',
            message:
              stats.breaches.length === 0
                ? `Held in the ${phase} phase: ${seen}`
                : `Crossed in the ${phase} phase: ${stats.breaches.join('; ')} (${seen})`,
            metrics: phaseMetrics,
            evidence,
            parameters: { phase },
          });
        },
        loadPlan.remediation ?? experiment.remediation,
      );
    }
  }
  return results;

  async function judgeExpectation(expectation: Expectation): Promise<CheckOutcome> {
    if (expectation.withinMs !== undefined) {
      const r = await eventually(expectation, expectation.withinMs, expectation.intervalMs ?? 200);
      return r.ok
        ? { status: 'passed', message: `${r.detail} (after ${Math.round(r.elapsedMs)}ms)`, metrics: r.metrics }
        : { status: 'failed', message: `Not within ${expectation.withinMs}ms: ${r.detail}`, metrics: r.metrics };
    }
    const samples = expectation.samples ?? (expectation.kind === 'fn' ? 1 : 3);
    if (samples < 1) return { status: 'unknown', message: `samples is ${samples}: no sample was taken` };
    const lines: string[] = [];
    const metrics: Metric[] = [];
    let ok = true;
    for (let i = 0; i < samples; i += 1) {
      if (i > 0) await clock.sleep(expectation.intervalMs ?? 200, signal);
      const r = await probeOnce(expectation);
      timeline.log(`${expectation.name} [${i + 1}/${samples}]: ${r.detail}`);
      lines.push(`${r.ok ? 'ok' : 'FAILED'} ${r.detail}`);
      metrics.push(...(r.metrics ?? []));
      ok &&= r.ok;
    }
    return ok
      ? { status: 'passed', message: lines.join('\n'), metrics }
      : {
          status: 'failed',
          message: `${lines.find((l) => l.startsWith('FAILED'))?.slice(7) ?? 'failed'}${samples > 1 ? `\n(all ${samples} samples: ${lines.join(' | ')})` : ''}`,
          metrics,
        };
  }
}
