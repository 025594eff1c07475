import type { CheckResult, CheckStatus } from '../core/check-result.ts';
import type { Stage } from '../core/stage.ts';
import type { PolicyConfig } from '../config/schema.ts';
import { isDue } from './policy.ts';

/** How many checks of a stage ended in each status (all of them, due or not). */
export interface StatusCounts {
  passed: number;
  failed: number;
  broken: number;
  skipped: number;
  unknown: number;
  'not-applicable': number;
}

/** One stage's outcome before the policy is applied. */
export interface StageTally {
  readonly stage: Stage;
  readonly counts: StatusCounts;
  /** Checks that count towards the pass rate: all but not-applicable ones and skipped checks the policy lists as skippable. */
  readonly due: number;
  /** passed / due; null when nothing was due (never 100% by default). */
  readonly passRate: number | null;
  /** `unknown` when nothing was due, else the worst status among due checks. */
  readonly status: CheckStatus;
  /** Checks that actually ran (passed, failed or broken). */
  readonly executed: number;
}

/** Worst first: a stage takes the first of these that any of its due checks has. */
export const STATUS_SEVERITY_ORDER = [
  'failed',
  'broken',
  'unknown',
  'skipped',
  'passed',
  'not-applicable',
] as const satisfies readonly CheckStatus[];

export function emptyCounts(): StatusCounts {
  return { passed: 0, failed: 0, broken: 0, skipped: 0, unknown: 0, 'not-applicable': 0 };
}

/** The worst status present, or undefined for an empty list. */
export function worstStatus(statuses: readonly CheckStatus[]): CheckStatus | undefined {
  return STATUS_SEVERITY_ORDER.find((status) => statuses.includes(status));
}

/** Counts, due checks, pass rate and status of one stage. */
export function tallyStage(
  stage: Stage,
  checks: readonly CheckResult[],
  policy: Pick<PolicyConfig, 'skippable'>,
): StageTally {
  const own = checks.filter((check) => check.stage === stage);
  const counts = emptyCounts();
  for (const check of own) counts[check.status] += 1;
  const due = own.filter((check) => isDue(check, policy));
  const passed = due.filter((check) => check.status === 'passed').length;
  return {
    stage,
    counts,
    due: due.length,
    passRate: due.length === 0 ? null : passed / due.length,
    status: worstStatus(due.map((check) => check.status)) ?? 'unknown',
    executed: counts.passed + counts.failed + counts.broken,
  };
}

/** `tallyStage` for every stage. */
export function tallyStages(
  checks: readonly CheckResult[],
  policy: Pick<PolicyConfig, 'skippable'>,
): Record<Stage, StageTally> {
  return mapStages((stage) => tallyStage(stage, checks, policy));
}

/** A record with one entry per stage, built without a cast so a new stage is a compile error here. */
export function mapStages<T>(fn: (stage: Stage) => T): Record<Stage, T> {
  return {
    boot: fn('boot'),
    contract: fn('contract'),
    security: fn('security'),
    load: fn('load'),
    chaos: fn('chaos'),
    recovery: fn('recovery'),
  };
}
