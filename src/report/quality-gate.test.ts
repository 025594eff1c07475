import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certifyRun, readCertification } from '../certify/certification.ts';
import type { CheckResultInput } from '../core/check-result.ts';
import { createRedactor } from '../core/redact.ts';
import { writeCheckResult } from '../core/results.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import { defaultPolicy } from '../config/schema.ts';
import type { PolicyConfig } from '../config/schema.ts';
import {
  confirmByQualityGate,
  countResultFiles,
  evaluateQualityGate,
  gateVerdict,
  parseGateFailures,
  planQualityGate,
  qualityGateRecord,
} from './quality-gate.ts';

const FIXTURES = new URL('../../test/fixtures/', import.meta.url).pathname;
const ALL: Stage[] = [...STAGES];

function policy(overrides: Partial<PolicyConfig> = {}): PolicyConfig {
  return { ...defaultPolicy(), ...overrides };
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'readiness-gate-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
type CheckSpec = Partial<CheckResultInput> & Pick<CheckResultInput, 'stage' | 'status'>;

/**
 * Writes the checks as Allure results, certifies them and runs the real `allure quality-gate` on
 * the same directory; returns both verdicts.
 */
async function crossCheck(
  checks: readonly CheckSpec[],
  options: { policy?: PolicyConfig; selected?: Stage[]; extraFiles?: [string, string][] } = {},
): Promise<{ verdict: string; gate: string | null; failed: string[] }> {
  counter += 1;
  const runDir = join(root, `run-${counter.toString()}`);
  const resultsDir = join(runDir, 'allure-results');
  const redact = createRedactor([]);
  for (const [i, spec] of checks.entries()) {
    await writeCheckResult(
      resultsDir,
      {
        id: `${spec.stage}.c${i.toString()}`,
        name: `check ${i.toString()}`,
        feature: 'f',
        severity: 'normal',
        startedAt: 1,
        finishedAt: 2,
        ...spec,
      },
      redact,
    );
  }
  for (const [source, name] of options.extraFiles ?? []) await copyFile(source, join(resultsDir, name));
  const thePolicy = options.policy ?? policy();
  const selected = options.selected ?? ALL;
  const cert = await certifyRun({
    resultsDir,
    runId: 'r',
    policy: thePolicy,
    enabledStages: ALL,
    selectedStages: selected,
    startedAt: new Date(0),
    finishedAt: new Date(1),
    seed: 1,
    git: { sha: null, dirty: null },
    reportPath: null,
  });
  const { plan, run, configFile } = await evaluateQualityGate({
    runDir,
    resultsDir,
    policy: thePolicy,
    enabledStages: ALL,
    selectedStages: selected,
    resultFileCount: await countResultFiles(resultsDir),
  });
  expect(run.outcome, run.output).not.toBe('error');
  const implied = gateVerdict(run, plan.partial);
  expect(qualityGateRecord(plan, run, cert.verdict, configFile).agrees).toBe(implied === cert.verdict);
  return { verdict: cert.verdict, gate: implied, failed: run.failedRules.map((r) => r.rule) };
}

const passingRun = (): CheckSpec[] => STAGES.map((stage) => ({ stage, status: 'passed' }));
const many = (n: number, spec: CheckSpec): CheckSpec[] => Array.from({ length: n }, () => ({ ...spec }));

// Each test runs the real Allure CLI once or twice (1-3 s each on a quiet machine): a budget that survives a busy one.
describe('allure quality-gate configured from the policy agrees with the verdict', { timeout: 60_000 }, () => {
  it('CERTIFIED: every stage at its minimum and no critical failure', async () => {
    expect(await crossCheck(passingRun())).toEqual({ verdict: 'CERTIFIED', gate: 'CERTIFIED', failed: [] });
  });

  it('CONDITIONAL: a non-critical shortfall within the margin fails only the certify tier', async () => {
    const result = await crossCheck([
      ...passingRun(),
      ...many(18, { stage: 'load', status: 'passed' }),
      { stage: 'load', status: 'failed' },
    ]);
    expect(result).toEqual({
      verdict: 'CONDITIONAL',
      gate: 'CONDITIONAL',
      failed: ['certify:load/pass-rate/readinessPassRate'],
    });
  });

  it('NOT_CERTIFIED: a failed critical check blocks despite a high average', async () => {
    const result = await crossCheck(
      [
        ...passingRun(),
        ...many(99, { stage: 'security', status: 'passed' }),
        { stage: 'security', status: 'failed', severity: 'critical' },
      ],
      { policy: policy({ stages: { security: { minPassRate: 0.9, weight: 1 } } }) },
    );
    expect(result).toEqual({ verdict: 'NOT_CERTIFIED', gate: 'NOT_CERTIFIED', failed: ['block:critical/maxCount'] });
  });

  it('NOT_CERTIFIED: an unknown check makes its stage unknown even with a minimum of 0', async () => {
    const result = await crossCheck([...passingRun(), { stage: 'chaos', status: 'unknown' }], {
      policy: policy({ stages: { chaos: { minPassRate: 0, weight: 1 } } }),
    });
    expect(result.verdict).toBe('NOT_CERTIFIED');
    expect(result.gate).toBe('NOT_CERTIFIED');
    expect(result.failed).toEqual(['block:chaos/no-evidence/maxCount']);
  });

  it('skipped never counts as passed and blocks, unless the policy lists the id as skippable', async () => {
    const checks: CheckSpec[] = [...passingRun(), ...many(9, { stage: 'security', status: 'passed' })];
    checks.push({ stage: 'security', status: 'skipped', id: 'security.zap.baseline' });
    const strict = await crossCheck(checks);
    expect(strict).toMatchObject({ verdict: 'NOT_CERTIFIED', gate: 'NOT_CERTIFIED' });
    expect(strict.failed).toContain('block:security/no-evidence/maxCount');
    const lenient = await crossCheck(checks, { policy: policy({ skippable: ['security.zap*'] }) });
    expect(lenient).toEqual({ verdict: 'CERTIFIED', gate: 'CERTIFIED', failed: [] });
  });

  it('a not-applicable critical check neither passes nor blocks in the gate; a stage of only such checks blocks', async () => {
    const notApplicable = (id: string): CheckSpec => ({
      stage: 'security',
      status: 'not-applicable',
      id,
      severity: 'critical',
      message: 'Not applicable: the service has no such feature',
      tags: ['not-applicable'],
    });
    const covered = await crossCheck([
      ...passingRun(),
      ...many(17, { stage: 'security', status: 'passed' }),
      notApplicable('security.authn.refresh-reuse'),
      notApplicable('security.authn.lockout'),
    ]);
    expect(covered).toEqual({ verdict: 'CERTIFIED', gate: 'CERTIFIED', failed: [] });
    const nothingDue = await crossCheck([
      ...passingRun().filter((c) => c.stage !== 'security'),
      notApplicable('security.authn.refresh-reuse'),
    ]);
    expect(nothingDue).toMatchObject({ verdict: 'NOT_CERTIFIED', gate: 'NOT_CERTIFIED' });
    expect(nothingDue.failed).toContain('block:security/executed/minTestsCount');
  });

  it('NOT_CERTIFIED: a missing stage, a missing critical id and a foreign result file all block', async () => {
    const result = await crossCheck(
      passingRun().filter((c) => c.stage !== 'recovery'),
      {
        policy: policy({ critical: { severities: ['blocker', 'critical'], ids: ['chaos.db-latency'] } }),
        extraFiles: [[join(FIXTURES, 'certify/foreign-result.json'), 'foreign-result.json']],
      },
    );
    expect(result.verdict).toBe('NOT_CERTIFIED');
    expect(result.gate).toBe('NOT_CERTIFIED');
    expect(result.failed).toEqual(
      expect.arrayContaining([
        'block:results-are-checks/maxCount',
        'block:recovery/executed/minTestsCount',
        'block:recovery/pass-rate/readinessPassRate',
        'block:critical-present/chaos.db-latency/minTestsCount',
      ]),
    );
  });

  it('a truncated result file Allure cannot read fails the gate as well as the verdict', async () => {
    const result = await crossCheck(passingRun(), {
      extraFiles: [[join(FIXTURES, 'certify/truncated-result.json.partial'), 'truncated-result.json']],
    });
    expect(result).toMatchObject({ verdict: 'NOT_CERTIFIED', gate: 'NOT_CERTIFIED' });
    expect(result.failed).toContain('block:results-readable/minTestsCount');
  });

  it('a stage marked mandatory: false is reported but gates nothing, in the gate as in the verdict', async () => {
    const optional = { minPassRate: 1, weight: 1, mandatory: false };
    const result = await crossCheck(
      [...passingRun(), { stage: 'chaos', status: 'failed' }, { stage: 'chaos', status: 'unknown' }],
      { policy: policy({ stages: { chaos: optional } }) },
    );
    expect(result).toEqual({ verdict: 'CERTIFIED', gate: 'CERTIFIED', failed: [] });
  });

  it('a partial run is judged on its selected stages only, and is never CERTIFIED', async () => {
    const result = await crossCheck([{ stage: 'boot', status: 'passed' }], { selected: ['boot'] });
    expect(result).toEqual({ verdict: 'PASSED_PARTIAL', gate: 'PASSED_PARTIAL', failed: [] });
    const failed = await crossCheck(
      [...many(19, { stage: 'boot', status: 'passed' }), { stage: 'boot', status: 'failed' }],
      { selected: ['boot'] },
    );
    expect(failed).toMatchObject({ verdict: 'FAILED_PARTIAL', gate: 'FAILED_PARTIAL' });
  });

  it('a broken check blocks in the gate as in the verdict, even when the pass rate absorbs it', async () => {
    const result = await crossCheck(
      [...passingRun(), ...many(19, { stage: 'load', status: 'passed' }), { stage: 'load', status: 'broken' }],
      { policy: policy({ stages: { load: { minPassRate: 0.9, weight: 1 } } }) },
    );
    expect(result).toEqual({
      verdict: 'NOT_CERTIFIED',
      gate: 'NOT_CERTIFIED',
      failed: ['block:load/no-evidence/maxCount'],
    });
  });
});

describe('quality gate plan and output', () => {
  it('plans a block and a certify pass-rate rule per mandatory stage from the policy', () => {
    const plan = planQualityGate({
      policy: policy({ stages: { load: { minPassRate: 0.95, weight: 2 } }, conditionalMargin: 0.05 }),
      enabledStages: ['boot', 'load'],
      selectedStages: ['boot', 'load'],
      resultFileCount: 12,
    });
    const byId = Object.fromEntries(plan.rulesets.map((r) => [r.id, r.rules]));
    expect(byId['block:results-readable']).toEqual({ minTestsCount: 12 });
    expect(byId['certify:load/pass-rate']).toEqual({ readinessPassRate: 0.95 });
    expect(byId['block:load/pass-rate']?.readinessPassRate).toBeCloseTo(0.9, 10);
    expect(byId['certify:boot/pass-rate']).toEqual({ readinessPassRate: 1 });
    expect(plan.rulesets.some((r) => r.id.includes('chaos'))).toBe(false);
  });

  it('reads the failed rules from a recorded allure quality-gate output', async () => {
    const output = await readFile(join(FIXTURES, 'report/quality-gate-failed.txt'), 'utf8');
    const plan = planQualityGate({
      policy: policy({ stages: Object.fromEntries(ALL.map((s) => [s, { minPassRate: 0.97, weight: 1 }])) }),
      enabledStages: ALL,
      selectedStages: ALL,
      resultFileCount: 1000,
    });
    const failures = parseGateFailures(output, plan);
    expect(failures?.map((f) => [f.tier, f.rule])).toEqual([
      ['certify', 'certify:boot/pass-rate/readinessPassRate'],
      ['certify', 'certify:security/pass-rate/readinessPassRate'],
      ['certify', 'certify:chaos/pass-rate/readinessPassRate'],
      ['certify', 'certify:recovery/pass-rate/readinessPassRate'],
      ['block', 'block:critical/maxCount'],
    ]);
    expect(failures?.[0]?.message).toBe('Pass rate 96.41% (161/167) is below 97%');
    expect(gateVerdict({ outcome: 'failed', failedRules: failures ?? [] })).toBe('NOT_CERTIFIED');
    // A rule the plan does not know means the output was not understood: no guess.
    expect(parseGateFailures(' ⨯ something    block:other/maxCount\n', plan)).toBeUndefined();
  });

  it('records a gate that could not run as an error that agrees with nothing', () => {
    const plan = planQualityGate({ policy: policy(), enabledStages: ALL, selectedStages: ALL, resultFileCount: 0 });
    const record = qualityGateRecord(
      plan,
      {
        command: 'allure quality-gate',
        exitCode: null,
        durationMs: 0,
        outcome: 'error',
        failedRules: [],
        output: 'boom',
      },
      'NOT_CERTIFIED',
      'x.mjs',
    );
    expect(record).toMatchObject({ outcome: 'error', gateVerdict: null, agrees: false });
  });

  it('withdraws the verdict in the certification when the gate does not confirm it', async () => {
    const cert = await readCertification(join(FIXTURES, 'certify/certification.v2-partial.json'));
    const plan = planQualityGate({
      policy: policy(),
      enabledStages: ALL,
      selectedStages: ['boot'],
      resultFileCount: 1,
    });
    const run = {
      command: 'allure quality-gate',
      exitCode: null,
      durationMs: 0,
      outcome: 'error' as const,
      failedRules: [],
      output: 'boom',
    };
    const withdrawn = confirmByQualityGate(cert, qualityGateRecord(plan, run, cert.verdict, 'x.mjs'));
    expect(withdrawn).toMatchObject({
      verdict: 'FAILED_PARTIAL',
      exitCode: 3,
      validUntil: null,
      crossCheck: { qualityGate: 'disagrees', policyVerdict: 'PASSED_PARTIAL' },
    });
    expect(withdrawn.reasons[0]).toBe(
      "HARNESS ERROR: Allure quality gate did not evaluate (boom); the policy's verdict PASSED_PARTIAL is not confirmed, so it is withdrawn (see quality-gate.json).",
    );
    const passed = { ...run, outcome: 'passed' as const, exitCode: 0 };
    expect(confirmByQualityGate(cert, qualityGateRecord(plan, passed, cert.verdict, 'x.mjs'))).toEqual({
      ...cert,
      crossCheck: { qualityGate: 'agrees', policyVerdict: 'PASSED_PARTIAL' },
    });
  });
});
