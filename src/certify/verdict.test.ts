import { describe, expect, it } from 'vitest';
import { checkResultSchema } from '../core/check-result.ts';
import type { CheckResult, CheckResultInput } from '../core/check-result.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import { defaultPolicy } from '../config/schema.ts';
import type { PolicyConfig } from '../config/schema.ts';
import { tallyStage, worstStatus } from './pass-rates.ts';
import { isCritical, isDue, matchesIdPattern } from './policy.ts';
import { evaluateVerdict, verdictExitCode } from './verdict.ts';
import type { Verdict } from './verdict.ts';

const ALL: Stage[] = [...STAGES];

function policy(overrides: Partial<PolicyConfig> = {}): PolicyConfig {
  return { ...defaultPolicy(), ...overrides };
}

let counter = 0;
function check(stage: Stage, status: CheckResult['status'], extra: Partial<CheckResultInput> = {}): CheckResult {
  counter += 1;
  return checkResultSchema.parse({
    id: `${stage}.check-${counter.toString()}`,
    stage,
    name: `${stage} check ${counter.toString()}`,
    feature: 'general',
    status,
    severity: 'normal',
    startedAt: 1_000,
    finishedAt: 2_000,
    ...extra,
  });
}

const many = (
  n: number,
  stage: Stage,
  status: CheckResult['status'],
  extra: Partial<CheckResultInput> = {},
): CheckResult[] => Array.from({ length: n }, () => check(stage, status, extra));

/** One passed check in every stage: the baseline of a certified full run. */
const allPassing = (): CheckResult[] => STAGES.map((stage) => check(stage, 'passed'));

describe('stage pass rates', () => {
  it('takes the worst status in the order failed > broken > unknown > skipped > passed', () => {
    expect(worstStatus(['passed', 'skipped', 'broken', 'unknown'])).toBe('broken');
    expect(worstStatus(['passed', 'skipped', 'unknown'])).toBe('unknown');
    expect(worstStatus(['passed', 'failed', 'broken'])).toBe('failed');
    expect(worstStatus(['passed', 'skipped'])).toBe('skipped');
    expect(worstStatus([])).toBeUndefined();
  });

  it('gives a stage with zero checks status unknown and no pass rate, never 100%', () => {
    const tally = tallyStage('load', [check('boot', 'passed')], policy());
    expect(tally).toMatchObject({ status: 'unknown', passRate: null, due: 0, executed: 0 });
    expect(tally.counts).toEqual({ passed: 0, failed: 0, broken: 0, skipped: 0, unknown: 0, 'not-applicable': 0 });
  });

  it('counts a skipped check as due and not passed unless the policy lists it as skippable', () => {
    const checks = [
      check('security', 'passed', { id: 'security.headers' }),
      check('security', 'skipped', { id: 'security.zap.baseline' }),
    ];
    const strict = tallyStage('security', checks, policy());
    expect(strict).toMatchObject({ passRate: 0.5, due: 2, status: 'skipped' });
    const lenient = tallyStage('security', checks, policy({ skippable: ['security.zap*'] }));
    expect(lenient).toMatchObject({ passRate: 1, due: 1, status: 'passed' });
    expect(lenient.counts.skipped).toBe(1);
  });

  it('never excludes a skippable id that did not skip: a failed skippable check still counts', () => {
    const failed = check('security', 'failed', { id: 'security.zap.full' });
    expect(isDue(failed, policy({ skippable: ['security.zap*'] }))).toBe(true);
    expect(tallyStage('security', [failed], policy({ skippable: ['security.zap*'] }))).toMatchObject({
      passRate: 0,
      status: 'failed',
    });
  });

  it('matches exact ids and prefixes ending in *', () => {
    expect(matchesIdPattern('security.zap.baseline', ['security.zap*'])).toBe(true);
    expect(matchesIdPattern('security.zapper', ['security.zap'])).toBe(false);
    expect(matchesIdPattern('security.zap', ['security.zap'])).toBe(true);
    expect(
      isCritical(
        check('boot', 'passed', { severity: 'minor', id: 'boot.readiness-truth' }),
        policy({ critical: { severities: [], ids: ['boot.readiness-*'] } }),
      ),
    ).toBe(true);
    expect(isCritical(check('boot', 'passed', { severity: 'blocker' }), policy())).toBe(true);
    expect(isCritical(check('boot', 'passed', { severity: 'normal' }), policy())).toBe(false);
  });
});

describe('verdict', () => {
  it('certifies a full run where every stage meets its minimum and every critical check passed', () => {
    const result = evaluateVerdict({ checks: allPassing(), enabledStages: ALL, selectedStages: ALL, policy: policy() });
    expect(result.verdict).toBe('CERTIFIED');
    expect(result.exitCode).toBe(0);
    expect(result.reasons).toEqual([]);
    expect(result.partial).toBe(false);
    expect(result.score).toBe(1);
    for (const stage of STAGES)
      expect(result.stages[stage]).toMatchObject({ status: 'passed', passRate: 1, role: 'mandatory', minPassRate: 1 });
  });

  it('blocks on a mandatory stage whose status is unknown, as a harness problem (exit 3)', () => {
    const checks = [...allPassing().filter((c) => c.stage !== 'chaos'), ...many(2, 'chaos', 'unknown')];
    const result = evaluateVerdict({
      checks,
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ stages: { chaos: { minPassRate: 0, weight: 1 } } }),
    });
    expect(result.stages.chaos.status).toBe('unknown');
    expect(result.verdict).toBe('NOT_CERTIFIED');
    expect(result.exitCode).toBe(3);
    expect(result.reasons.map((r) => r.text).join('\n')).toMatch(
      /Stage chaos is mandatory and 2 due check\(s\) are unknown, with no evidence/,
    );
  });

  it('blocks when one due check of a stage is unknown even if the rest passed', () => {
    const checks = [...allPassing(), check('load', 'unknown')];
    const result = evaluateVerdict({
      checks,
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ stages: { load: { minPassRate: 0.5, weight: 1 } } }),
    });
    expect(result.stages.load).toMatchObject({ status: 'unknown', passRate: 0.5 });
    expect(result.verdict).toBe('NOT_CERTIFIED');
  });

  it('treats a mandatory stage with no checks at all as unknown, never 100%, and blocks', () => {
    const checks = allPassing().filter((c) => c.stage !== 'recovery');
    const result = evaluateVerdict({ checks, enabledStages: ALL, selectedStages: ALL, policy: policy() });
    expect(result.stages.recovery).toMatchObject({ status: 'unknown', passRate: null, role: 'mandatory', due: 0 });
    expect(result.verdict).toBe('NOT_CERTIFIED');
    expect(result.exitCode).toBe(3);
    expect(result.reasons.map((r) => r.text)).toContain(
      'Stage recovery is mandatory but has no check results: it did not run or wrote nothing.',
    );
    expect(result.score).toBeCloseTo(5 / 6, 10);
  });

  it('blocks when every check of a mandatory stage was skippable and skipped (nothing due)', () => {
    const checks = [
      ...allPassing().filter((c) => c.stage !== 'security'),
      check('security', 'skipped', { id: 'security.zap.baseline' }),
    ];
    const result = evaluateVerdict({
      checks,
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ skippable: ['security.zap*'] }),
    });
    expect(result.stages.security).toMatchObject({ status: 'unknown', passRate: null, due: 0 });
    expect(result.verdict).toBe('NOT_CERTIFIED');
  });

  it('blocks a stage that executed nothing even when its minimum pass rate is 0', () => {
    const checks = [...allPassing().filter((c) => c.stage !== 'load'), ...many(2, 'load', 'skipped')];
    const result = evaluateVerdict({
      checks,
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ stages: { load: { minPassRate: 0, weight: 1 } } }),
    });
    expect(result.stages.load).toMatchObject({ status: 'skipped', passRate: 0 });
    expect(result.verdict).toBe('NOT_CERTIFIED');
    // Nothing failed: blocked by policy, so exit 3, not 1.
    expect(result.exitCode).toBe(3);
    expect(result.reasons.map((r) => r.text).join('\n')).toMatch(
      /Stage load is mandatory but executed no check: all 2 due check\(s\) were skipped/,
    );
  });

  it('blocks on a failed critical check despite a high average, with its remediation', () => {
    const checks = [
      ...allPassing(),
      ...many(99, 'security', 'passed'),
      check('security', 'failed', {
        id: 'security.authz.admin',
        name: 'Admin routes need the admin role',
        severity: 'critical',
        message: 'GET /admin -> 200 as viewer',
        remediation: 'Check the role guard on /admin',
      }),
    ];
    const result = evaluateVerdict({
      checks,
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ stages: { security: { minPassRate: 0.9, weight: 1 } } }),
    });
    expect(result.stages.security.passRate).toBeCloseTo(100 / 101, 10);
    expect(result.score).toBeGreaterThan(0.99);
    expect(result.verdict).toBe('NOT_CERTIFIED');
    expect(result.exitCode).toBe(1);
    expect(result.criticalFailures).toEqual([
      {
        stage: 'security',
        check: 'security.authz.admin',
        name: 'Admin routes need the admin role',
        message: 'GET /admin -> 200 as viewer',
        remediation: 'Check the role guard on /admin',
      },
    ]);
    expect(result.reasons.map((r) => r.text)).toEqual([
      'Critical check security.authz.admin ("Admin routes need the admin role") in stage security is failed: GET /admin -> 200 as viewer',
    ]);
  });

  it('gives a critical failure without remediation a line pointing at its evidence', () => {
    const checks = [...allPassing(), check('boot', 'broken', { id: 'boot.stack-up', severity: 'blocker' })];
    const result = evaluateVerdict({
      checks,
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ stages: { boot: { minPassRate: 0.5, weight: 1 } } }),
    });
    expect(result.criticalFailures).toHaveLength(1);
    expect(result.criticalFailures[0]?.remediation).toMatch(
      /read the evidence of check "boot\.stack-up" \(stage boot\) in the Allure report/,
    );
    expect(result.criticalFailures[0]?.message).toBe('The check ended broken without a message.');
  });

  it('treats a skipped critical check as not passed unless it is skippable', () => {
    const skippedCritical = check('security', 'skipped', { id: 'security.zap.baseline', severity: 'critical' });
    const base = allPassing();
    const strict = evaluateVerdict({
      checks: [...base, skippedCritical],
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ stages: { security: { minPassRate: 0.5, weight: 1 } } }),
    });
    expect(strict.verdict).toBe('NOT_CERTIFIED');
    expect(strict.criticalFailures.map((f) => f.check)).toEqual(['security.zap.baseline']);
    const lenient = evaluateVerdict({
      checks: [...base, skippedCritical],
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ skippable: ['security.zap*'] }),
    });
    expect(lenient.verdict).toBe('CERTIFIED');
    expect(lenient.stages.security.counts.skipped).toBe(1);
  });

  it('blocks when a critical id named by the policy has no result in a selected stage', () => {
    const result = evaluateVerdict({
      checks: allPassing(),
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ critical: { severities: ['blocker', 'critical'], ids: ['chaos.db-latency'] } }),
    });
    expect(result.verdict).toBe('NOT_CERTIFIED');
    expect(result.exitCode).toBe(3);
    expect(result.criticalFailures).toMatchObject([
      { stage: 'chaos', check: 'chaos.db-latency', message: 'No result was recorded for this critical check.' },
    ]);
  });

  it('is CONDITIONAL for a non-critical shortfall within the margin, NOT_CERTIFIED beyond it', () => {
    const within = [
      ...allPassing().filter((c) => c.stage !== 'load'),
      ...many(19, 'load', 'passed'),
      check('load', 'failed', { id: 'load.p99' }),
    ];
    const conditional = evaluateVerdict({ checks: within, enabledStages: ALL, selectedStages: ALL, policy: policy() });
    expect(conditional.stages.load.passRate).toBe(0.95);
    expect(conditional.verdict).toBe('CONDITIONAL');
    expect(conditional.exitCode).toBe(4);
    expect(conditional.reasons).toHaveLength(1);
    expect(conditional.reasons[0]?.text).toBe(
      'Stage load pass rate 95% (19/20) is below its minimum 100% by 5%, within the conditional margin 10%; not passed: load.p99.',
    );
    const nonBlocking = evaluateVerdict({
      checks: within,
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ conditionalExitCode: 0 }),
    });
    expect(nonBlocking).toMatchObject({ verdict: 'CONDITIONAL', exitCode: 0 });

    const beyond = [
      ...allPassing().filter((c) => c.stage !== 'load'),
      ...many(8, 'load', 'passed'),
      ...many(2, 'load', 'failed'),
    ];
    const notCertified = evaluateVerdict({
      checks: beyond,
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ conditionalMargin: 0.15 }),
    });
    expect(notCertified.verdict).toBe('NOT_CERTIFIED');
    expect(notCertified.exitCode).toBe(1);
    expect(notCertified.reasons[0]?.text).toMatch(
      /Stage load pass rate 80% \(8\/10\) is below its minimum 100% by 20%, beyond the conditional margin 15%/,
    );
  });

  it('judges a shortfall exactly at the margin as CONDITIONAL despite floating point (0.8 - 0.7)', () => {
    const checks = [
      ...allPassing().filter((c) => c.stage !== 'load'),
      ...many(7, 'load', 'passed'),
      ...many(3, 'load', 'failed'),
    ];
    const result = evaluateVerdict({
      checks,
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ stages: { load: { minPassRate: 0.8, weight: 1 } } }),
    });
    expect(result.verdict).toBe('CONDITIONAL');
  });

  it('is never CONDITIONAL when a shortfall comes with a critical failure or an unknown stage', () => {
    const shortfall = [
      ...allPassing().filter((c) => c.stage !== 'load'),
      ...many(19, 'load', 'passed'),
      check('load', 'failed'),
    ];
    const withCritical = evaluateVerdict({
      checks: [...shortfall, check('boot', 'failed', { severity: 'critical' })],
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ stages: { boot: { minPassRate: 0.5, weight: 1 } } }),
    });
    expect(withCritical.verdict).toBe('NOT_CERTIFIED');
    const withUnknown = evaluateVerdict({
      checks: shortfall.filter((c) => c.stage !== 'chaos'),
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy(),
    });
    expect(withUnknown.verdict).toBe('NOT_CERTIFIED');
    expect(withUnknown.reasons.filter((r) => r.effect === 'conditional')).toHaveLength(1);
  });

  describe('a partial run (issue 15 point 1)', () => {
    const partialOf = (checks: CheckResult[], extra: Partial<PolicyConfig> = {}) =>
      evaluateVerdict({ checks, enabledStages: ALL, selectedStages: ['boot', 'contract'], policy: policy(extra) });

    it('is never a certification: PASSED_PARTIAL, exit 0, listing the stages not run; their critical checks ignored', () => {
      const result = partialOf(
        [check('boot', 'passed'), check('contract', 'passed'), check('load', 'failed', { severity: 'blocker' })],
        { critical: { severities: ['blocker', 'critical'], ids: ['chaos.db-latency'] } },
      );
      expect(result).toMatchObject({ partial: true, verdict: 'PASSED_PARTIAL', exitCode: 0, reasons: [] });
      expect(result.stagesNotRun).toEqual(['security', 'load', 'chaos', 'recovery']);
      expect(result.stages.boot).toMatchObject({ status: 'passed', role: 'mandatory' });
      for (const stage of ['security', 'load', 'chaos', 'recovery'] as const) {
        expect(result.stages[stage]).toMatchObject({ status: 'skipped', role: 'not-run', passRate: null });
      }
      expect(result.stages.load.counts.failed).toBe(1);
      expect(result.criticalFailures).toEqual([]);
      expect(result.score).toBe(1);
    });

    it('is FAILED_PARTIAL with exit 1 when a selected stage failed a check, even within the conditional margin', () => {
      const result = partialOf([
        check('boot', 'passed'),
        ...many(19, 'contract', 'passed'),
        check('contract', 'failed', { id: 'contract.orders.web.get' }),
      ]);
      expect(result).toMatchObject({ verdict: 'FAILED_PARTIAL', exitCode: 1 });
      expect(result.reasons.map((r) => r.effect)).toEqual(['conditional']);
    });

    it('is FAILED_PARTIAL with exit 3 when only evidence is missing', () => {
      const result = partialOf([check('boot', 'passed'), check('contract', 'unknown')]);
      expect(result).toMatchObject({ verdict: 'FAILED_PARTIAL', exitCode: 3 });
    });
  });

  it('records stages the config does not enable as skipped and not enabled, without making the run partial', () => {
    const result = evaluateVerdict({
      checks: [check('boot', 'passed')],
      enabledStages: ['boot'],
      selectedStages: ['boot'],
      policy: policy(),
    });
    expect(result).toMatchObject({ verdict: 'CERTIFIED', partial: false, stagesNotRun: [] });
    expect(result.stages.chaos).toMatchObject({ status: 'skipped', role: 'not-enabled' });
  });

  it('blocks when the run evaluates no mandatory stage at all', () => {
    const result = evaluateVerdict({
      checks: [check('load', 'passed')],
      enabledStages: ['boot'],
      selectedStages: ['load'],
      policy: policy(),
    });
    expect(result).toMatchObject({ verdict: 'FAILED_PARTIAL', exitCode: 3 });
    expect(result.reasons[0]?.text).toMatch(/No mandatory stage/);
  });

  it('blocks on invalid result files, as a harness problem', () => {
    const result = evaluateVerdict({
      checks: allPassing(),
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy(),
      invalidResults: ['abc-result.json: not a readiness check'],
    });
    expect(result).toMatchObject({ verdict: 'NOT_CERTIFIED', exitCode: 3 });
    expect(result.reasons[0]?.text).toBe(
      'Result file is not a valid readiness check: abc-result.json: not a readiness check',
    );
  });

  it('exits 3 when only broken evidence blocks, 1 as soon as any check failed', () => {
    const broken = [...allPassing(), check('chaos', 'broken', { message: 'toxic not listed after injection' })];
    expect(
      evaluateVerdict({
        checks: broken,
        enabledStages: ALL,
        selectedStages: ALL,
        policy: policy({ conditionalMargin: 0 }),
      }),
    ).toMatchObject({ verdict: 'NOT_CERTIFIED', exitCode: 3 });
    // A failed check in a stage that still meets its minimum makes the run "not certified", not a harness error.
    const alsoFailed = [...broken, ...many(9, 'load', 'passed'), check('load', 'failed')];
    const result = evaluateVerdict({
      checks: alsoFailed,
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ conditionalMargin: 0, stages: { load: { minPassRate: 0.9, weight: 1 } } }),
    });
    expect(result.reasons.every((r) => r.cause === 'evidence')).toBe(true);
    expect(result.exitCode).toBe(1);
  });

  it('maps verdicts to exit codes: 1 only when a check failed, else 3', () => {
    const code = (verdict: Verdict, hasFailedCheck: boolean, conditionalExitCode: 0 | 4 = 4) =>
      verdictExitCode({ verdict, hasFailedCheck, conditionalExitCode });
    expect(code('CERTIFIED', false)).toBe(0);
    expect(code('CONDITIONAL', true)).toBe(4);
    expect(code('CONDITIONAL', true, 0)).toBe(0);
    expect(code('NOT_CERTIFIED', false)).toBe(3);
    expect(code('NOT_CERTIFIED', true)).toBe(1);
    expect(code('PASSED_PARTIAL', false)).toBe(0);
    expect(code('FAILED_PARTIAL', true)).toBe(1);
    expect(code('FAILED_PARTIAL', false)).toBe(3);
  });

  it('reports a weighted score that never decides the verdict', () => {
    const checks = [check('boot', 'passed'), check('load', 'passed'), check('load', 'failed')];
    const result = evaluateVerdict({
      checks,
      enabledStages: ['boot', 'load'],
      selectedStages: ['boot', 'load'],
      policy: policy({ stages: { boot: { minPassRate: 1, weight: 3 }, load: { minPassRate: 1, weight: 1 } } }),
    });
    expect(result.score).toBeCloseTo((3 * 1 + 1 * 0.5) / 4, 10);
    expect(result.verdict).toBe('NOT_CERTIFIED');
  });

  describe('a failed check does not hide an unknown or broken one (issue 15 point 2)', () => {
    const at90 = policy({ stages: { load: { minPassRate: 0.9, weight: 1 } } });
    const withLoad = (load: CheckResult[]): CheckResult[] => [
      ...allPassing().filter((c) => c.stage !== 'load'),
      ...load,
    ];

    it('blocks 18 passed + 1 failed + 1 unknown at minPassRate 0.9, listing every reason', () => {
      const checks = withLoad([
        ...many(18, 'load', 'passed'),
        check('load', 'failed', { id: 'load.baseline.p95' }),
        check('load', 'unknown', { id: 'load.soak.memory' }),
      ]);
      const result = evaluateVerdict({ checks, enabledStages: ALL, selectedStages: ALL, policy: at90 });
      expect(result.stages.load).toMatchObject({ status: 'failed', passRate: 0.9 });
      expect(result.verdict).toBe('NOT_CERTIFIED');
      expect(result.exitCode).toBe(1);
      expect(result.reasons.map((r) => r.text)).toEqual([
        'Stage load is mandatory and 1 due check(s) are unknown, with no evidence (load.soak.memory).',
      ]);
    });

    it('blocks a broken check that the pass rate would absorb, as a harness error (exit 3)', () => {
      const checks = withLoad([...many(19, 'load', 'passed'), check('load', 'broken', { id: 'load.knee' })]);
      const result = evaluateVerdict({ checks, enabledStages: ALL, selectedStages: ALL, policy: at90 });
      expect(result).toMatchObject({ verdict: 'NOT_CERTIFIED', exitCode: 3 });
      expect(result.reasons.map((r) => r.text)).toEqual([
        'Stage load is mandatory and 1 due check(s) are broken: the harness or environment failed (load.knee).',
      ]);
    });

    it('lists the unknown, the broken and the shortfall together', () => {
      const checks = withLoad([
        ...many(7, 'load', 'passed'),
        check('load', 'failed', { id: 'load.a' }),
        check('load', 'broken', { id: 'load.b' }),
        check('load', 'unknown', { id: 'load.c' }),
      ]);
      const result = evaluateVerdict({ checks, enabledStages: ALL, selectedStages: ALL, policy: at90 });
      expect(result.reasons.map((r) => r.text)).toEqual([
        'Stage load is mandatory and 1 due check(s) are unknown, with no evidence (load.c).',
        'Stage load is mandatory and 1 due check(s) are broken: the harness or environment failed (load.b).',
        'Stage load pass rate 70% (7/10) is below its minimum 90% by 20%, beyond the conditional margin 10%; not passed: load.a, load.b, load.c.',
      ]);
    });
  });

  it('records every check that did not pass with its reason, clipped to 500 characters', () => {
    const checks = [
      ...allPassing(),
      check('security', 'skipped', { id: 'security.scanner.zap', message: 'image absent' }),
      check('load', 'failed', { id: 'load.long', message: 'x'.repeat(2_000) }),
    ];
    const result = evaluateVerdict({
      checks,
      enabledStages: ALL,
      selectedStages: ALL,
      policy: policy({ skippable: ['security.scanner.zap'] }),
    });
    expect(result.stages.security.notPassed).toEqual([
      {
        check: 'security.scanner.zap',
        name: expect.any(String),
        status: 'skipped',
        due: false,
        reason: 'image absent',
      },
    ]);
    expect(result.stages.load.notPassed[0]?.reason).toHaveLength(500);
    expect(result.stages.boot.notPassed).toEqual([]);
  });

  describe('exit codes (issue 15 point 3)', () => {
    it('exits 3, not 4 or 1, when nothing failed but a non-skippable scanner was skipped, naming it with its reason', () => {
      const checks = [
        ...allPassing(),
        ...many(22, 'security', 'passed'),
        check('security', 'skipped', {
          id: 'security.scanner.zap',
          message: 'ZAP image ghcr.io/zaproxy/zaproxy is absent',
        }),
      ];
      const result = evaluateVerdict({ checks, enabledStages: ALL, selectedStages: ALL, policy: policy() });
      expect(result).toMatchObject({ verdict: 'NOT_CERTIFIED', exitCode: 3 });
      expect(result.reasons.map((r) => r.text)).toContain(
        'Stage security is mandatory and 1 due check(s) were skipped without being listed in policy.skippable (security.scanner.zap: ZAP image ghcr.io/zaproxy/zaproxy is absent).',
      );
    });

    it('exits 1 as soon as the system failed a check', () => {
      const checks = [
        ...allPassing(),
        check('security', 'skipped', { id: 'security.scanner.zap' }),
        check('boot', 'failed', { severity: 'critical' }),
      ];
      const result = evaluateVerdict({ checks, enabledStages: ALL, selectedStages: ALL, policy: policy() });
      expect(result).toMatchObject({ verdict: 'NOT_CERTIFIED', exitCode: 1 });
    });
  });

  describe('policy exceptions (issue 15 point 4)', () => {
    it('lists every weakening of the policy for the stages that run', () => {
      const result = evaluateVerdict({
        checks: allPassing(),
        enabledStages: ALL,
        selectedStages: ALL,
        policy: policy({
          stages: { load: { minPassRate: 0.9, weight: 1 }, chaos: { minPassRate: 1, weight: 1, mandatory: false } },
          critical: { severities: [], ids: [] },
          skippable: ['security.zap*'],
          conditionalMargin: 0.05,
          conditionalExitCode: 0,
        }),
      });
      expect(result.verdict).toBe('CERTIFIED');
      expect(result.policyExceptions.map((e) => [e.key, e.value])).toEqual([
        ['policy.stages.load.minPassRate', 0.9],
        ['policy.stages.chaos.mandatory', false],
        ['policy.critical.severities', []],
        ['policy.skippable', 'security.zap*'],
        ['policy.conditionalMargin', 0.05],
        ['policy.conditionalExitCode', 0],
      ]);
      expect(result.policyExceptions[0]?.text).toBe(
        'Stage load certifies with 90% of its due checks passed: up to 10% may fail.',
      );
    });

    it('has none for the strict policy', () => {
      const result = evaluateVerdict({
        checks: allPassing(),
        enabledStages: ALL,
        selectedStages: ALL,
        policy: policy({ conditionalMargin: 0 }),
      });
      expect(result.policyExceptions).toEqual([]);
    });
  });

  describe('a stage marked mandatory: false', () => {
    // `mandatory` arrives with the policy schema change of issue 8; a variable passes it either way.
    const optional = { minPassRate: 1, weight: 1, mandatory: false };

    it('runs and is reported, but its shortfall and missing evidence do not gate the verdict or the score', () => {
      const checks = [
        ...allPassing().filter((c) => c.stage !== 'chaos'),
        check('chaos', 'failed'),
        check('chaos', 'unknown'),
      ];
      const result = evaluateVerdict({
        checks,
        enabledStages: ALL,
        selectedStages: ALL,
        policy: policy({ stages: { chaos: optional } }),
      });
      expect(result.verdict).toBe('CERTIFIED');
      expect(result.stages.chaos).toMatchObject({ status: 'failed', passRate: 0, role: 'optional' });
      expect(result.score).toBe(1);
    });

    it('still blocks on its failed critical checks', () => {
      const checks = [...allPassing(), check('chaos', 'failed', { severity: 'critical', id: 'chaos.db-down' })];
      const result = evaluateVerdict({
        checks,
        enabledStages: ALL,
        selectedStages: ALL,
        policy: policy({ stages: { chaos: optional } }),
      });
      expect(result.verdict).toBe('NOT_CERTIFIED');
      expect(result.criticalFailures.map((f) => f.check)).toEqual(['chaos.db-down']);
    });

    it('is never CERTIFIED when every stage of the run is optional', () => {
      const result = evaluateVerdict({
        checks: [check('boot', 'passed')],
        enabledStages: ['boot'],
        selectedStages: ['boot'],
        policy: policy({ stages: { boot: optional } }),
      });
      expect(result.verdict).toBe('NOT_CERTIFIED');
      expect(result.reasons.map((r) => r.text)).toEqual([
        'No mandatory stage: every stage of the run [boot] is marked mandatory: false in policy.stages.',
      ]);
    });
  });
});
