import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { z } from 'zod';
import { applyQualityGate } from '../certify/certification.ts';
import type { Certification } from '../certify/certification.ts';
import { VERDICTS, runVerdict } from '../certify/verdict.ts';
import type { Verdict } from '../certify/verdict.ts';
import { stageOfId, stagePolicy } from '../certify/policy.ts';
import type { CheckStatus } from '../core/check-result.ts';
import { ToolMissingError } from '../core/errors.ts';
import { exec, tail } from '../core/exec.ts';
import { allureTimeoutMs, resolveAllureCli } from './allure.ts';
export { countResultFiles } from './allure.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import type { PolicyConfig } from '../config/schema.ts';

/**
 * The certification policy as an Allure 3 quality gate, evaluated by `allure quality-gate` over the
 * results directory: an independent second reading of the same evidence. Every ruleset has a tier:
 * `block` rules must pass for CONDITIONAL or CERTIFIED, `certify` rules (the stage minimums) must
 * also pass for CERTIFIED. So: nothing failed -> CERTIFIED; only `certify` rules failed -> CONDITIONAL;
 * any `block` rule failed -> NOT_CERTIFIED; a partial run maps these onto PASSED_PARTIAL / FAILED_PARTIAL.
 * The gate's verdict must equal the policy's, else certification.json withdraws the verdict (exit 3).
 */
const QUALITY_GATE_CONFIG_FILE = 'quality-gate.allurerc.mjs';
export const QUALITY_GATE_FILE = 'quality-gate.json';

const GATE_TIERS = ['block', 'certify'] as const;
type GateTier = (typeof GATE_TIERS)[number];

/** Which Allure test results a ruleset looks at; interpreted by the generated config module. */
type GateFilter =
  | { readonly kind: 'all' }
  | { readonly kind: 'none' }
  /** Results that are not readiness checks (no readinessId/stage label, or a malformed id). */
  | { readonly kind: 'not-a-check' }
  /** Checks of one stage; `due` drops not-applicable checks and skipped checks the policy lists as skippable. */
  | { readonly kind: 'stage'; readonly stage: Stage; readonly due: boolean; readonly statuses?: readonly CheckStatus[] }
  /** Due critical checks of these stages that did not pass. */
  | { readonly kind: 'critical-not-passed'; readonly stages: readonly Stage[] }
  | { readonly kind: 'id'; readonly id: string };

/** Rules by Allure rule name: built-in `minTestsCount`, and ours `readinessPassRate` and `maxCount`. */
interface GateRules {
  readonly minTestsCount?: number;
  readonly readinessPassRate?: number;
  readonly maxCount?: number;
}

interface GateRuleset {
  /** `<tier>:<what>`; Allure reports a failed rule as `<id>/<rule>`. */
  readonly id: string;
  readonly tier: GateTier;
  readonly description: string;
  readonly filter: GateFilter;
  readonly rules: GateRules;
}

interface GatePlan {
  readonly stages: readonly Stage[];
  /** The run left out a stage the config enables: the gate's verdict is a partial one. */
  readonly partial: boolean;
  readonly skippable: readonly string[];
  readonly critical: PolicyConfig['critical'];
  readonly rulesets: readonly GateRuleset[];
}

interface GatePlanInput {
  readonly policy: PolicyConfig;
  readonly enabledStages: readonly Stage[];
  readonly selectedStages: readonly Stage[];
  /** How many `*-result.json` files the results directory holds: Allure must read every one. */
  readonly resultFileCount: number;
}

const pct = (ratio: number): string => `${(Math.round(ratio * 10000) / 100).toString()}%`;

/** The policy as rulesets, mirroring `evaluateVerdict`'s blocking and conditional reasons one by one. */
export function planQualityGate(input: GatePlanInput): GatePlan {
  const { policy, enabledStages, selectedStages } = input;
  const mandatory = STAGES.filter(
    (stage) => enabledStages.includes(stage) && selectedStages.includes(stage) && stagePolicy(policy, stage).mandatory,
  );
  const partial = enabledStages.some((stage) => !selectedStages.includes(stage));
  const rulesets: GateRuleset[] = [
    {
      id: 'block:results-readable',
      tier: 'block',
      description: `Allure reads all ${input.resultFileCount.toString()} result files`,
      filter: { kind: 'all' },
      rules: { minTestsCount: input.resultFileCount },
    },
    {
      id: 'block:results-are-checks',
      tier: 'block',
      description: 'Every result is a readiness check',
      filter: { kind: 'not-a-check' },
      rules: { maxCount: 0 },
    },
  ];
  if (mandatory.length === 0) {
    rulesets.push({
      id: 'block:mandatory-stages',
      tier: 'block',
      description: 'At least one mandatory stage',
      filter: { kind: 'none' },
      rules: { minTestsCount: 1 },
    });
  }
  for (const stage of mandatory) {
    const { minPassRate } = stagePolicy(policy, stage);
    const lenient = Math.max(0, minPassRate - policy.conditionalMargin);
    rulesets.push(
      {
        id: `block:${stage}/no-evidence`,
        tier: 'block',
        description: `Stage ${stage}: no due check is unknown, broken or skipped`,
        filter: { kind: 'stage', stage, due: true, statuses: ['unknown', 'broken', 'skipped'] },
        rules: { maxCount: 0 },
      },
      {
        id: `block:${stage}/executed`,
        tier: 'block',
        description: `Stage ${stage}: at least one check ran (passed, failed or broken)`,
        filter: { kind: 'stage', stage, due: true, statuses: ['passed', 'failed', 'broken'] },
        rules: { minTestsCount: 1 },
      },
      {
        id: `block:${stage}/pass-rate`,
        tier: 'block',
        description: `Stage ${stage}: pass rate of due checks >= ${pct(lenient)} (minimum ${pct(minPassRate)} less the conditional margin)`,
        filter: { kind: 'stage', stage, due: true },
        rules: { readinessPassRate: lenient },
      },
      {
        id: `certify:${stage}/pass-rate`,
        tier: 'certify',
        description: `Stage ${stage}: pass rate of due checks >= ${pct(minPassRate)}`,
        filter: { kind: 'stage', stage, due: true },
        rules: { readinessPassRate: minPassRate },
      },
    );
  }
  if (selectedStages.length > 0) {
    rulesets.push({
      id: 'block:critical',
      tier: 'block',
      description: `Every due critical check passed (severities ${policy.critical.severities.join(', ') || 'none'}; ids ${policy.critical.ids.join(', ') || 'none'})`,
      filter: { kind: 'critical-not-passed', stages: [...selectedStages] },
      rules: { maxCount: 0 },
    });
  }
  for (const id of policy.critical.ids) {
    if (id.endsWith('*')) continue;
    const stage = stageOfId(id);
    const applies = stage === undefined ? !partial : selectedStages.includes(stage);
    if (!applies) continue;
    rulesets.push({
      id: `block:critical-present/${id}`,
      tier: 'block',
      description: `Critical check ${id} has a result`,
      filter: { kind: 'id', id },
      rules: { minTestsCount: 1 },
    });
  }
  return { stages: [...STAGES], partial, skippable: [...policy.skippable], critical: policy.critical, rulesets };
}

function allureRulesUrl(): string {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('allure/rules')).href;
  } catch (error) {
    throw new ToolMissingError('Allure 3 (npm package "allure") is not installed', {
      cause: error,
      hint: 'npm install allure@3',
    });
  }
}

/**
 * The Allure config module (`allurerc.mjs`) of a plan. Its filters re-implement the policy's few
 * predicates (due, critical, id patterns) over Allure's own reading of the results, on purpose:
 * sharing our code would make the cross-check agree by construction.
 */
function renderQualityGateConfig(plan: GatePlan, options: { readonly rulesModuleUrl?: string } = {}): string {
  const rulesUrl = options.rulesModuleUrl ?? allureRulesUrl();
  return `// Generated by readiness from the certification policy; evaluated with \`allure quality-gate\`.
// Tiers: "block:" rules must pass for CONDITIONAL or CERTIFIED; "certify:" rules also for CERTIFIED.
import { qualityGateDefaultRules } from ${JSON.stringify(rulesUrl)};

const plan = ${JSON.stringify(plan, null, 2)};

const EPSILON = 1e-9;
const CHECK_ID = /^[a-z0-9][a-z0-9._:-]*$/;
const label = (tr, name) => tr.labels?.find((l) => l.name === name)?.value;
const matchesId = (id, patterns) =>
  patterns.some((p) => (p.endsWith('*') ? id.startsWith(p.slice(0, -1)) : id === p));
const isCheck = (tr) => {
  const id = label(tr, 'readinessId');
  return id !== undefined && CHECK_ID.test(id) && plan.stages.includes(label(tr, 'parentSuite'));
};
// A check declared not applicable is written as skipped with readinessStatus=not-applicable: never due.
const isNotApplicable = (tr) => tr.status === 'skipped' && label(tr, 'readinessStatus') === 'not-applicable';
const isDue = (tr) =>
  !isNotApplicable(tr) && !(tr.status === 'skipped' && matchesId(label(tr, 'readinessId') ?? '', plan.skippable));
const severityOf = (tr) => {
  const severity = label(tr, 'severity');
  return ['blocker', 'critical', 'normal', 'minor', 'trivial'].includes(severity) ? severity : 'normal';
};
const isCritical = (tr) =>
  plan.critical.severities.includes(severityOf(tr)) || matchesId(label(tr, 'readinessId') ?? '', plan.critical.ids);

const filters = {
  all: () => () => true,
  none: () => () => false,
  'not-a-check': () => (tr) => !isCheck(tr),
  stage: (f) => (tr) =>
    isCheck(tr) &&
    label(tr, 'parentSuite') === f.stage &&
    (!f.due || isDue(tr)) &&
    (f.statuses === undefined || f.statuses.includes(tr.status)),
  'critical-not-passed': (f) => (tr) =>
    isCheck(tr) && f.stages.includes(label(tr, 'parentSuite')) && isCritical(tr) && isDue(tr) && tr.status !== 'passed',
  id: (f) => (tr) => label(tr, 'readinessId') === f.id,
};

const percent = (ratio) => \`\${Math.round(ratio * 10000) / 100}%\`;

/** passed / all filtered results; no result at all fails (a stage is never 100% by absence). */
const readinessPassRate = {
  rule: 'readinessPassRate',
  message: ({ actual, expected }) =>
    actual.due === 0
      ? \`No due check, so no pass rate; required \${percent(expected)}\`
      : \`Pass rate \${percent(actual.rate)} (\${actual.passed}/\${actual.due}) is below \${percent(expected)}\`,
  successMessage: ({ actual, expected }) =>
    \`Pass rate \${percent(actual.rate)} (\${actual.passed}/\${actual.due}) meets \${percent(expected)}\`,
  validate: async ({ trs, expected }) => {
    const passed = trs.filter((tr) => tr.status === 'passed').length;
    const due = trs.length;
    const rate = due === 0 ? 0 : passed / due;
    return {
      success: due > 0 && rate >= expected - EPSILON,
      actual: { rate, passed, due },
      testResults: trs.filter((tr) => tr.status !== 'passed').map((tr) => tr.id),
    };
  },
};

/** At most \`expected\` results match the ruleset's filter. */
const maxCount = {
  rule: 'maxCount',
  message: ({ actual, expected }) => \`\${actual} result(s) match, at most \${expected} allowed\`,
  successMessage: ({ actual, expected }) => \`\${actual} result(s) match, at most \${expected} allowed\`,
  validate: async ({ trs, expected }) => ({
    success: trs.length <= expected,
    actual: trs.length,
    testResults: trs.map((tr) => tr.id),
  }),
};

export default {
  name: 'readiness quality gate',
  output: './allure-quality-gate',
  plugins: { agent: { enabled: false } },
  qualityGate: {
    use: [...qualityGateDefaultRules, readinessPassRate, maxCount],
    rules: plan.rulesets.map((r) => ({ id: r.id, filter: filters[r.filter.kind](r.filter), ...r.rules })),
  },
};
`;
}

const failedRuleSchema = z.strictObject({
  rule: z.string().min(1),
  tier: z.enum(GATE_TIERS),
  message: z.string(),
});
type FailedGateRule = z.infer<typeof failedRuleSchema>;

/** `quality-gate.json`: what Allure's gate said and whether it agrees with the verdict. */
export const qualityGateRecordSchema = z.strictObject({
  schemaVersion: z.literal(1),
  command: z.string().min(1),
  exitCode: z.number().int().nullable(),
  durationMs: z.number().nonnegative(),
  /** `error`: the gate did not evaluate (crash, timeout, output not understood). */
  outcome: z.enum(['passed', 'failed', 'error']),
  gateVerdict: z.enum(VERDICTS).nullable(),
  verdict: z.enum(VERDICTS),
  agrees: z.boolean(),
  failedRules: z.array(failedRuleSchema),
  rulesets: z.array(
    z.strictObject({
      id: z.string(),
      tier: z.enum(GATE_TIERS),
      description: z.string(),
      rules: z.record(z.string(), z.number()),
    }),
  ),
  config: z.string(),
  output: z.string(),
});
export type QualityGateRecord = z.infer<typeof qualityGateRecordSchema>;

export interface QualityGateRun {
  readonly command: string;
  readonly exitCode: number | null;
  readonly durationMs: number;
  readonly outcome: 'passed' | 'failed' | 'error';
  readonly failedRules: readonly FailedGateRule[];
  readonly output: string;
}

/**
 * Reads the failed rules from `allure quality-gate`'s report (` ⨯ <message>    <ruleset id>/<rule>`).
 * Returns undefined when a line names a rule the plan does not have: the output was not understood.
 */
export function parseGateFailures(output: string, plan: GatePlan): FailedGateRule[] | undefined {
  const known = new Set(
    plan.rulesets.flatMap((ruleset) => Object.keys(ruleset.rules).map((rule) => `${ruleset.id}/${rule}`)),
  );
  const failures: FailedGateRule[] = [];
  for (const line of stripVTControlCharacters(output).split('\n')) {
    const match = /^\s*⨯\s(.*?)\s{2,}(\S+)\s*$/.exec(line);
    if (!match) continue;
    const [, message = '', rule = ''] = match;
    if (!known.has(rule)) return undefined;
    const tier = rule.startsWith('certify:') ? 'certify' : 'block';
    failures.push({ rule, tier, message: message.trim() });
  }
  return failures;
}

/**
 * The verdict the gate implies: none failed -> CERTIFIED; only certify-tier -> CONDITIONAL; else
 * NOT_CERTIFIED; for a partial run, CERTIFIED -> PASSED_PARTIAL and anything else -> FAILED_PARTIAL.
 */
export function gateVerdict(run: Pick<QualityGateRun, 'outcome' | 'failedRules'>, partial = false): Verdict | null {
  if (run.outcome === 'error') return null;
  if (run.outcome === 'passed') return runVerdict('CERTIFIED', partial);
  return runVerdict(run.failedRules.some((rule) => rule.tier === 'block') ? 'NOT_CERTIFIED' : 'CONDITIONAL', partial);
}

interface RunQualityGateOptions {
  readonly configFile: string;
  readonly resultsDir: string;
  readonly plan: GatePlan;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly allureCli?: string;
}

/** Runs `allure quality-gate` with a generated config in a scratch directory (Allure writes there). */
async function runQualityGate(options: RunQualityGateOptions): Promise<QualityGateRun> {
  const scratch = await mkdtemp(join(tmpdir(), 'readiness-gate-'));
  const timeoutMs = options.timeoutMs ?? 120_000;
  try {
    const cli = options.allureCli ?? resolveAllureCli();
    const result = await exec(
      process.execPath,
      [cli, 'quality-gate', '--config', options.configFile, '--cwd', scratch, options.resultsDir],
      {
        cwd: scratch,
        timeoutMs,
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    const output = stripVTControlCharacters(`${result.stdout}${result.stderr}`);
    const base = { command: result.command, exitCode: result.exitCode, durationMs: result.durationMs, output };
    if (result.exitCode === 0) return { ...base, outcome: 'passed', failedRules: [] };
    const failures = result.exitCode === 1 ? parseGateFailures(output, options.plan) : undefined;
    if (failures === undefined || failures.length === 0) {
      const why = result.timedOut ? `timed out after ${timeoutMs.toString()}ms` : 'its output names no known rule';
      return { ...base, outcome: 'error', failedRules: [], output: `${why}\n${tail(output, 40)}` };
    }
    return { ...base, outcome: 'failed', failedRules: failures };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

interface EvaluateQualityGateOptions extends GatePlanInput {
  readonly runDir: string;
  readonly resultsDir: string;
  /** Default: `allureTimeoutMs` of `resultFileCount`. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Plans the gate from the policy, writes its config into the run folder and runs it. */
export async function evaluateQualityGate(
  options: EvaluateQualityGateOptions,
): Promise<{ plan: GatePlan; configFile: string; run: QualityGateRun }> {
  const plan = planQualityGate(options);
  const configFile = join(options.runDir, QUALITY_GATE_CONFIG_FILE);
  await writeFile(configFile, renderQualityGateConfig(plan));
  const run = await runQualityGate({
    configFile,
    resultsDir: options.resultsDir,
    plan,
    timeoutMs: options.timeoutMs ?? allureTimeoutMs(options.resultFileCount),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { plan, configFile, run };
}

/** The record written to `quality-gate.json`, comparing the gate's verdict with the certification's. */
export function qualityGateRecord(
  plan: GatePlan,
  run: QualityGateRun,
  verdict: Verdict,
  configFile: string,
): QualityGateRecord {
  const implied = gateVerdict(run, plan.partial);
  return qualityGateRecordSchema.parse({
    schemaVersion: 1,
    command: run.command,
    exitCode: run.exitCode,
    durationMs: Math.round(run.durationMs),
    outcome: run.outcome,
    gateVerdict: implied,
    verdict,
    agrees: implied === verdict,
    failedRules: [...run.failedRules],
    rulesets: plan.rulesets.map((r) => ({ id: r.id, tier: r.tier, description: r.description, rules: { ...r.rules } })),
    config: configFile,
    output: tail(run.output, 60),
  });
}

/** One line for people: what the gate said and whether it matches. */
export function describeQualityGate(record: QualityGateRecord): string {
  if (record.outcome === 'error') return `Allure quality gate did not evaluate (${record.output.split('\n')[0] ?? ''})`;
  const said = `Allure quality gate ${record.outcome} (${record.failedRules.length.toString()} rule(s) failed) -> ${record.gateVerdict ?? 'none'}`;
  return record.agrees ? `${said}, agrees with the verdict` : `${said}, but the verdict is ${record.verdict}`;
}

/**
 * The certification as the gate leaves it: `crossCheck` records the agreement; a gate that disagrees or did
 * not evaluate withdraws the verdict (NOT_CERTIFIED or FAILED_PARTIAL, exit 3, no validity) with the reason.
 */
export function confirmByQualityGate(cert: Certification, record: QualityGateRecord): Certification {
  return applyQualityGate(cert, {
    agrees: record.agrees,
    why: `HARNESS ERROR: ${describeQualityGate(record)}; the policy's verdict ${record.verdict} is not confirmed, so it is withdrawn (see quality-gate.json).`,
  });
}
