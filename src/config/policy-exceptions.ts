import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import type { Severity } from '../core/check-result.ts';

/** Severities that are critical unless the policy says otherwise; dropping one weakens the policy. */
export const DEFAULT_CRITICAL_SEVERITIES = ['blocker', 'critical'] as const satisfies readonly Severity[];

/** The conditional margin when the config gives none: 0 under `policy.strict`, else this. */
export const DEFAULT_CONDITIONAL_MARGIN = 0.1;

/** One way the policy is weaker than the strictest one: the dotted config key, its value, and what it allows. */
export interface PolicyException {
  readonly key: string;
  readonly value: number | boolean | string | readonly string[];
  readonly text: string;
}

/** The parts of a policy that can weaken a verdict (input or resolved form alike). */
interface PolicyWeakenings {
  readonly stages: Partial<Record<Stage, { readonly minPassRate: number; readonly mandatory?: boolean | undefined }>>;
  readonly critical: { readonly severities: readonly Severity[]; readonly ids: readonly string[] };
  readonly skippable: readonly string[];
  readonly conditionalMargin: number;
  readonly conditionalExitCode: 0 | 4;
}

const percent = (ratio: number): string => `${(Math.round(ratio * 1000) / 10).toString()}%`;

/**
 * Every weakening of `policy` as a policy exception, in config order: a stage minimum below 100%, a stage
 * that does not gate (`mandatory: false`), a default critical severity left out, skippable check ids, a
 * conditional margin, and a CONDITIONAL that exits 0. `stages` limits the entries that name a stage (its
 * policy, a skippable id with its prefix) to the stages that run.
 */
export function listPolicyExceptions(policy: PolicyWeakenings, stages: readonly Stage[] = STAGES): PolicyException[] {
  const out: PolicyException[] = [];
  for (const stage of STAGES) {
    const entry = policy.stages[stage];
    if (entry === undefined || !stages.includes(stage)) continue;
    if (entry.minPassRate < 1) {
      out.push({
        key: `policy.stages.${stage}.minPassRate`,
        value: entry.minPassRate,
        text: `Stage ${stage} certifies with ${percent(entry.minPassRate)} of its due checks passed: up to ${percent(1 - entry.minPassRate)} may fail.`,
      });
    }
    if (entry.mandatory === false) {
      out.push({
        key: `policy.stages.${stage}.mandatory`,
        value: false,
        text: `Stage ${stage} does not gate the verdict: its shortfalls and missing evidence are reported but do not block (its critical checks still do).`,
      });
    }
  }
  const dropped = DEFAULT_CRITICAL_SEVERITIES.filter((severity) => !policy.critical.severities.includes(severity));
  if (dropped.length > 0) {
    const none = policy.critical.severities.length === 0 && policy.critical.ids.length === 0;
    out.push({
      key: 'policy.critical.severities',
      value: [...policy.critical.severities],
      text: none
        ? 'No check is critical: every check may fail within its stage pass rate.'
        : `Checks of severity ${dropped.join(', ')} are not critical: they may fail within their stage pass rate.`,
    });
  }
  for (const pattern of policy.skippable) {
    const stage = STAGES.find((s) => pattern.startsWith(`${s}.`));
    if (stage !== undefined && !stages.includes(stage)) continue;
    out.push({
      key: 'policy.skippable',
      value: pattern,
      text: `A skipped ${pattern.endsWith('*') ? `check whose id starts with ${pattern.slice(0, -1)}` : `check ${pattern}`} is not due: it does not count against its stage.`,
    });
  }
  if (policy.conditionalMargin > 0) {
    out.push({
      key: 'policy.conditionalMargin',
      value: policy.conditionalMargin,
      text: `A non-critical shortfall up to ${percent(policy.conditionalMargin)} below a stage minimum is CONDITIONAL instead of NOT CERTIFIED.`,
    });
    if (policy.conditionalExitCode === 0) {
      out.push({
        key: 'policy.conditionalExitCode',
        value: 0,
        text: 'A CONDITIONAL verdict exits 0: a pipeline gating on the exit code passes on it.',
      });
    }
  }
  return out;
}
