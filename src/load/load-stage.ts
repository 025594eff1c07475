import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Authenticator } from '../auth/authenticator.ts';
import { stageAuthenticator } from '../auth/stage.ts';
import { scenarioRunners } from '../config/stages/load.ts';
import type { LoadConfig, LoadFault, LoadScenario } from '../config/stages/load.ts';
import type { Evidence, Metric } from '../core/check-result.ts';
import { ensureGoTool } from '../provision/go-tool.ts';
import { HostLoadMonitor, systemHostLoadSampler, worseHostLoad } from '../runner/host-load.ts';
import type { HostLoad } from '../runner/host-load.ts';
import { notApplicableMessage } from '../runner/not-applicable.ts';
import { runCheck } from '../runner/suite.ts';
import type { CheckOutcome, CheckSpec, PlanContext, PlannedCheck, SuiteContext } from '../runner/suite.ts';
import { noContainerAccessReason, noToxiproxyReason, serviceUrl } from '../stack/stack-handle.ts';
import { ToxiproxyApi } from '../stack/toxiproxy-api.ts';
import {
  buildK6Options,
  buildKneeOptions,
  isAbortOnFail,
  phaseWindows,
  plannedSeconds,
  withAbortOnFail,
} from './k6-options.ts';
import type { K6Options, K6RunOptions, PhaseWindow } from './k6-options.ts';
import { aggregationOf, parseK6Summary, parseSelector, readK6Summary, runDurationMs } from './k6-summary.ts';
import type { K6Summary } from './k6-summary.ts';
import { readMetricSamples, readShardSamples } from './k6-samples.ts';
import type { MetricSample } from './k6-samples.ts';
import { mergeSampleFiles, mergeSelectors, mergedSummary, mergedSummaryExport } from './k6-merge.ts';
import type { SampleView } from './k6-merge.ts';
import { runK6Shards, shardProblems } from './k6-shards.ts';
import type { K6ShardedOutcome, ScenarioK6Outcome } from './k6-shards.ts';
import { capacityRegressionOutcome, capacityRegressionSpec } from './capacity-regression.ts';
import { kneeBroken, kneeFigures, kneeFromSamples, kneeWindowsCsv, writeKneeFigures } from './knee.ts';
import type { KneeFigures } from './knee.ts';
import {
  askedThresholds,
  executorLoads,
  generatorProblems,
  sampledMetrics,
  thresholdCheckId,
  thresholdChecks,
  unlessGenerator,
} from './scenario-judge.ts';
import type { ThresholdCheck } from './scenario-judge.ts';
import { ResourceSampler, memorySlopeMbPerMin, retainedMemoryMb } from './resources.ts';
import type { ResourceSample, ResourceSeries } from './resources.ts';
import { principalEnv } from './principal-env.ts';
import type { K6RawRunOutcome, K6RunOutcome, PhaseHook } from './run-k6.ts';

/** Time k6 may spend beyond the planned load: start, `setup()` (sign-ups wait out rate limits), graceful stop. */
export const K6_OVERHEAD_MS = 90_000;

/** The k6 binary: the configured one, or the pinned release built once with `go install`. */
export async function ensureK6(config: LoadConfig, context: Pick<SuiteContext, 'reporter'>): Promise<string> {
  if (config.k6.binary) return config.k6.binary;
  return ensureGoTool(
    { name: 'k6', module: config.k6.module, version: config.k6.version },
    { reporter: context.reporter },
  );
}

const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9._:-]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** p95/p99/rps/error rate/check rate of one filter (`{phase:fault}`, `{scenario:baseline}`) in a summary. */
function groupMetrics(summary: K6Summary, filter: string, seconds: number, prefix: string): Metric[] {
  const duration = summary.metrics[`http_req_duration${filter}`];
  const failed = summary.metrics[`http_req_failed${filter}`];
  const reqs = summary.metrics[`http_reqs${filter}`];
  const checks = summary.metrics[`checks${filter}`];
  const metrics: Metric[] = [];
  const add = (name: string, value: number | undefined, unit: string): void => {
    if (value !== undefined && Number.isFinite(value))
      metrics.push({ name: `${prefix}${name}`, value: Math.round(value * 1000) / 1000, unit });
  };
  add('p95_ms', duration?.['p(95)'], 'ms');
  add('p99_ms', duration?.['p(99)'], 'ms');
  add('avg_ms', duration?.avg, 'ms');
  add('requests', reqs?.count, 'count');
  add('rps', reqs?.count === undefined || seconds <= 0 ? undefined : reqs.count / seconds, 'req/s');
  add('error_rate', failed?.value, 'ratio');
  add('check_rate', checks?.value, 'ratio');
  return metrics;
}

function resourceMetrics(series: readonly ResourceSeries[]): Metric[] {
  return series.flatMap(({ service, samples }) => {
    if (samples.length === 0) return [];
    const slope = memorySlopeMbPerMin(samples);
    return [
      {
        name: `${service}_cpu_avg_cores`,
        value: round(samples.reduce((a, s) => a + s.cpuCores, 0) / samples.length),
        unit: 'cores',
      },
      { name: `${service}_cpu_max_cores`, value: round(Math.max(...samples.map((s) => s.cpuCores))), unit: 'cores' },
      { name: `${service}_memory_max_mb`, value: round(Math.max(...samples.map((s) => s.memoryMb))), unit: 'MB' },
      ...(slope === undefined
        ? []
        : [{ name: `${service}_memory_slope_mb_per_min`, value: round(slope), unit: 'MB/min' }]),
    ];
  });
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

/** A path of the config (a k6 script) against the config's folder, not the working directory. */
export function resolvePath(context: SuiteContext, path: string): string {
  return isAbsolute(path) ? path : resolve(context.config.rootDir, path);
}

interface ScenarioRun {
  readonly outcome: ScenarioK6Outcome;
  readonly series: readonly ResourceSeries[];
  readonly faultEvidence: string[];
  /** When the load ended and the quiet settle window closed, on the samples' time base. */
  readonly settle?: { readonly loadEndMs: number; readonly settleEndMs: number };
}

/**
 * A latency toxic on a link during one phase: the rollback is registered in `teardowns` before the
 * toxic is added, and the toxic must be listed by Toxiproxy afterwards (proof it took effect).
 */
function toxiproxyPhaseHook(context: SuiteContext, fault: LoadFault, toxicName: string, log: string[]): PhaseHook {
  const toxiproxy = context.handle.toxiproxy;
  if (!toxiproxy?.proxies[fault.link]) {
    throw new Error(`No Toxiproxy proxy for link "${fault.link}" in the stack handle`);
  }
  const api = new ToxiproxyApi(toxiproxy.apiUrl);
  let registered = false;
  return async (window: PhaseWindow, edge: 'start' | 'end'): Promise<void> => {
    if (!window.fault) return;
    const at = new Date(context.clock.now()).toISOString();
    if (edge === 'start') {
      if (!registered) {
        context.teardowns.add(`remove toxic ${toxicName} from ${fault.link}`, async () => {
          await api.removeToxicIfPresent(fault.link, toxicName);
        });
        registered = true;
      }
      await api.addToxic(fault.link, {
        name: toxicName,
        type: 'latency',
        stream: fault.stream,
        toxicity: 1,
        attributes: { latency: fault.latencyMs, jitter: fault.jitterMs },
      });
      const listed = (await api.listToxics(fault.link)).some((t) => t.name === toxicName);
      log.push(
        `${at} phase ${window.name} start: latency ${fault.latencyMs}ms±${fault.jitterMs} on ${fault.link} (${fault.stream}); listed by Toxiproxy: ${listed}`,
      );
      if (!listed) throw new Error(`the fault did not take effect: toxic ${toxicName} is not listed on ${fault.link}`);
    } else {
      const removed = await api.removeToxicIfPresent(fault.link, toxicName);
      log.push(`${at} phase ${window.name} end: toxic removed (was present: ${removed})`);
    }
  };
}

async function runScenarioK6(
  context: SuiteContext,
  k6: string,
  outDir: string,
  scenario: LoadScenario,
  auth: Authenticator,
): Promise<ScenarioRun> {
  const load = context.config.load;
  if (!load) throw new Error('load config is missing');
  const baseUrl = serviceUrl(context.handle, load.target.service, load.target.port);
  context.assertTarget(baseUrl);
  // Before k6 starts: a login the system refuses is its failure (the run check is failed), not k6's.
  const credentials = await principalEnv(auth, load.principals, (...secrets) => context.redact.register(...secrets));
  const windows = phaseWindows(scenario);
  const faultEvidence: string[] = [];
  const onPhase = scenario.fault
    ? toxiproxyPhaseHook(context, scenario.fault, `readiness-load-${scenario.id}`, faultEvidence)
    : undefined;
  const prometheus = Object.fromEntries(
    Object.entries(load.resources.memoryFromPrometheus).map(([service, source]) => {
      const url = `${serviceUrl(context.handle, service, source.port)}${source.path}`;
      context.assertTarget(url);
      return [service, { url, metrics: source.metrics }];
    }),
  );
  const sampler = new ResourceSampler(
    context.handle,
    load.resources.services ?? Object.keys(context.handle.services),
    load.resources.sampleIntervalMs,
    prometheus,
  );
  let series: readonly ResourceSeries[] = [];
  // Set from k6's onRunning callback (an object, so the flow analysis sees it can change).
  const sampling = { started: false };
  const runners = scenarioRunners(load, scenario);
  const outcome = await runK6Shards(
    {
      k6,
      script: resolvePath(context, scenario.script ?? load.script),
      options: scenarioRunOptions(load, scenario, context.failFast),
      outDir,
      label: scenario.id,
      env: { ...load.env, ...credentials.env, BASE_URL: baseUrl, READINESS_SEED: String(context.seed) },
      // Each runner runs setup() (sign-ups...) against the same system at once: the overhead grows with them.
      timeoutMs: plannedSeconds(scenario) * 1000 + K6_OVERHEAD_MS * runners,
      signal: context.signal,
      clock: context.clock,
      phases: windows,
      ...(onPhase ? { onPhase } : {}),
      // Every request's sample: counts and figures per threshold selector, and what the generator did.
      rawOutput: true,
      // Sample only while the scenarios run, not during setup() sign-ups.
      onRunning: () => {
        // No Docker access (containers: "none"): nothing to sample; the memory checks say not applicable.
        if (noContainerAccessReason(context.handle) !== undefined) return;
        sampling.started = true;
        // No Docker API means no samples: the memory checks then say `unknown`, never passed.
        sampler.start().catch((error: unknown) => {
          context.reporter.onInfo?.(
            `load: Docker stats sampling failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        });
      },
    },
    runners,
  ).catch(async (error: unknown) => {
    if (sampling.started) await sampler.stop();
    throw error;
  });
  let settle: ScenarioRun['settle'];
  if (sampling.started) {
    try {
      // Retained memory is judged after a quiet window: the runtime gets time to collect its garbage.
      if (Object.keys(scenario.maxRetainedMemoryMb).length > 0 && outcome.kind !== 'broken') {
        const loadEndMs = sampler.elapsedMs();
        await context.clock.sleep(scenario.settleSec * 1000, context.signal);
        settle = { loadEndMs, settleEndMs: sampler.elapsedMs() };
      }
    } finally {
      series = await sampler.stop();
    }
  }
  return { outcome, series, faultEvidence, ...(settle ? { settle } : {}) };
}

/**
 * The k6 options of a scenario for this run: under `--fail-fast`, each threshold whose check is critical
 * aborts the test when it fails (the config is not changed). Not with several runners: each would abort
 * on its own share of the samples, which no threshold is about.
 */
export function scenarioRunOptions(
  load: LoadConfig,
  scenario: LoadScenario,
  failFast: SuiteContext['failFast'],
): K6RunOptions {
  const options = buildK6Options(load, scenario);
  if (!failFast || scenarioRunners(load, scenario) > 1) return options;
  return withAbortOnFail(options, (selector, expression) => {
    const { metric, tags } = parseSelector(selector);
    const id = thresholdCheckId(scenario.id, { metric, tags, expression, aggregation: aggregationOf(expression) });
    return failFast.isCritical({ id, severity: scenario.severity });
  });
}

/**
 * The load generator's problems that void a threshold check: none for a failed threshold that aborted
 * the test (`--fail-fast`), since its abort cut the load short and the system failed it; all for the others.
 */
export function generatorProblemsOf(
  check: { readonly selector: string; readonly expression: string; readonly outcome: Pick<CheckOutcome, 'status'> },
  runOptions: K6RunOptions,
  thresholdsFailed: boolean,
  problems: readonly string[],
): readonly string[] {
  const aborted =
    thresholdsFailed &&
    check.outcome.status === 'failed' &&
    isAbortOnFail(runOptions, check.selector, check.expression);
  return aborted ? [] : problems;
}

function brokenOutcome(outcome: Extract<K6RunOutcome, { kind: 'broken' }>): CheckOutcome {
  return {
    status: 'broken',
    message: `k6 run broken: ${outcome.message}`,
    evidence: [{ name: 'k6 stderr (tail)', contentType: 'text/plain', content: outcome.stderrTail }],
    remediation: 'Fix the harness/environment problem shown in the k6 stderr; the thresholds were not evaluated',
  };
}

/** What a scenario's run gives its checks: a summary (k6's, or the harness's on merged samples) and the samples by selector. */
interface JudgedRun {
  readonly summary: K6Summary;
  /** The summary as evidence: k6's export, or the merged one of a sharded run. */
  readonly summaryText: string;
  readonly samples: readonly MetricSample[] | SampleView;
  /** k6 exited 99 (one process: its thresholds are the verdict it aborted on under `--fail-fast`). */
  readonly thresholdsFailed: boolean;
  /** Why the run is unfit to judge besides the generator's load (runners that started apart). */
  readonly problems: readonly string[];
}

/** One k6 process: its summary export is the verdict, its samples the counts and figures (as before runners). */
async function judgeSingleRun(
  options: K6Options,
  outcome: Exclude<K6RawRunOutcome, { kind: 'broken' }>,
): Promise<JudgedRun> {
  const summaryText = await readFile(outcome.summaryFile, 'utf8');
  const summary = parseK6Summary(JSON.parse(summaryText) as unknown);
  const samples = await readMetricSamples(outcome.rawFile, sampledMetrics(options));
  // Every sample of every metric (MBs): the summary and the figures below are the evidence that is kept.
  await rm(outcome.rawFile, { force: true });
  return { summary, summaryText, samples, thresholdsFailed: outcome.kind === 'thresholds-failed', problems: [] };
}

/**
 * Several runners: no runner's own summary or thresholds can judge the run; every threshold is
 * evaluated on the samples of all runners, merged as they stream (a counter's rate over the longest runner).
 */
async function judgeShardedRun(
  load: LoadConfig,
  scenario: LoadScenario,
  options: K6Options,
  outcome: K6ShardedOutcome,
): Promise<JudgedRun> {
  const merged = await mergeSampleFiles(
    outcome.runners.map((r) => r.rawFile),
    mergeSelectors(options),
  );
  const durations = await Promise.all(
    outcome.runners.map(async (r) =>
      // A runner's own summary only gives its duration here; k6 may fail to write one (its samples still count).
      readK6Summary(r.summaryFile).then(runDurationMs, (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }),
    ),
  );
  // A counter's rate is over the longest runner; without any, over the planned load.
  const known = durations.flatMap((d) => (d === undefined ? [] : [d / 1000]));
  const seconds = known.length > 0 ? Math.max(...known) : plannedSeconds(scenario);
  for (const runner of outcome.runners) await rm(runner.rawFile, { force: true });
  const summary = mergedSummary(options, merged, load.customMetrics, seconds);
  const summaryText = mergedSummaryExport(summary, {
    mergedFrom: outcome.runners.map((r) => ({
      summaryFile: basename(r.summaryFile),
      startedAt: new Date(r.startedAt).toISOString(),
    })),
    startSkewMs: outcome.startSkewMs,
    samplePoints: merged.points,
  });
  // Where one process writes its own: the capacity comparison of a later run reads it from there.
  const first = outcome.runners[0]?.summaryFile;
  if (first !== undefined) await writeFile(join(dirname(first), `${scenario.id}.summary.json`), summaryText);
  return {
    summary,
    summaryText,
    samples: merged,
    thresholdsFailed: false,
    problems: shardProblems(outcome, scenario.phases !== undefined || scenario.stages !== undefined),
  };
}

/** Runs a scenario's k6; a run that threw or broke is recorded as its `run` check (broken) and gives undefined. */
async function runOrRecordBroken(
  context: SuiteContext,
  k6: string,
  outDir: string,
  scenario: LoadScenario,
  auth: Authenticator,
): Promise<ScenarioRun | undefined> {
  let run: ScenarioRun | undefined;
  let runError: unknown;
  try {
    run = await runScenarioK6(context, k6, outDir, scenario, auth);
  } catch (error) {
    runError = error;
  }
  if (run && run.outcome.kind !== 'broken') return run;
  await runCheck(
    context,
    {
      id: `load.${scenario.id}.run`,
      name: `${scenario.id}: k6 run`,
      feature: `load: ${scenario.id}`,
      severity: scenario.severity,
    },
    () => {
      if (runError !== undefined)
        throw runError instanceof Error ? runError : new Error('k6 run failed', { cause: runError });
      if (run?.outcome.kind !== 'broken') throw new Error('k6 gave no outcome');
      return Promise.resolve(brokenOutcome(run.outcome));
    },
  );
  return undefined;
}

/** The figures and evidence of a scenario that the first of its threshold checks carries, and the generator's problems. */
function scenarioFigures(
  load: LoadConfig,
  scenario: LoadScenario,
  options: K6Options,
  run: ScenarioRun,
  judged: JudgedRun,
): { evidence: Evidence[]; metrics: Metric[]; generator: string[] } {
  const { summary } = judged;
  const loads = executorLoads(options, judged.samples);
  const generator = [...generatorProblems(loads, load, scenario), ...judged.problems];
  const windows = phaseWindows(scenario);
  const phaseMetrics = windows.flatMap((w) => groupMetrics(summary, `{phase:${w.name}}`, w.durationSec, `${w.name}_`));
  const dropped = summary.metrics.dropped_iterations?.count ?? 0;
  const generatorTable = [
    'executor,seconds,planned_iterations,completed_iterations,dropped_iterations',
    ...loads.map((l) => `${l.executor},${l.seconds},${round(l.planned)},${l.completed},${l.dropped}`),
  ].join('\n');
  const runners = run.outcome.kind === 'sharded' ? run.outcome.runners.length : 1;
  const evidence: Evidence[] = [
    {
      name: runners > 1 ? `${scenario.id} k6 summary (merged from ${runners} runners)` : `${scenario.id} k6 summary`,
      contentType: 'application/json',
      content: judged.summaryText,
    },
    { name: `${scenario.id} load generator (planned vs done)`, contentType: 'text/csv', content: generatorTable },
    ...(run.faultEvidence.length > 0
      ? [{ name: `${scenario.id} fault timeline`, contentType: 'text/plain', content: run.faultEvidence.join('\n') }]
      : []),
  ];
  const metrics: Metric[] = [
    ...phaseMetrics,
    ...resourceMetrics(run.series),
    { name: 'dropped_iterations', value: dropped, unit: 'count' },
    { name: 'planned_iterations', value: round(loads.reduce((a, l) => a + l.planned, 0)), unit: 'count' },
    { name: 'completed_iterations', value: loads.reduce((a, l) => a + l.completed, 0), unit: 'count' },
    ...(runners > 1 ? [{ name: 'k6_runners', value: runners, unit: 'count' }] : []),
  ];
  return { evidence, metrics, generator };
}

/**
 * The check of one asked threshold of a scenario. A threshold on time (`judgesTiming`) is judged over the
 * host's load during the scenario's k6 run(s) (`runLoad`) as well as during the judgement: a latency
 * measured while the host was saturated is the host's (broken), even when the host is quiet again by the
 * time the summary is judged.
 */
export function thresholdCheckSpec(
  scenario: LoadScenario,
  check: Pick<ThresholdCheck, 'id' | 'expression' | 'selector' | 'metric' | 'phase' | 'judgesTiming'>,
  runLoad: HostLoad | undefined,
): CheckSpec {
  const { phase } = check;
  return {
    id: check.id,
    name: `${scenario.id}: ${check.expression} on ${check.selector}`,
    feature: `load: ${scenario.id}`,
    severity: scenario.severity,
    tags: ['k6', ...(phase ? [`phase:${phase}`] : [])],
    judgesTiming: check.judgesTiming,
    ...(check.judgesTiming && runLoad ? { figuresHostLoad: runLoad } : {}),
    remediation: phase
      ? `Keep ${check.metric} within ${check.expression} during the ${phase} phase of ${scenario.id} (e.g. bounded timeouts and fast failure under a slow dependency)`
      : `Keep ${check.metric} within ${check.expression} at ${scenario.ratePerSec ?? 'the ramped'} iterations/s (profile the slowest endpoint; look for N+1 queries)`,
  };
}

/** Every asked threshold of a scenario as a check; the first carries the scenario's figures and evidence. */
async function recordThresholdChecks(
  context: SuiteContext,
  load: LoadConfig,
  scenario: LoadScenario,
  judged: JudgedRun,
  figures: { evidence: Evidence[]; metrics: Metric[]; generator: string[] },
  runLoad: HostLoad | undefined,
): Promise<void> {
  const runOptions = scenarioRunOptions(load, scenario, context.failFast);
  let first = true;
  for (const check of thresholdChecks(load, scenario, judged.summary, judged.samples)) {
    const problems = generatorProblemsOf(check, runOptions, judged.thresholdsFailed, figures.generator);
    const extra = first ? figures.metrics : [];
    const evidenceHere = first ? figures.evidence : [];
    first = false;
    const { phase } = check;
    await runCheck(context, thresholdCheckSpec(scenario, check, runLoad), () =>
      Promise.resolve(
        unlessGenerator(
          {
            ...check.outcome,
            metrics: [...(check.outcome.metrics ?? []), ...extra],
            evidence: evidenceHere,
            parameters: {
              scenario: scenario.id,
              threshold: `${check.selector} ${check.expression}`,
              ...(phase ? { phase } : {}),
            },
          },
          problems,
          scenario.id,
        ),
      ),
    );
  }
}

/** The memory-slope check of a service under a scenario's load, judged on the second half of its samples. */
function memorySlopeOutcome(
  scenario: LoadScenario,
  service: string,
  maxSlope: number,
  samples: readonly ResourceSample[],
): CheckOutcome {
  // Judged on the second half: a healthy runtime grows its heap early under new load and then
  // levels off; a leak keeps growing to the end.
  const late = samples.slice(Math.floor(samples.length / 2));
  const slope = memorySlopeMbPerMin(late);
  const wholeSlope = memorySlopeMbPerMin(samples);
  const evidenceSamples: Evidence = {
    name: `${service} memory samples`,
    contentType: 'text/csv',
    content: [
      'ms,memory_mb,container_memory_mb,cpu_cores',
      ...samples.map(
        (s) => `${s.atMs},${round(s.memoryMb)},${round(s.containerMemoryMb ?? s.memoryMb)},${round(s.cpuCores)}`,
      ),
    ].join('\n'),
  };
  if (slope === undefined) {
    return {
      status: 'unknown',
      message: `only ${samples.length} Docker stats samples of ${service}: no slope over the second half`,
      evidence: [evidenceSamples],
    };
  }
  const metrics = [
    { name: 'memory_slope_mb_per_min', value: round(slope), unit: 'MB/min' },
    ...(wholeSlope === undefined
      ? []
      : [{ name: 'memory_slope_whole_mb_per_min', value: round(wholeSlope), unit: 'MB/min' }]),
    { name: 'memory_samples', value: samples.length, unit: 'count' },
  ];
  return {
    status: slope < maxSlope ? 'passed' : 'failed',
    message: `${service} memory grew ${round(slope)} MB/min over the second half of the run (${late.length} of ${samples.length} samples; whole run ${round(wholeSlope ?? slope)} MB/min; limit ${maxSlope} MB/min) in scenario ${scenario.id}`,
    metrics,
    evidence: [evidenceSamples],
  };
}

/** The memory-slope and retained-memory checks of a scenario. */
async function recordMemoryChecks(
  context: SuiteContext,
  load: LoadConfig,
  scenario: LoadScenario,
  run: ScenarioRun,
  generator: readonly string[],
): Promise<void> {
  const noContainers = noContainerAccessReason(context.handle, context.targetFile);
  if (noContainers !== undefined) {
    for (const spec of memorySpecs(scenario))
      await runCheck(context, spec, () =>
        Promise.resolve({
          status: 'not-applicable',
          message: notApplicableMessage(`${noContainers}: no Docker stats of the service's memory`),
        }),
      );
    return;
  }
  for (const [service, maxSlope] of Object.entries(scenario.maxMemorySlopeMbPerMin)) {
    const samples = run.series.find((s) => s.service === service)?.samples ?? [];
    const outcome = memorySlopeOutcome(scenario, service, maxSlope, samples);
    // Too few samples for a slope is `unknown` whatever the generator did.
    await runCheck(context, memorySlopeSpec(scenario, service, maxSlope), () =>
      Promise.resolve(outcome.status === 'unknown' ? outcome : unlessGenerator(outcome, generator, scenario.id)),
    );
  }
  for (const [service, maxMb] of Object.entries(scenario.maxRetainedMemoryMb)) {
    const samples = run.series.find((s) => s.service === service)?.samples ?? [];
    const settle = run.settle;
    await runCheck(context, memoryRetainedSpec(scenario, service, maxMb), () =>
      Promise.resolve(
        unlessGenerator(
          retainedCheck(scenario, service, memorySource(load, service), maxMb, samples, settle),
          generator,
          scenario.id,
        ),
      ),
    );
  }
}

/** Runs one scenario (as one k6 process or `runners` of them) and records its checks. */
async function recordScenario(
  context: SuiteContext,
  k6: string,
  outDir: string,
  scenario: LoadScenario,
  auth: Authenticator,
): Promise<HostLoad | undefined> {
  const load = context.config.load;
  if (!load) return undefined;
  const notApplicable = scenarioNotApplicable(context, scenario);
  if (notApplicable !== undefined) {
    await recordScenarioNotApplicable(context, load, scenario, notApplicable);
    return undefined;
  }
  const { result: run, hostLoad } = await underHostMonitor(context, () =>
    runOrRecordBroken(context, k6, outDir, scenario, auth),
  );
  if (!run || run.outcome.kind === 'broken') return hostLoad;
  const options = buildK6Options(load, scenario);
  const judged =
    run.outcome.kind === 'sharded'
      ? await judgeShardedRun(load, scenario, options, run.outcome)
      : await judgeSingleRun(options, run.outcome);
  const figures = scenarioFigures(load, scenario, options, run, judged);
  await recordThresholdChecks(context, load, scenario, judged, figures, hostLoad);
  await recordMemoryChecks(context, load, scenario, run, figures.generator);
  return hostLoad;
}

/** Runs `work` with the host's load sampled over it (every 5 s, bounded). */
async function underHostMonitor<T>(
  context: SuiteContext,
  work: () => Promise<T>,
): Promise<{ result: T; hostLoad: HostLoad | undefined }> {
  const monitor = new HostLoadMonitor(context.hostLoad ?? systemHostLoadSampler());
  monitor.start();
  let result: T;
  try {
    result = await work();
  } catch (error) {
    monitor.stop();
    throw error;
  }
  return { result, hostLoad: monitor.stop() };
}

/** What a service's memory samples measure, for messages. */
function memorySource(load: LoadConfig, service: string): string {
  const source = load.resources.memoryFromPrometheus[service];
  return source ? `memory (${source.metrics.join(' + ')})` : 'container memory (Docker stats)';
}

function retainedCheck(
  scenario: LoadScenario,
  service: string,
  source: string,
  maxMb: number,
  samples: readonly ResourceSample[],
  settle: ScenarioRun['settle'],
): CheckOutcome {
  const evidence: Evidence = {
    name: `${service} memory samples (load, then ${scenario.settleSec}s quiet)`,
    contentType: 'text/csv',
    content: [
      'ms,memory_mb,container_memory_mb,cpu_cores,window',
      ...samples.map(
        (s) =>
          `${s.atMs},${round(s.memoryMb)},${round(s.containerMemoryMb ?? s.memoryMb)},${round(s.cpuCores)},${settle && s.atMs >= settle.loadEndMs ? 'settle' : 'load'}`,
      ),
    ].join('\n'),
  };
  const retained = settle ? retainedMemoryMb(samples, settle.loadEndMs, settle.settleEndMs) : undefined;
  if (!retained) {
    return {
      status: 'unknown',
      message: `${samples.length} Docker stats samples of ${service}${settle ? '' : ' and no settle window'}: no baseline and settled floor to compare`,
      evidence: [evidence],
    };
  }
  const growth = memorySlopeMbPerMin(samples.filter((s) => !settle || s.atMs < settle.loadEndMs));
  return {
    status: retained.retainedMb < maxMb ? 'passed' : 'failed',
    message: `${service} kept ${round(retained.retainedMb)} MB of ${source} after the load (${round(retained.baselineMb)} MB as it began, peak ${round(retained.peakMb)} MB, ${round(retained.settledMb)} MB after ${scenario.settleSec}s quiet; limit ${maxMb} MB) in scenario ${scenario.id}`,
    metrics: [
      { name: 'memory_retained_mb', value: round(retained.retainedMb), unit: 'MB' },
      { name: 'memory_baseline_mb', value: round(retained.baselineMb), unit: 'MB' },
      { name: 'memory_peak_mb', value: round(retained.peakMb), unit: 'MB' },
      { name: 'memory_settled_mb', value: round(retained.settledMb), unit: 'MB' },
      ...(growth === undefined ? [] : [{ name: 'memory_slope_mb_per_min', value: round(growth), unit: 'MB/min' }]),
    ],
    evidence: [evidence],
  };
}

/** Runs the knee probe and turns its windows into figures (a k6 run that broke gives `status: 'broken'`). */
async function measureKnee(
  context: SuiteContext,
  k6: string,
  outDir: string,
  load: LoadConfig,
  knee: NonNullable<LoadConfig['knee']>,
  auth: Authenticator,
): Promise<KneeFigures> {
  const baseUrl = serviceUrl(context.handle, load.target.service, load.target.port);
  context.assertTarget(baseUrl);
  const credentials = await principalEnv(auth, load.principals, (...secrets) => context.redact.register(...secrets));
  const outcome = await runK6Shards(
    {
      k6,
      script: resolvePath(context, knee.script ?? load.script),
      options: buildKneeOptions(knee),
      outDir,
      label: 'knee',
      env: { ...load.env, ...credentials.env, BASE_URL: baseUrl, READINESS_SEED: String(context.seed) },
      timeoutMs: knee.durationSec * 1000 + K6_OVERHEAD_MS * load.runners,
      signal: context.signal,
      clock: context.clock,
      rawOutput: true,
    },
    load.runners,
  );
  if (outcome.kind === 'broken') return kneeBroken(`k6 run broken: ${outcome.message}`, knee, load.slo);
  // A ramp is time-shaped: runners that started apart did not ramp together, and no window holds the sum.
  const problems = outcome.kind === 'sharded' ? shardProblems(outcome, true) : [];
  const rawFiles = outcome.kind === 'sharded' ? outcome.runners.map((r) => r.rawFile) : [outcome.rawFile];
  const samples = problems.length > 0 ? [] : await readShardSamples(rawFiles, 'knee');
  // Every sample of every metric (MBs): the windows (CSV and knee.json) are the evidence that is kept.
  for (const file of rawFiles) await rm(file, { force: true });
  if (problems.length > 0) return kneeBroken(`k6 runners unfit to judge: ${problems.join('; ')}`, knee, load.slo);
  return kneeFigures(kneeFromSamples(samples, knee.windowSec, load.slo), knee, load.slo);
}

/** The knee's figures as metrics: knee, first breach and highest reached rate. */
function kneeMetrics(figures: KneeFigures): Metric[] {
  return [
    ...(figures.kneeRatePerSec === undefined
      ? []
      : [{ name: 'knee_rps', value: figures.kneeRatePerSec, unit: 'req/s' }]),
    ...(figures.firstBreachRatePerSec === undefined
      ? []
      : [{ name: 'first_breach_rps', value: figures.firstBreachRatePerSec, unit: 'req/s' }]),
    ...(figures.maxReachedRatePerSec === undefined
      ? []
      : [{ name: 'max_reached_rps', value: figures.maxReachedRatePerSec, unit: 'req/s' }]),
  ];
}

/** What a knee probe with a floor is as a check: below the floor fails, no requests is `unknown`. */
export function kneeFloorOutcome(figures: KneeFigures, evidence: readonly Evidence[]): CheckOutcome {
  const metrics = kneeMetrics(figures);
  if (figures.status === 'broken') return { status: 'broken', message: figures.message, metrics, evidence };
  if (figures.status === 'no-requests') return { status: 'unknown', message: figures.message, metrics, evidence };
  const floor = figures.floorRatePerSec;
  if (floor === undefined) throw new Error('a knee without floorRatePerSec is a figure, not a check');
  const ok = figures.kneeRatePerSec !== undefined && figures.kneeRatePerSec >= floor;
  return { status: ok ? 'passed' : 'failed', message: `${figures.message}; floor ${floor} req/s`, metrics, evidence };
}

/** The knee as a check: only with `floorRatePerSec` (without, it is a reported figure that no pass rate counts). */
export function kneeCheckSpec(knee: NonNullable<LoadConfig['knee']>): CheckSpec | undefined {
  if (knee.floorRatePerSec === undefined) return undefined;
  return {
    id: 'load.knee',
    name: `capacity knee: the SLO holds up to at least ${knee.floorRatePerSec} req/s (${knee.fromRatePerSec}->${knee.toRatePerSec}/s)`,
    feature: 'load: knee',
    severity: 'critical',
    tags: ['k6', 'floor'],
    remediation: `Raise the capacity above ${knee.floorRatePerSec} requests/s at the SLO (profile the hot path, pool sizes)`,
  };
}

/**
 * The capacity knee: always written to `<run>/load/knee.json` (and its windows as CSV). With
 * `floorRatePerSec` it is a check; without, a reported figure that no pass rate counts.
 */
async function recordKnee(context: SuiteContext, k6: string, outDir: string, auth: Authenticator): Promise<void> {
  const load = context.config.load;
  const knee = load?.knee;
  if (!load || !knee) return;
  const file = join(outDir, 'knee.json');
  const measure = async (): Promise<{ figures: KneeFigures; evidence: Evidence[] }> => {
    const figures = await measureKnee(context, k6, outDir, load, knee, auth);
    const table = kneeWindowsCsv(figures);
    await writeFile(`${join(outDir, 'knee')}.windows.csv`, `${table}\n`);
    await writeKneeFigures(file, figures);
    return { figures, evidence: [{ name: 'knee windows', contentType: 'text/csv', content: table }] };
  };
  const spec = kneeCheckSpec(knee);
  if (!spec) {
    try {
      const { figures } = await measure();
      context.reporter.onInfo?.(
        `load: capacity knee (a figure, not a check): ${figures.message}${figures.maxReachedRatePerSec === undefined ? '' : `; reached ${figures.maxReachedRatePerSec} req/s`}; ${file}`,
      );
    } catch (error) {
      if (context.signal.aborted) throw error;
      const message = `knee probe failed: ${error instanceof Error ? error.message : String(error)}`;
      await writeKneeFigures(file, kneeBroken(message, knee, load.slo));
      context.reporter.onInfo?.(`load: ${message} (a figure, not a check); ${file}`);
    }
    return;
  }
  await runCheck(context, spec, async (): Promise<CheckOutcome> => {
    const { figures, evidence } = await measure();
    return kneeFloorOutcome(figures, evidence);
  });
}

/**
 * The load stage: each scenario's k6 thresholds as checks (per phase), memory slopes, the capacity knee, then
 * the capacity figures against the last CERTIFIED run of the config (`load.capacity.regression`).
 */
export async function runLoadStage(context: SuiteContext): Promise<void> {
  const load = context.config.load;
  if (!load) {
    await runCheck(
      context,
      { id: 'load.config', name: 'load stage configured', feature: 'load', severity: 'critical' },
      () =>
        Promise.resolve({
          status: 'broken',
          message: `"load" is enabled but ${context.config.configFile} has no load section`,
        }),
    );
    return;
  }
  const outDir = join(context.runDir, 'load');
  await mkdir(outDir, { recursive: true });
  let k6: string;
  try {
    k6 = await ensureK6(load, context);
  } catch (error) {
    await runCheck(context, { id: 'load.k6', name: 'k6 is available', feature: 'load', severity: 'critical' }, () => {
      throw error;
    });
    return;
  }
  // One authenticator for the stage: `load.principals` are obtained once and renewed near their lifetime.
  const auth = stageAuthenticator(context, load.target);
  // The host's load over every run whose figures the capacity comparison reads.
  let measured: HostLoad | undefined;
  // ... and over each run on its own, so each figure is judged by the load of the run that measured it.
  const byRun = new Map<string, HostLoad | undefined>();
  for (const scenario of load.scenarios) {
    context.signal.throwIfAborted();
    const hostLoad = await recordScenario(context, k6, outDir, scenario, auth);
    byRun.set(scenario.id, hostLoad);
    measured = worseHostLoad(measured, hostLoad);
  }
  const knee = await underHostMonitor(context, () => recordKnee(context, k6, outDir, auth));
  byRun.set('knee', knee.hostLoad);
  measured = worseHostLoad(measured, knee.hostLoad);
  context.signal.throwIfAborted();
  const windows = { byRun, thresholds: context.config.hostSaturation };
  await runCheck(context, capacityRegressionSpec(load.regression, measured), () =>
    capacityRegressionOutcome(load, context.config.name, context.runDir, windows),
  );
}

/** The check of a service's memory growth under a scenario's load (recorded and planned alike). */
function memorySlopeSpec(scenario: LoadScenario, service: string, maxSlope: number): CheckSpec {
  return {
    id: `load.${scenario.id}.memory-slope.${slug(service)}`,
    name: `${scenario.id}: ${service} memory does not keep growing (< ${maxSlope} MB/min)`,
    feature: `load: ${scenario.id}`,
    severity: scenario.severity,
    tags: ['docker-stats'],
    remediation: `Find what ${service} retains per request (heap snapshot under load); memory must level off under steady load`,
  };
}

/** The check of the memory a service keeps after a scenario's load (recorded and planned alike). */
function memoryRetainedSpec(scenario: LoadScenario, service: string, maxMb: number): CheckSpec {
  return {
    id: `load.${scenario.id}.memory-retained.${slug(service)}`,
    name: `${scenario.id}: ${service} gives memory back after the load (keeps < ${maxMb} MB)`,
    feature: `load: ${scenario.id}`,
    severity: scenario.severity,
    tags: ['docker-stats'],
    remediation: `Find what ${service} retains per request (compare heap snapshots before and after load); memory must return near its level before the load`,
  };
}

/** A scenario's checks, known from the config before k6 runs: every asked threshold and each configured memory check. */
function planScenario(load: LoadConfig, scenario: LoadScenario): PlannedCheck[] {
  const feature = `load: ${scenario.id}`;
  const severity = scenario.severity;
  return [
    ...askedThresholds(load, scenario).map(([selector, expression]): PlannedCheck => {
      const { metric, tags } = parseSelector(selector);
      return {
        id: thresholdCheckId(scenario.id, { metric, tags, expression, aggregation: aggregationOf(expression) }),
        name: `${scenario.id}: ${expression} on ${selector}`,
        feature,
        severity,
      };
    }),
    ...memorySpecs(scenario),
  ];
}

/** The memory checks a scenario configures: slope and retained memory, per service. */
function memorySpecs(scenario: LoadScenario): CheckSpec[] {
  return [
    ...Object.entries(scenario.maxMemorySlopeMbPerMin).map(([service, maxSlope]) =>
      memorySlopeSpec(scenario, service, maxSlope),
    ),
    ...Object.entries(scenario.maxRetainedMemoryMb).map(([service, maxMb]) =>
      memoryRetainedSpec(scenario, service, maxMb),
    ),
  ];
}

/**
 * Why a scenario cannot run on this stack: its fault phases put latency on a link and the stack routes its
 * links through no Toxiproxy. The whole scenario, not only its fault-phase thresholds: its phases are built
 * around the fault, and a recovery phase (or a threshold over every phase) judged after no fault would pass
 * on evidence of nothing.
 */
function scenarioNotApplicable(
  context: Pick<SuiteContext, 'handle' | 'targetFile'>,
  scenario: LoadScenario,
): string | undefined {
  if (!scenario.fault) return undefined;
  const reason = noToxiproxyReason(context.handle, context.targetFile);
  return reason === undefined
    ? undefined
    : `${reason} (scenario ${scenario.id} puts latency on link "${scenario.fault.link}" in its fault phases)`;
}

/** Every check of a scenario that cannot run on this stack, `not-applicable` with the reason; k6 does not run. */
async function recordScenarioNotApplicable(
  context: SuiteContext,
  load: LoadConfig,
  scenario: LoadScenario,
  reason: string,
): Promise<void> {
  context.reporter.onInfo?.(`load: ${scenario.id}: not applicable: ${reason}`);
  for (const check of planScenario(load, scenario))
    await runCheck(context, { ...check, judgesTiming: false }, () =>
      Promise.resolve({ status: 'not-applicable', message: notApplicableMessage(reason) }),
    );
}

/**
 * The load stage's plan, from the config before k6 runs: every asked threshold of every scenario,
 * each configured memory check, and the knee when it has a floor (without one it is a figure).
 */
export function planLoadStage(context: PlanContext): PlannedCheck[] {
  const load = context.config.load;
  if (!load) return [];
  const planned = load.scenarios.flatMap((scenario) => planScenario(load, scenario));
  const knee = load.knee === undefined ? undefined : kneeCheckSpec(load.knee);
  if (knee) planned.push(knee);
  planned.push(capacityRegressionSpec(load.regression));
  return planned;
}
