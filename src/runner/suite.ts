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
  let outcome = await attempt();
  let attempts = 1;
  // Only a product failure is retried; broken or unknown evidence is reported as it is.
  while (outcome.status === 'failed' && attempts < maxAttempts && !context.signal.aborted) {
    failures.push(`attempt ${attempts}: ${outcome.message ?? 'failed'}`);
    outcome = await attempt();
    attempts += 1;
  }
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
