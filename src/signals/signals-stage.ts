import { join } from 'node:path';
import type { ResolvedConfig } from '../config/load-config.ts';
import type { CheckResult } from '../core/check-result.ts';
import { readCheckResults } from '../core/results.ts';
import type { Stage } from '../core/stage.ts';
import type { PlanContext, PlannedCheck, SuiteContext } from '../runner/suite.ts';
import { notApplicableMessage, notConfiguredCheck } from '../runner/not-applicable.ts';
import type { NotConfiguredFamily } from '../runner/not-applicable.ts';
import { runCheck } from '../runner/suite.ts';
import { dockerScope, faultJournal, faultWindows, toxiproxyScope } from '../stack/fault-journal.ts';
import type { FaultChange, FaultWindow } from '../stack/fault-journal.ts';
import { noContainerAccessReason } from '../stack/stack-handle.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { signalRules } from './classify.ts';
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

/** The checks the signals suite of a stage records: one per judged service, none when the stage is not judged. */
export function planSignals(context: PlanContext): PlannedCheck[] {
  if (!judged(context.config, context.stage)) return [];
  const services = signalServices(context.config);
  if (services.length === 0) {
    const family = notConfiguredFamily(context.stage);
    return [{ id: family.id, name: family.name, feature: FEATURE, severity: 'normal' }];
  }
  return services.map((service) => planned(context.stage, service));
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

/**
 * Judges each service's log over this stage, the fault windows left out: ERROR/FATAL lines (JSON
 * levels or plain-text patterns) and 5xx answers of request logs, each class against its budget.
 * Runs after the stage's other suites (its suite file sorts last), so the window is the stage so far;
 * each service's log is read from where the previous stage's check stopped (lines are filtered by time).
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
  const { checks } = await readCheckResults(join(context.runDir, RESULTS_FOLDER));
  const fromMs = stageStartMs(checks, stage);
  const toMs = context.clock.now();
  const faults = stackFaultWindows(faultJournal.changes(), handle, signals.settleMs, fromMs ?? toMs);
  const rules = signalRules(signals);
  const windowsEvidence = {
    name: 'fault windows left out',
    contentType: 'text/plain',
    content:
      faults.length === 0 ? 'none: no fault was injected in this run so far' : faults.map(describeWindow).join('\n'),
  };
  for (const service of services) {
    const spec = { ...planned(stage, service), retries: 0, remediation: REMEDIATION };
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
      const path = join(handle.logsDir, `${service}.log`);
      const text = await logCursors(handle).for(path).readNew();
      if (text === null)
        return {
          status: 'unknown',
          message: `No log of ${service} was captured (${path} is missing), so its error signals in ${stage} are not known`,
        };
      const verdict = judgeServiceLog(text, {
        service,
        stage,
        fromMs,
        toMs,
        faults,
        rules,
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
        evidence: [
          ...(verdict.offending.length > 0
            ? [{ name: `${service} error signals`, contentType: 'text/plain', content: verdict.offending.join('\n') }]
            : []),
          windowsEvidence,
        ],
        parameters: {
          window: `${new Date(fromMs).toISOString()} .. ${new Date(toMs).toISOString()}`,
          budgets: `fatal ${String(signals.budgets.fatal)}, error ${String(signals.budgets.error)}, 5xx ${String(signals.budgets.serverError)}`,
        },
      };
    });
  }
}
