import { matchesIdPattern } from '../core/check-result.ts';
import type { CheckResult } from '../core/check-result.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import type { PolicyConfig } from '../config/schema.ts';

/** Tolerance for comparing ratios, so 0.8 - 0.7 is not judged larger than a 0.1 margin. */
export const RATIO_EPSILON = 1e-9;

/** The policy of one stage with defaults applied. */
interface StagePolicy {
  readonly minPassRate: number;
  readonly weight: number;
  /** False: the stage runs and is reported but does not gate the verdict (its critical checks still do). */
  readonly mandatory: boolean;
}

/** The policy that applies to `stage`: minimum pass rate 1, weight 1, mandatory, unless the config says otherwise. */
export function stagePolicy(policy: PolicyConfig, stage: Stage): StagePolicy {
  const configured = policy.stages[stage];
  // `mandatory` is optional in the config (default true); read it so configs without the key keep every stage mandatory.
  const mandatory = configured !== undefined && 'mandatory' in configured ? configured.mandatory !== false : true;
  return { minPassRate: configured?.minPassRate ?? 1, weight: configured?.weight ?? 1, mandatory };
}

export { matchesIdPattern };

/** A `not-applicable` check, or a `skipped` check whose id the policy lists as skippable, is not due; every other check is. */
export function isDue(check: Pick<CheckResult, 'id' | 'status'>, policy: Pick<PolicyConfig, 'skippable'>): boolean {
  if (check.status === 'not-applicable') return false;
  return !(check.status === 'skipped' && matchesIdPattern(check.id, policy.skippable));
}

/** A check is critical by severity (`critical.severities`) or by id (`critical.ids`, '*' prefixes allowed). */
export function isCritical(
  check: Pick<CheckResult, 'id' | 'severity'>,
  policy: Pick<PolicyConfig, 'critical'>,
): boolean {
  return policy.critical.severities.includes(check.severity) || matchesIdPattern(check.id, policy.critical.ids);
}

/** The stages that run: enabled in the config and selected for this run, in run order. */
export function runStages(enabled: readonly Stage[], selected: readonly Stage[]): Stage[] {
  return STAGES.filter((stage) => enabled.includes(stage) && selected.includes(stage));
}

/**
 * The stages the verdict requires: those that run, less the ones the policy marks `mandatory: false`
 * (given `policy`), in run order.
 */
export function mandatoryStages(enabled: readonly Stage[], selected: readonly Stage[], policy?: PolicyConfig): Stage[] {
  return runStages(enabled, selected).filter((stage) => policy === undefined || stagePolicy(policy, stage).mandatory);
}

/** A run is partial when it leaves out a stage the config enables. */
export function isPartialRun(enabled: readonly Stage[], selected: readonly Stage[]): boolean {
  return enabled.some((stage) => !selected.includes(stage));
}

/** The stage a check id names by its prefix (`boot.health` -> boot), if any. */
export function stageOfId(id: string): Stage | undefined {
  return STAGES.find((stage) => id.startsWith(`${stage}.`) || id.startsWith(`${stage}:`) || id.startsWith(`${stage}-`));
}
