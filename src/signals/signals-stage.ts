import { join } from 'node:path';
import type { ResolvedConfig } from '../config/load-config.ts';
import type { CheckResult } from '../core/check-result.ts';
import { readCheckResults } from '../core/results.ts';
import type { Stage } from '../core/stage.ts';
import type { Evidence, Metric } from '../core/check-result.ts';
import { assertAllowedTarget } from '../runner/blast-radius.ts';
import type { CheckOutcome, PlanContext, PlannedCheck, SuiteContext } from '../runner/suite.ts';
import { notApplicableMessage, notConfiguredCheck } from '../runner/not-applicable.ts';
import type { NotConfiguredFamily } from '../runner/not-applicable.ts';
import { runCheck } from '../runner/suite.ts';
import { dockerScope, faultJournal, faultWindows, toxiproxyScope } from '../stack/fault-journal.ts';
import type { FaultChange, FaultWindow } from '../stack/fault-journal.ts';
import { noContainerAccessReason, serviceUrl } from '../stack/stack-handle.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { signalRules } from './classify.ts';
import { CounterSampler } from './counter-sampler.ts';
import { judgeCounters } from './counters.ts';
import type { CounterRecord } from './counters.ts';
import { judgeServiceLog } from './judge.ts';
import { LogCursors } from './log-cursor.ts';

/** Where a run's check results are, next to its stack handle. */
const RESULTS_FOLDER = 'allure-results';

const FEATURE = 'signals';

const REMEDIATION =
  'Find why the service logs errors while nothing is injected (a dependency in an error state, a failing write it works around, a bug) and fix it; a workaround that logs an error on every request hides a broken dependency. If the lines are expected, raise signals.budgets or narrow signals.patterns in the config.';

/** The check id of one service's signals in one stage. */
const signalsCheckId = (stage: Stage, service: string): string => `${stage}.signals.${service}`;

/** Services whose logs are judged: `signals.services`, else every service the config builds (its own code). */
export function signalServices(config: Pick<ResolvedConfig, 'signals' | 'services'>): string[] {
  return (
    config.signals.services ??
    Object.entries(config.services)
      .filter(([, service]) => service.build !== undefined)
      .map(([id]) => id)
  );
}

/** Whether this stage's signals are judged at all. */
const judged = (config: Pick<ResolvedConfig, 'signals'>, stage: Stage): boolean =>
  config.signals.enabled && (config.signals.stages as readonly Stage[]).includes(stage);

/** The one check of a stage whose config names no service to judge (it builds none and `signals.services` is unset). */
const notConfiguredFamily = (stage: Stage): NotConfiguredFamily => ({
  id: `${stage}.signals.not-configured`,
  name: `Error signals in ${stage}`,
  feature: FEATURE,
  key: 'signals.services',
});

const planned = (stage: Stage, service: string): PlannedCheck => ({
  id: signalsCheckId(stage, service),
  name: `${service} logs no error signals in ${stage} outside fault windows`,
  feature: FEATURE,
  severity: 'critical',
});

/**
 * The checks the signals suite of a stage records: one per judged service, none when the stage is not
 * judged. Every suite's plan is taken before the stage's first suite runs, so this is also where the
 * stage begins for the dependency error counters: their first scrape is taken here (see `startCounters`).
 */
export async function planSignals(context: PlanContext): Promise<PlannedCheck[]> {
  if (!judged(context.config, context.stage)) return [];
  const services = signalServices(context.config);
  if (services.length === 0) {
    const family = notConfiguredFamily(context.stage);
    return [{ id: family.id, name: family.name, feature: FEATURE, severity: 'normal' }];
  }
  await startCounters(context, services);
  return services.map((service) => planned(context.stage, service));
}

/** The counter samplers of the stage in progress (by service), by the run's stack handle. */
const countersByHandle = new WeakMap<StackHandle, { stage: Stage; samplers: Map<string, CounterSampler> }>();

/**
 * Starts scraping the dependency error counters of each judged service that has `signals.metrics`, from
 * the harness through the service's host-mapped port, and waits for the first scrape. A sampling left by a
 * stage that never reached its signals check (interrupted, stopped by --fail-fast) is ended first.
 */
async function startCounters(context: PlanContext, services: readonly string[]): Promise<void> {
  const { config, handle, stage } = context;
  for (const sampler of countersByHandle.get(handle)?.samplers.values() ?? []) sampler.dispose();
  countersByHandle.delete(handle);
  const configured = services.flatMap((service) => {
    const source = config.signals.metrics[service];
    return source ? [{ service, source }] : [];
  });
  if (configured.length === 0) return;
  const samplers = new Map<string, CounterSampler>();
  countersByHandle.set(handle, { stage, samplers });
  await Promise.all(
    configured.map(async ({ service, source }) => {
      const sampler = new CounterSampler({
        // Resolved for each scrape from the handle, which a container restart updates with its new host port.
        url: () =>
          assertAllowedTarget(`${serviceUrl(handle, service, source.port)}${source.path}`, handle, config.allowTargets)
            .href,
        selectors: source.counters,
        intervalMs: config.signals.scrapeIntervalMs,
        maxDurationMs: config.deadlines.stageMs,
      });
      samplers.set(service, sampler);
      await sampler.start();
    }),
  );
}

/** Ends this stage's counter sampling with a last scrape each: what each service's counters showed, by service. */
async function stopCounters(
  handle: StackHandle,
  stage: Stage,
): Promise<Map<string, { url: string; record: CounterRecord } | { problem: string }>> {
  const entry = countersByHandle.get(handle);
  countersByHandle.delete(handle);
  const stopped = new Map<string, { url: string; record: CounterRecord } | { problem: string }>();
  if (!entry) return stopped;
  await Promise.all(
    [...entry.samplers].map(async ([service, sampler]) => {
      if (entry.stage !== stage) {
        sampler.dispose();
        stopped.set(service, { problem: `its scrapes were taken for ${entry.stage}, not ${stage}` });
      } else stopped.set(service, { url: sampler.url, record: (await sampler.stop()).snapshot() });
    }),
  );
  return stopped;
}

/** When this stage began: the earliest start among its checks recorded so far (the signals checks aside). */
export function stageStartMs(checks: readonly CheckResult[], stage: Stage): number | null {
  const starts = checks.filter((c) => c.stage === stage && c.feature !== FEATURE).map((c) => c.startedAt);
  return starts.length === 0 ? null : Math.min(...starts);
}

/**
 * The fault windows of this run's stack that bear on a stage starting at `fromMs`: its Toxiproxy's
 * changes and its containers'. A fault taken off before the stage began is not one of them, settle
 * time or not: the stage that injected it waited for its recovery, and each stage starts quiet (a
 * service still erring then has not recovered, which is a signal).
 */
export function stackFaultWindows(
  changes: readonly FaultChange[],
  handle: Pick<StackHandle, 'runId' | 'toxiproxy'>,
  settleMs: number,
  fromMs: number,
): FaultWindow[] {
  const scopes = [dockerScope(handle.runId), ...(handle.toxiproxy ? [toxiproxyScope(handle.toxiproxy.apiUrl)] : [])];
  return faultWindows(changes, scopes, settleMs).filter((w) => w.faultEndMs === null || w.faultEndMs >= fromMs);
}

const describeWindow = (w: FaultWindow): string =>
  `${new Date(w.startMs).toISOString()} .. ${w.endMs === null ? 'still faulted' : new Date(w.endMs).toISOString()} ${w.target}: ${w.detail}`;

/** Each run's log cursors, by its stack handle: a stage's signals check reads only what its stage added. */
const cursorsByHandle = new WeakMap<StackHandle, LogCursors>();

function logCursors(handle: StackHandle): LogCursors {
  let cursors = cursorsByHandle.get(handle);
  if (!cursors) {
    cursors = new LogCursors();
    cursorsByHandle.set(handle, cursors);
  }
  return cursors;
}

/** One part of a service's signals check (its log, its counters), judged on its own. */
interface SignalsPart {
  readonly status: Extract<CheckOutcome['status'], 'passed' | 'failed' | 'unknown'>;
  readonly message: string;
  readonly metrics: readonly Metric[];
  readonly evidence: readonly Evidence[];
}

/**
 * One check from its parts: failed when a part failed (an increase or a line seen is evidence whatever the
 * other part could read), else unknown when a part could not be read (a pass needs every part read), else
 * passed. The message leads with the parts that decided it.
 */
export function combineParts(parts: readonly SignalsPart[]): Pick<CheckOutcome, 'status' | 'message'> {
  const status = parts.some((p) => p.status === 'failed')
    ? 'failed'
    : parts.some((p) => p.status === 'unknown')
      ? 'unknown'
      : 'passed';
  const ordered = [...parts.filter((p) => p.status === status), ...parts.filter((p) => p.status !== status)];
  return { status, message: ordered.map((p) => p.message).join('. ') };
}

/** The log part of a service's check: its lines over the stage, the fault windows left out. */
async function logPart(
  context: SuiteContext,
  service: string,
  span: { readonly fromMs: number; readonly toMs: number },
  faults: readonly FaultWindow[],
): Promise<SignalsPart> {
  const { config, stage, handle } = context;
  const signals = config.signals;
  const path = join(handle.logsDir, `${service}.log`);
  const text = await logCursors(handle).for(path).readNew();
  if (text === null)
    return {
      status: 'unknown',
      message: `No log of ${service} was captured (${path} is missing), so its error signals in ${stage} are not known`,
      metrics: [],
      evidence: [],
    };
  const verdict = judgeServiceLog(text, {
    service,
    stage,
    fromMs: span.fromMs,
    toMs: span.toMs,
    faults,
    rules: signalRules(signals),
    budgets: signals.budgets,
    evidenceLines: signals.evidenceLines,
  });
  return {
    status: verdict.status,
    message: verdict.message,
    metrics: [
      { name: 'fatal_lines', value: verdict.counts.fatal, unit: 'count' },
      { name: 'error_lines', value: verdict.counts.error, unit: 'count' },
      { name: 'server_error_lines', value: verdict.counts.serverError, unit: 'count' },
      { name: 'judged_lines', value: verdict.judgedLines, unit: 'count' },
    ],
    evidence:
      verdict.offending.length > 0
        ? [{ name: `${service} error signals`, contentType: 'text/plain', content: verdict.offending.join('\n') }]
        : [],
  };
}

/** The counters part of a service's check, from what its sampler scraped over the stage. */
function countersPart(
  context: SuiteContext,
  service: string,
  scraped: { url: string; record: CounterRecord } | { problem: string } | undefined,
  faults: readonly FaultWindow[],
): SignalsPart {
  const { config, stage } = context;
  if (!scraped || 'problem' in scraped)
    return {
      status: 'unknown',
      message: `${service}'s dependency error counters in ${stage} are not known: no scrape was taken at the start of the stage${scraped ? ` (${scraped.problem})` : ''}`,
      metrics: [],
      evidence: [],
    };
  const verdict = judgeCounters(scraped.record, {
    service,
    stage,
    url: scraped.url,
    faults,
    budget: config.signals.budgets.dependencyErrors,
    evidenceLines: config.signals.evidenceLines,
  });
  return {
    status: verdict.status,
    message: verdict.message,
    metrics: [
      { name: 'dependency_errors', value: verdict.total, unit: 'count' },
      ...verdict.increases.map((c) => ({ name: `counter_increase ${c.selector}`, value: c.increase, unit: 'count' })),
      { name: 'counter_scrapes', value: scraped.record.scrapes, unit: 'count' },
      { name: 'counter_intervals_judged', value: verdict.judgedIntervals, unit: 'count' },
      { name: 'counter_intervals_left_out', value: verdict.excludedIntervals, unit: 'count' },
    ],
    evidence:
      verdict.evidence.length > 0
        ? [
            {
              name: `${service} dependency error counters`,
              contentType: 'text/plain',
              content: verdict.evidence.join('\n'),
            },
          ]
        : [],
  };
}

/**
 * Judges each service over this stage, the fault windows left out: its log (ERROR/FATAL lines by JSON
 * level or plain-text pattern, 5xx answers of request logs) and, with `signals.metrics`, its dependency
 * error counters, each against its budget, in one check. Runs after the stage's other suites (its suite
 * file sorts last), so the window is the stage so far; each service's log is read from where the previous
 * stage's check stopped (lines are filtered by time), its counters from the scrape its plan took.
 */
export async function runSignalChecks(context: SuiteContext): Promise<void> {
  const { config, stage, handle } = context;
  if (!judged(config, stage)) return;
  const signals = config.signals;
  const services = signalServices(config);
  if (services.length === 0) {
    // Nothing built and nothing named: listed as not covered, never silently absent.
    await context.record(notConfiguredCheck(notConfiguredFamily(stage), context.clock.now()));
    return;
  }
  const counters = await stopCounters(handle, stage);
  const { checks } = await readCheckResults(join(context.runDir, RESULTS_FOLDER));
  const fromMs = stageStartMs(checks, stage);
  const toMs = context.clock.now();
  const faults = stackFaultWindows(faultJournal.changes(), handle, signals.settleMs, fromMs ?? toMs);
  const windowsEvidence = {
    name: 'fault windows left out',
    contentType: 'text/plain',
    content:
      faults.length === 0 ? 'none: no fault was injected in this run so far' : faults.map(describeWindow).join('\n'),
  };
  const budgets = signals.budgets;
  for (const service of services) {
    const spec = { ...planned(stage, service), retries: 0, remediation: REMEDIATION };
    const metricsSource = signals.metrics[service];
    await runCheck(context, spec, async () => {
      const noContainers = noContainerAccessReason(handle, context.targetFile);
      if (noContainers !== undefined)
        return {
          status: 'not-applicable',
          message: notApplicableMessage(`${noContainers}: the logs of ${service} are not followed`),
        };
      if (fromMs === null)
        return {
          status: 'unknown',
          message: `No check of ${stage} was recorded before the signals check, so the stage has no span to judge ${service}'s log over`,
        };
      const parts = [
        await logPart(context, service, { fromMs, toMs }, faults),
        ...(metricsSource ? [countersPart(context, service, counters.get(service), faults)] : []),
      ];
      return {
        ...combineParts(parts),
        metrics: parts.flatMap((p) => p.metrics),
        evidence: [...parts.flatMap((p) => p.evidence), windowsEvidence],
        parameters: {
          window: `${new Date(fromMs).toISOString()} .. ${new Date(toMs).toISOString()}`,
          budgets: `fatal ${String(budgets.fatal)}, error ${String(budgets.error)}, 5xx ${String(budgets.serverError)}${metricsSource ? `, dependency errors ${String(budgets.dependencyErrors)}` : ''}`,
          ...(metricsSource ? { counters: metricsSource.counters.map((c) => c.text).join(', ') } : {}),
        },
      };
    });
  }
}
