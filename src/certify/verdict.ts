import { CHECK_STATUSES, NOT_CONFIGURED_TAG } from '../core/check-result.ts';
import type { CheckResult, CheckStatus } from '../core/check-result.ts';
import { EXIT } from '../core/errors.ts';
import { STAGES, assertNever } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import { listPolicyExceptions } from '../config/policy-exceptions.ts';
import type { PolicyException } from '../config/policy-exceptions.ts';
import type { PolicyConfig } from '../config/schema.ts';
import { mapStages, tallyStages } from './pass-rates.ts';
import type { StageTally, StatusCounts } from './pass-rates.ts';
import {
  RATIO_EPSILON,
  isCritical,
  isDue,
  isPartialRun,
  mandatoryStages,
  runStages,
  stageOfId,
  stagePolicy,
} from './policy.ts';

/**
 * A full run is CERTIFIED, CONDITIONAL or NOT_CERTIFIED. A run that leaves out a stage the config enables is
 * never a certification: PASSED_PARTIAL when every selected stage passed, else FAILED_PARTIAL.
 */
export const VERDICTS = ['CERTIFIED', 'CONDITIONAL', 'NOT_CERTIFIED', 'PASSED_PARTIAL', 'FAILED_PARTIAL'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Verdicts of a full run; a partial run maps each onto its partial verdict. */
type FullRunVerdict = Extract<Verdict, 'CERTIFIED' | 'CONDITIONAL' | 'NOT_CERTIFIED'>;

/** True for the verdicts that certify (and so carry a validity): CERTIFIED and CONDITIONAL. */
export function isCertifying(verdict: Verdict): verdict is 'CERTIFIED' | 'CONDITIONAL' {
  return verdict === 'CERTIFIED' || verdict === 'CONDITIONAL';
}

/** The verdict a run gets from the verdict its selected stages would give a full run. */
export function runVerdict(full: FullRunVerdict, partial: boolean): Verdict {
  if (!partial) return full;
  return full === 'CERTIFIED' ? 'PASSED_PARTIAL' : 'FAILED_PARTIAL';
}

/** How a stage took part in the run: gating it, reported only, enabled but left out of this run, or not enabled. */
export const STAGE_ROLES = ['mandatory', 'optional', 'not-run', 'not-enabled'] as const;
export type StageRole = (typeof STAGE_ROLES)[number];

/** A check of a stage that did not pass and was not declared not applicable, with its own message as the reason. */
interface NotPassedCheck {
  readonly check: string;
  readonly name: string;
  readonly status: Exclude<CheckStatus, 'passed' | 'not-applicable'>;
  /** False for a skipped check the policy lists as skippable: it does not count against the stage. */
  readonly due: boolean;
  readonly reason: string;
}

/** The exit codes a verdict can map to: certified, not certified, harness error, conditional. */
type VerdictExitCode = typeof EXIT.certified | typeof EXIT.notCertified | typeof EXIT.harness | typeof EXIT.conditional;

/**
 * Why a reason exists: `failure` = the system under test failed a check; `evidence` = the harness or
 * environment produced no usable evidence (broken, unknown, missing, unreadable); `policy` = evidence
 * was deliberately absent (a skipped check the policy does not allow skipping, no mandatory stage).
 */
type ReasonCause = 'failure' | 'evidence' | 'policy';

/** One reason the verdict is not CERTIFIED; `blocks` forces NOT_CERTIFIED, `conditional` allows CONDITIONAL. */
interface VerdictReason {
  readonly effect: 'blocks' | 'conditional';
  readonly cause: ReasonCause;
  readonly text: string;
}

interface StageVerdict {
  readonly status: CheckStatus;
  readonly role: StageRole;
  readonly passRate: number | null;
  readonly counts: StatusCounts;
  readonly due: number;
  readonly minPassRate: number;
  /** Every check of the stage that did not pass (skipped ones included), in result order. */
  readonly notPassed: readonly NotPassedCheck[];
}

/** How a check came to be not covered: declared in the config's `notApplicable`, or its family not configured. */
export const NOT_COVERED_KINDS = ['not-applicable', 'not-configured'] as const;
type NotCoveredKind = (typeof NOT_COVERED_KINDS)[number];

/** A `not-applicable` check of a stage that ran: never passed, never due, listed with its reason. */
interface NotCoveredCheck {
  readonly check: string;
  readonly stage: Stage;
  readonly reason: string;
  readonly kind: NotCoveredKind;
  /** Critical by the policy: it would have had to pass, had it applied. */
  readonly critical: boolean;
}

interface CriticalFailure {
  readonly stage: Stage;
  readonly check: string;
  readonly name: string;
  readonly message: string;
  readonly remediation: string;
}

interface VerdictInput {
  readonly checks: readonly CheckResult[];
  /** Stages the config enables. */
  readonly enabledStages: readonly Stage[];
  /** Stages selected for this run (e.g. by `--stage`); all enabled stages for a full run. */
  readonly selectedStages: readonly Stage[];
  readonly policy: PolicyConfig;
  /** Result files that could not be read as checks, as `file: why`; each one blocks. */
  readonly invalidResults?: readonly string[];
}

interface VerdictResult {
  readonly verdict: Verdict;
  readonly partial: boolean;
  /** Stages the config enables that this run left out. */
  readonly stagesNotRun: readonly Stage[];
  /** Every way the policy is weaker than the strictest one, for the stages that ran. */
  readonly policyExceptions: readonly PolicyException[];
  readonly stages: Record<Stage, StageVerdict>;
  readonly criticalFailures: readonly CriticalFailure[];
  /** Every not-applicable check of the stages that ran, in result order. */
  readonly notCovered: readonly NotCoveredCheck[];
  readonly reasons: readonly VerdictReason[];
  /** Weighted mean of mandatory stage pass rates (null rates count 0); informative, never decides. */
  readonly score: number;
  readonly exitCode: VerdictExitCode;
}

/** The remediation line of a check, or a pointer to its evidence when the check gave none. */
export function remediationFor(check: Pick<CheckResult, 'id' | 'stage' | 'remediation'>): string {
  const given = check.remediation?.trim();
  if (given) return given;
  return `No remediation recorded: read the evidence of check "${check.id}" (stage ${check.stage}) in the Allure report to find the cause.`;
}

function causeOfStatus(status: Exclude<CheckStatus, 'passed' | 'not-applicable'>): ReasonCause {
  switch (status) {
    case 'failed':
      return 'failure';
    case 'broken':
    case 'unknown':
      return 'evidence';
    case 'skipped':
      return 'policy';
    default:
      return assertNever(status, 'check status');
  }
}

/** The cause of a stage shortfall: any failed check makes it a product failure. */
function causeOfShortfall(counts: StatusCounts, dueChecks: readonly CheckResult[]): ReasonCause {
  if (counts.failed > 0) return 'failure';
  if (dueChecks.some((check) => check.status === 'skipped')) return 'policy';
  return 'evidence';
}

/**
 * A ratio as a percentage with one decimal, rounded towards `direction` so the text never overstates:
 * pass rates round down (96.98% is "96.9%", not "97%" next to a 97% minimum), shortfalls round up.
 */
function formatPercent(ratio: number, direction: 'down' | 'up' | 'nearest' = 'nearest'): string {
  const tenths = ratio * 1000;
  const rounded =
    direction === 'down'
      ? Math.floor(tenths + RATIO_EPSILON * 1000)
      : direction === 'up'
        ? Math.ceil(tenths - RATIO_EPSILON * 1000)
        : Math.round(tenths);
  return `${(rounded / 10).toString()}%`;
}

const percent = (ratio: number): string => formatPercent(ratio);

function describeCounts(counts: StatusCounts): string {
  const parts = CHECK_STATUSES.filter((status) => counts[status] > 0).map(
    (status) => `${counts[status].toString()} ${status}`,
  );
  return parts.length === 0 ? 'no check results' : parts.join(', ');
}

const listIds = (checks: readonly CheckResult[], max = 5): string => {
  const ids = checks.slice(0, max).map((check) => check.id);
  return checks.length > max ? `${ids.join(', ')} and ${(checks.length - max).toString()} more` : ids.join(', ');
};

/** Check ids with their messages, for checks whose reason matters (skipped ones). */
const listReasons = (checks: readonly CheckResult[], max = 5): string => {
  const shown = checks.slice(0, max).map((check) => {
    const message = check.message?.trim().split('\n')[0];
    return message ? `${check.id}: ${message}` : check.id;
  });
  return checks.length > max ? `${shown.join('; ')} and ${(checks.length - max).toString()} more` : shown.join('; ');
};

/**
 * Reasons a mandatory stage blocks on its own evidence: no result, nothing due, and every due unknown, broken
 * or (not skippable) skipped check, whatever else the stage holds: a failed check must not hide an unknown one,
 * and missing evidence never passes within a pass-rate margin.
 */
function stageEvidenceReasons(stage: Stage, tally: StageTally, dueChecks: readonly CheckResult[]): VerdictReason[] {
  const total = CHECK_STATUSES.reduce((sum, status) => sum + tally.counts[status], 0);
  if (total === 0) {
    return [
      {
        effect: 'blocks',
        cause: 'evidence',
        text: `Stage ${stage} is mandatory but has no check results: it did not run or wrote nothing.`,
      },
    ];
  }
  if (tally.due === 0) {
    return [
      {
        effect: 'blocks',
        cause: 'evidence',
        text: `Stage ${stage} is mandatory but no check was due (${describeCounts(tally.counts)}, all skippable or not applicable): its status is unknown.`,
      },
    ];
  }
  const reasons: VerdictReason[] = [];
  const unknown = dueChecks.filter((check) => check.status === 'unknown');
  if (unknown.length > 0) {
    reasons.push({
      effect: 'blocks',
      cause: 'evidence',
      text: `Stage ${stage} is mandatory and ${unknown.length.toString()} due check(s) are unknown, with no evidence (${listIds(unknown)}).`,
    });
  }
  const broken = dueChecks.filter((check) => check.status === 'broken');
  if (broken.length > 0) {
    reasons.push({
      effect: 'blocks',
      cause: 'evidence',
      text: `Stage ${stage} is mandatory and ${broken.length.toString()} due check(s) are broken: the harness or environment failed (${listIds(broken)}).`,
    });
  }
  const skipped = dueChecks.filter((check) => check.status === 'skipped');
  if (skipped.length > 0) {
    reasons.push({
      effect: 'blocks',
      cause: 'policy',
      text:
        tally.executed === 0
          ? `Stage ${stage} is mandatory but executed no check: all ${tally.due.toString()} due check(s) were skipped (${listReasons(skipped)}).`
          : `Stage ${stage} is mandatory and ${skipped.length.toString()} due check(s) were skipped without being listed in policy.skippable (${listReasons(skipped)}).`,
    });
  }
  return reasons;
}

/** A not-passed check's reason in certification.json is its message up to this length; the report has the rest. */
const MAX_REASON_CHARS = 500;
const clipReason = (text: string): string =>
  text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS - 1)}…` : text;

function notPassedOf(stage: Stage, checks: readonly CheckResult[], policy: PolicyConfig): NotPassedCheck[] {
  const out: NotPassedCheck[] = [];
  for (const check of checks) {
    if (check.stage !== stage || check.status === 'passed' || check.status === 'not-applicable') continue;
    out.push({
      check: check.id,
      name: check.name,
      status: check.status,
      due: isDue(check, policy),
      reason: clipReason(check.message?.trim() || `The check ended ${check.status} without a message.`),
    });
  }
  return out;
}

function notCoveredOf(
  checks: readonly CheckResult[],
  running: readonly Stage[],
  policy: PolicyConfig,
): NotCoveredCheck[] {
  return checks
    .filter((check) => check.status === 'not-applicable' && running.includes(check.stage))
    .map((check) => ({
      check: check.id,
      stage: check.stage,
      reason: clipReason(check.message?.trim() || 'Not applicable (no reason recorded).'),
      kind: check.tags.includes(NOT_CONFIGURED_TAG) ? 'not-configured' : 'not-applicable',
      critical: isCritical(check, policy),
    }));
}

function roleOf(
  stage: Stage,
  enabled: readonly Stage[],
  running: readonly Stage[],
  mandatory: readonly Stage[],
): StageRole {
  if (mandatory.includes(stage)) return 'mandatory';
  if (running.includes(stage)) return 'optional';
  return enabled.includes(stage) ? 'not-run' : 'not-enabled';
}

function criticalReasons(
  input: VerdictInput,
  partial: boolean,
): { failures: CriticalFailure[]; reasons: VerdictReason[] } {
  const { checks, policy, selectedStages } = input;
  const failures: CriticalFailure[] = [];
  const reasons: VerdictReason[] = [];
  for (const check of checks) {
    if (!selectedStages.includes(check.stage) || !isCritical(check, policy) || !isDue(check, policy)) continue;
    if (check.status === 'passed' || check.status === 'not-applicable') continue;
    const message = check.message?.trim() || `The check ended ${check.status} without a message.`;
    failures.push({
      stage: check.stage,
      check: check.id,
      name: check.name,
      message,
      remediation: remediationFor(check),
    });
    reasons.push({
      effect: 'blocks',
      cause: causeOfStatus(check.status),
      text: `Critical check ${check.id} ("${check.name}") in stage ${check.stage} is ${check.status}: ${message}`,
    });
  }
  // A critical id the policy names but no result carries must not pass by absence.
  // A not-applicable result is a result: the config said why, and notCovered lists it.
  const seen = new Set(checks.map((check) => check.id));
  for (const id of policy.critical.ids) {
    if (id.endsWith('*') || seen.has(id)) continue;
    const stage = stageOfId(id);
    const applies = stage === undefined ? !partial : selectedStages.includes(stage);
    if (!applies) continue;
    const where = stage === undefined ? '' : ` in stage ${stage}`;
    reasons.push({
      effect: 'blocks',
      cause: 'evidence',
      text: `Critical check ${id}${where} (policy.critical.ids) has no result: it did not run.`,
    });
    if (stage !== undefined) {
      failures.push({
        stage,
        check: id,
        name: id,
        message: 'No result was recorded for this critical check.',
        remediation: `Make sure stage ${stage} runs check "${id}", or remove it from policy.critical.ids if it no longer exists.`,
      });
    }
  }
  return { failures, reasons };
}

/** Applies the certification policy to a run's checks: stage pass rates, critical checks, verdict and exit code. */
export function evaluateVerdict(input: VerdictInput): VerdictResult {
  const { checks, policy, enabledStages, selectedStages } = input;
  const mandatory = mandatoryStages(enabledStages, selectedStages, policy);
  const running = runStages(enabledStages, selectedStages);
  const partial = isPartialRun(enabledStages, selectedStages);
  const tallies = tallyStages(checks, policy);
  const reasons: VerdictReason[] = [];

  for (const entry of input.invalidResults ?? []) {
    reasons.push({ effect: 'blocks', cause: 'evidence', text: `Result file is not a valid readiness check: ${entry}` });
  }
  if (mandatory.length === 0) {
    reasons.push({
      effect: 'blocks',
      cause: 'policy',
      text:
        running.length > 0
          ? `No mandatory stage: every stage of the run [${running.join(', ')}] is marked mandatory: false in policy.stages.`
          : `No mandatory stage: the run selected [${selectedStages.join(', ')}] but the config enables [${enabledStages.join(', ')}].`,
    });
  }

  for (const stage of mandatory) {
    const tally = tallies[stage];
    const dueChecks = checks.filter((check) => check.stage === stage && isDue(check, policy));
    reasons.push(...stageEvidenceReasons(stage, tally, dueChecks));
    const { minPassRate } = stagePolicy(policy, stage);
    if (tally.passRate === null) continue;
    const shortfall = minPassRate - tally.passRate;
    if (shortfall <= RATIO_EPSILON) continue;
    const withinMargin = shortfall <= policy.conditionalMargin + RATIO_EPSILON;
    const passed = dueChecks.filter((check) => check.status === 'passed').length;
    const notPassed = dueChecks.filter((check) => check.status !== 'passed');
    reasons.push({
      effect: withinMargin ? 'conditional' : 'blocks',
      cause: causeOfShortfall(tally.counts, dueChecks),
      text:
        `Stage ${stage} pass rate ${formatPercent(tally.passRate, 'down')} (${passed.toString()}/${tally.due.toString()}) is below its minimum ${percent(minPassRate)}` +
        ` by ${formatPercent(shortfall, 'up')}, ${withinMargin ? 'within' : 'beyond'} the conditional margin ${percent(policy.conditionalMargin)}; not passed: ${listIds(notPassed)}.`,
    });
  }

  const critical = criticalReasons(input, partial);
  reasons.push(...critical.reasons);

  const stages = mapStages((stage): StageVerdict => {
    const tally = tallies[stage];
    const { minPassRate } = stagePolicy(policy, stage);
    // An optional stage that ran shows its outcome; a stage that did not run shows skipped.
    const isRun = running.includes(stage);
    return {
      status: isRun ? tally.status : 'skipped',
      role: roleOf(stage, enabledStages, running, mandatory),
      passRate: isRun ? tally.passRate : null,
      counts: tally.counts,
      due: tally.due,
      minPassRate,
      notPassed: notPassedOf(stage, checks, policy),
    };
  });

  const full: FullRunVerdict = reasons.some((r) => r.effect === 'blocks')
    ? 'NOT_CERTIFIED'
    : reasons.length > 0
      ? 'CONDITIONAL'
      : 'CERTIFIED';
  const verdict = runVerdict(full, partial);
  return {
    verdict,
    partial,
    stagesNotRun: STAGES.filter((stage) => stages[stage].role === 'not-run'),
    policyExceptions: listPolicyExceptions(policy, running),
    stages,
    criticalFailures: critical.failures,
    notCovered: notCoveredOf(checks, running, policy),
    reasons,
    score: weightedScore(mandatory, tallies, policy),
    exitCode: verdictExitCode({
      verdict,
      hasFailedCheck: checks.some((check) => running.includes(check.stage) && check.status === 'failed'),
      conditionalExitCode: policy.conditionalExitCode,
    }),
  };
}

/** sum(weight * passRate) / sum(weight) over the mandatory stages; a null pass rate counts 0. */
function weightedScore(
  mandatory: readonly Stage[],
  tallies: Readonly<Record<Stage, Pick<StageTally, 'passRate'>>>,
  policy: PolicyConfig,
): number {
  let weighted = 0;
  let weights = 0;
  for (const stage of mandatory) {
    const { weight } = stagePolicy(policy, stage);
    weighted += weight * (tallies[stage].passRate ?? 0);
    weights += weight;
  }
  // Clamped: float sums must not push a perfect run past 1.
  return weights === 0 ? 0 : Math.min(1, weighted / weights);
}

/**
 * The exit code of a verdict: 0 certified or passed partial; CONDITIONAL -> the policy's conditional exit
 * code; NOT_CERTIFIED and FAILED_PARTIAL -> 1 when the system failed a check, else 3 (missing or broken
 * evidence, or a policy that blocks, such as a skipped check that is not skippable).
 */
export function verdictExitCode(args: {
  readonly verdict: Verdict;
  readonly hasFailedCheck: boolean;
  readonly conditionalExitCode: PolicyConfig['conditionalExitCode'];
}): VerdictExitCode {
  switch (args.verdict) {
    case 'CERTIFIED':
    case 'PASSED_PARTIAL':
      return EXIT.certified;
    case 'CONDITIONAL':
      return args.conditionalExitCode === 0 ? EXIT.certified : EXIT.conditional;
    case 'NOT_CERTIFIED':
    case 'FAILED_PARTIAL':
      return args.hasFailedCheck ? EXIT.notCertified : EXIT.harness;
    default:
      return assertNever(args.verdict, 'verdict');
  }
}
