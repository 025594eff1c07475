import { describe, expect, it } from 'vitest';
import { checkResultSchema } from '../core/check-result.ts';
import type { CheckResult, CheckResultInput } from '../core/check-result.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import { defaultPolicy } from '../config/schema.ts';
import { certificationSchema, certifyChecks } from './certification.ts';
import { tallyStage } from './pass-rates.ts';
import { evaluateVerdict } from './verdict.ts';

const ALL: Stage[] = [...STAGES];
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
const many = (n: number, stage: Stage, status: CheckResult['status']): CheckResult[] =>
  Array.from({ length: n }, () => check(stage, status));
const allPassing = (): CheckResult[] => STAGES.filter((s) => s !== 'security').map((stage) => check(stage, 'passed'));

const refreshNa = (): CheckResult =>
  check('security', 'not-applicable', {
    id: 'security.authn.refresh-reuse',
    severity: 'critical',
    message: 'Not applicable: no refresh tokens',
    tags: ['not-applicable'],
  });
const lockoutNa = (): CheckResult =>
  check('security', 'not-applicable', {
    id: 'security.authn.lockout',
    severity: 'critical',
    message: 'Not applicable: logins are rate limited, accounts are never locked',
    tags: ['not-applicable'],
  });

function certify(checks: readonly CheckResult[]) {
  return certifyChecks({
    checks,
    invalid: [],
    runId: 'na',
    policy: defaultPolicy(),
    enabledStages: ALL,
    selectedStages: ALL,
    startedAt: new Date('2026-12-01T10:00:00.000Z'),
    finishedAt: new Date('2026-12-01T10:20:00.000Z'),
    seed: 1,
    git: { sha: null, dirty: null },
    reportPath: null,
  });
}

describe('not-applicable checks (issue 14 point 3)', () => {
  it('a check is not applicable only with a reason', () => {
    const bare = { id: 'security.authn.lockout', stage: 'security', name: 'n', feature: 'f', severity: 'critical' };
    const parse = (message?: string) =>
      checkResultSchema.safeParse({
        ...bare,
        status: 'not-applicable',
        startedAt: 0,
        finishedAt: 0,
        ...(message === undefined ? {} : { message }),
      });
    expect(parse().success).toBe(false);
    expect(parse('  ').success).toBe(false);
    expect(parse('Not applicable: no lockout').success).toBe(true);
  });

  it('is never passed and never due: 18 passed + 2 not-applicable critical is 100% of 18', () => {
    const tally = tallyStage(
      'security',
      [...many(18, 'security', 'passed'), refreshNa(), lockoutNa()],
      defaultPolicy(),
    );
    expect(tally.counts).toMatchObject({ passed: 18, 'not-applicable': 2 });
    expect(tally.due).toBe(18);
    expect(tally.passRate).toBe(1);
    expect(tally.status).toBe('passed');
    expect(tally.executed).toBe(18);
  });

  it('18 passed + 2 not-applicable critical checks are CERTIFIED, both listed as not covered with their reasons', () => {
    const cert = certify([...allPassing(), ...many(18, 'security', 'passed'), refreshNa(), lockoutNa()]);
    expect(cert.verdict).toBe('CERTIFIED');
    expect(cert.exitCode).toBe(0);
    expect(cert.criticalFailures).toEqual([]);
    expect(cert.stages.security.notPassed).toEqual([]);
    expect(cert.stages.security.counts['not-applicable']).toBe(2);
    expect(cert.notCovered).toEqual([
      {
        check: 'security.authn.refresh-reuse',
        stage: 'security',
        reason: 'Not applicable: no refresh tokens',
        kind: 'not-applicable',
        critical: true,
      },
      {
        check: 'security.authn.lockout',
        stage: 'security',
        reason: 'Not applicable: logins are rate limited, accounts are never locked',
        kind: 'not-applicable',
        critical: true,
      },
    ]);
    expect(certificationSchema.parse(JSON.parse(JSON.stringify(cert)))).toEqual(cert);
  });

  it('a not-configured family is listed as not covered of kind not-configured', () => {
    const family = check('security', 'not-applicable', {
      id: 'security.ratelimit.not-configured',
      message: 'Not configured: security.rateLimit is not set',
      tags: ['security', 'not-configured'],
    });
    const cert = certify([...allPassing(), check('security', 'passed'), family]);
    expect(cert.verdict).toBe('CERTIFIED');
    expect(cert.notCovered).toEqual([
      {
        check: 'security.ratelimit.not-configured',
        stage: 'security',
        reason: 'Not configured: security.rateLimit is not set',
        kind: 'not-configured',
        critical: false,
      },
    ]);
  });

  it('a stage whose checks are all not applicable has nothing due: unknown, and it blocks', () => {
    const result = evaluateVerdict({
      checks: [...allPassing(), refreshNa(), lockoutNa()],
      enabledStages: ALL,
      selectedStages: ALL,
      policy: defaultPolicy(),
    });
    expect(result.stages.security.status).toBe('unknown');
    expect(result.stages.security.passRate).toBeNull();
    expect(result.verdict).toBe('NOT_CERTIFIED');
    expect(result.exitCode).toBe(3);
    expect(result.reasons.map((r) => r.text)).toContain(
      'Stage security is mandatory but no check was due (2 not-applicable, all skippable or not applicable): its status is unknown.',
    );
  });

  it('a critical id the policy names is present when it is recorded not applicable', () => {
    const result = evaluateVerdict({
      checks: [...allPassing(), check('security', 'passed'), lockoutNa()],
      enabledStages: ALL,
      selectedStages: ALL,
      policy: {
        ...defaultPolicy(),
        critical: { severities: ['blocker', 'critical'], ids: ['security.authn.lockout'] },
      },
    });
    expect(result.verdict).toBe('CERTIFIED');
    expect(result.notCovered.map((n) => [n.check, n.critical])).toEqual([['security.authn.lockout', true]]);
  });

  it('reads a schemaVersion 2 certification written before notCovered existed', () => {
    const cert = JSON.parse(JSON.stringify(certify([...allPassing(), check('security', 'passed')]))) as Record<
      string,
      unknown
    >;
    delete cert['notCovered'];
    const stages = cert['stages'] as Record<string, { counts: Record<string, number> }>;
    for (const entry of Object.values(stages)) delete entry.counts['not-applicable'];
    const read = certificationSchema.parse(cert);
    expect(read.notCovered).toEqual([]);
    expect(read.stages.boot.counts['not-applicable']).toBe(0);
  });
});
