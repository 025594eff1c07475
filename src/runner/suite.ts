import type { ResolvedConfig } from '../config/load-config.ts';
import { NOT_APPLICABLE_TAG, notApplicableReason } from '../core/check-result.ts';
import type { CheckResult, CheckResultInput, CheckStatus, Evidence, Metric, Severity } from '../core/check-result.ts';
import type { Clock } from '../core/clock.ts';
import { SystemFailureError } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';
import type { Reporter } from '../core/reporter.ts';
import type { Stage } from '../core/stage.ts';
import type { Teardowns } from '../core/teardown.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import {
  HostLoadMonitor,
  hostLoadEvidence,
  hostLoadMetrics,
  saturationReason,
  systemHostLoadSampler,
  worseHostLoad,
} from './host-load.ts';
import type { HostLoad, HostLoadSampler } from './host-load.ts';
import { notApplicableMessage } from './not-applicable.ts';

/** What a suite gets: the config, the running stack's handle, and a way to record checks. */
export interface SuiteContext {
  readonly config: ResolvedConfig;
  readonly handle: StackHandle;
  readonly stage: Stage;
  readonly runDir: string;
  readonly seed: number;
  readonly clock: Clock;
  /** Aborted on SIGINT, the run deadline or the stage deadline. */
  readonly signal: AbortSignal;
  readonly reporter: Reporter;
  /** Rollbacks a suite registers before injecting anything; they run even when the suite throws. */
  readonly teardowns: Teardowns;
  /** The run's redactor: a credential minted during the run (a login's token) is registered with it. */
  readonly redact: Redactor;
  record(check: Omit<CheckResultInput, 'stage'>): Promise<CheckResult>;
  /** Set under `--fail-fast`: the first failed critical check stops the stage (k6 aborts on critical thresholds). */
  readonly failFast?: FailFast;
  /** Throws `TargetNotAllowedError` unless the URL is loopback, the run's own containers or in `allowTargets`. */
  assertTarget(target: string | URL): URL;
  /** Reads the host's load while a timing check runs (default: the system's; tests inject one). */
  readonly hostLoad?: HostLoadSampler;
  /** The handle file of a stack something else started (`certify --target`, a drill), named in reasons about what it lacks. */
  readonly targetFile?: string;
}

/** What `--fail-fast` needs from the policy: which checks are critical. */
export interface FailFast {
  isCritical(check: Pick<CheckResult, 'id' | 'severity'>): boolean;
}

/** A check a suite is due to record, declared before it runs, with the name, feature and severity it will have. */
export interface PlannedCheck {
  readonly id: string;
  readonly name: string;
  readonly feature: string;
  readonly severity: Severity;
  readonly tags?: readonly string[];
  /** The check judges latency or a deadline: a failure on a saturated host is `broken` (see `CheckSpec`). */
  readonly judgesTiming?: boolean;
}

/** What a suite's plan is made from: the config and the running stack, before any check runs. */
export type PlanContext = Pick<SuiteContext, 'config' | 'handle' | 'stage' | 'runDir' | 'seed'>;

/** A stage suite: a file in `suites/<stage>/` whose default export is `defineSuite({...})`. */
export interface Suite {
  readonly stage: Stage;
  readonly name: string;
  /**
   * The checks the suite is due to record, known from the config before it runs. Each one still
   * without a result when the suite ends is recorded `unknown` with the reason, never left out.
   */
  plan?(context: PlanContext): readonly PlannedCheck[] | Promise<readonly PlannedCheck[]>;
  run(context: SuiteContext): Promise<void>;
}

export function defineSuite(suite: Suite): Suite {
  return suite;
}

export interface CheckOutcome {
  readonly status: CheckStatus;
  readonly message?: string;
  readonly remediation?: string;
  readonly metrics?: readonly Metric[];
  readonly evidence?: readonly Evidence[];
  readonly parameters?: Readonly<Record<string, string>>;
  /** false: this failure does not rest on a time bound (a wrong status), so a saturated host does not excuse it. */
  readonly judgesTiming?: boolean;
}

export interface CheckSpec {
  readonly id: string;
  readonly name: string;
  readonly feature: string;
  readonly severity: Severity;
  readonly tags?: readonly string[];
  /** Recorded when the check fails, unless the outcome gives its own. */
  readonly remediation?: string;
  /** Extra attempts after a `failed` outcome (default: the config's `retries`); a pass on a retry is recorded flaky. */
  readonly retries?: number;
  /**
   * The check judges latency or a deadline. The host's load is measured while it runs and recorded; a final
   * `failed` outcome while the host was saturated (config `hostSaturation`) is recorded `broken` with that reason.
   */
  readonly judgesTiming?: boolean;
  /**
   * The host's load while the figures this check judges were measured, when that was before the check (a
   * k6 run it compares): with `judgesTiming`, a failure is the host's when either window was saturated.
   */
  readonly figuresHostLoad?: HostLoad;
}

/** A timing check's final outcome in the light of the host's load: a failure on a saturated host is not the system's. */
function judgeUnderHostLoad(
  outcome: CheckOutcome,
  load: HostLoad | undefined,
  thresholds: SuiteContext['config']['hostSaturation'],
): CheckOutcome {
  if (!load) return outcome;
  const metrics = [...(outcome.metrics ?? []), ...hostLoadMetrics(load)];
  const evidence = [...(outcome.evidence ?? []), hostLoadEvidence(load, thresholds)];
  const saturated = saturationReason(load, thresholds);
  if (outcome.status !== 'failed' || saturated === undefined || outcome.judgesTiming === false)
    return { ...outcome, metrics, evidence };
  return {
    ...outcome,
    status: 'broken',
    message: `host saturated during the judgement: ${saturated}: a latency judged on a saturated host says as much about the host; rerun on a quieter host (the failure seen: ${outcome.message ?? 'failed'})`,
    remediation:
      'Rerun on a host with spare CPU (stop other test runs, or give the run more cores); raise hostSaturation only if the thresholds are wrong for this host',
    metrics,
    evidence,
  };
}

/**
 * Runs one check and records it. The body returns the system's verdict as data; an exception
 * is a harness or environment failure and is recorded `broken`, never `passed`. A check the config's
 * `notApplicable` lists is recorded `not-applicable` with its reason, and its body never runs.
 */
export async function runCheck(
  context: SuiteContext,
  spec: CheckSpec,
  body: () => Promise<CheckOutcome>,
): Promise<CheckResult> {
  const startedAt = context.clock.now();
  const reason = notApplicableReason(spec.id, context.config.notApplicable);
  // Not applicable: the body must not run (a lockout or an erasure would act on the system for nothing).
  if (reason !== undefined) {
    return context.record({
      id: spec.id,
      name: spec.name,
      feature: spec.feature,
      severity: spec.severity,
      status: 'not-applicable',
      message: notApplicableMessage(reason),
      tags: [...(spec.tags ?? []), NOT_APPLICABLE_TAG],
      startedAt,
      finishedAt: startedAt,
    });
  }
  const attempt = async (): Promise<CheckOutcome> => {
    try {
      return await body();
    } catch (error) {
      const aborted = context.signal.aborted;
      // The system failed a step the check needed (a login, a sign-up): its failure, with its evidence.
      if (!aborted && error instanceof SystemFailureError) {
        return {
          status: 'failed',
          message: error.message,
          evidence: [{ name: 'system evidence', contentType: 'text/plain', content: error.evidence }],
        };
      }
      return {
        status: 'broken',
        message: aborted
          ? `Interrupted before the check could finish (${String(context.signal.reason instanceof Error ? context.signal.reason.message : context.signal.reason)})`
          : `Harness error: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  };
  const maxAttempts = 1 + (spec.retries ?? context.config.retries);
  const failures: string[] = [];
  const monitor = spec.judgesTiming ? new HostLoadMonitor(context.hostLoad ?? systemHostLoadSampler()) : undefined;
  monitor?.start();
  let load: HostLoad | undefined;
  let outcome: CheckOutcome;
  let attempts = 1;
  try {
    outcome = await attempt();
    // Only a product failure is retried; broken or unknown evidence is reported as it is.
    while (outcome.status === 'failed' && attempts < maxAttempts && !context.signal.aborted) {
      failures.push(`attempt ${attempts}: ${outcome.message ?? 'failed'}`);
      outcome = await attempt();
      attempts += 1;
    }
  } finally {
    load = monitor ? worseHostLoad(monitor.stop(), spec.figuresHostLoad) : undefined;
  }
  // The final outcome is judged: a failure on every attempt under a saturated host is the host's.
  if (monitor) outcome = judgeUnderHostLoad(outcome, load, context.config.hostSaturation);
  const flaky = outcome.status === 'passed' && attempts > 1;
  const remediation = outcome.remediation ?? (outcome.status === 'passed' ? undefined : spec.remediation);
  const message = flaky
    ? `FLAKY: passed on attempt ${attempts} of ${maxAttempts} (${failures.join('; ')}); ${outcome.message ?? ''}`.trim()
    : outcome.message;
  return context.record({
    id: spec.id,
    name: spec.name,
    feature: spec.feature,
    severity: spec.severity,
    status: outcome.status,
    tags: [...(spec.tags ?? []), ...(flaky ? ['flaky'] : [])],
    startedAt,
    finishedAt: context.clock.now(),
    ...(message === undefined ? {} : { message }),
    ...(remediation === undefined ? {} : { remediation }),
    metrics: [...(outcome.metrics ?? [])],
    evidence: [...(outcome.evidence ?? [])],
    parameters: { ...outcome.parameters, ...(maxAttempts > 1 ? { attempts: `${attempts}/${maxAttempts}` } : {}) },
    flaky,
  });
}
