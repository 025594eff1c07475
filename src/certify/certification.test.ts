import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckResultInput } from '../core/check-result.ts';
import { ReadinessError } from '../core/errors.ts';
import { createRedactor } from '../core/redact.ts';
import { writeCheckResult } from '../core/results.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import type { PolicyConfig } from '../config/schema.ts';
import {
  CERTIFICATION_FILE,
  applyQualityGate,
  certificationSchema,
  certifyRun,
  readCertification,
  writeCertification,
} from './certification.ts';
import type { CertifyRunOptions } from './certification.ts';

const FIXTURES = new URL('../../test/fixtures/certify/', import.meta.url).pathname;
const ALL: Stage[] = [...STAGES];
const POLICY: PolicyConfig = {
  stages: {},
  critical: { severities: ['blocker', 'critical'], ids: [] },
  skippable: ['security.zap*'],
  conditionalMargin: 0.1,
  validityDays: 30,
  conditionalExitCode: 4,
  strict: false,
};
const redact = createRedactor(['s3cr3t-password']);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'readiness-certify-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const resultsDir = (): string => join(dir, 'allure-results');

function options(overrides: Partial<CertifyRunOptions> = {}): CertifyRunOptions {
  return {
    resultsDir: resultsDir(),
    runId: 'run-1',
    policy: POLICY,
    enabledStages: ALL,
    selectedStages: ALL,
    startedAt: new Date('2025-01-10T10:00:00.000Z'),
    finishedAt: new Date('2025-01-10T10:20:00.000Z'),
    seed: 7,
    git: { sha: '0123456789abcdef0123456789abcdef01234567', dirty: true },
    reportPath: 'allure-report/index.html',
    ...overrides,
  };
}

async function write(
  stage: Stage,
  status: CheckResultInput['status'],
  extra: Partial<CheckResultInput> = {},
): Promise<void> {
  await writeCheckResult(
    resultsDir(),
    {
      id: `${stage}.main`,
      stage,
      name: `${stage} main check`,
      feature: 'main',
      status,
      severity: 'normal',
      startedAt: 1,
      finishedAt: 2,
      ...extra,
    },
    redact,
  );
}

async function writeAllPassing(): Promise<void> {
  for (const stage of STAGES) await write(stage, 'passed');
}

describe('certifyRun', () => {
  it('certifies from a results directory and round-trips through certification.json', async () => {
    await writeAllPassing();
    await write('security', 'skipped', { id: 'security.zap.baseline', name: 'ZAP baseline', message: 'image absent' });
    const cert = await certifyRun(options());
    expect(cert).toMatchObject({
      schemaVersion: 2,
      verdict: 'CERTIFIED',
      exitCode: 0,
      partial: false,
      stagesNotRun: [],
      reasons: [],
      score: 1,
      seed: 7,
      crossCheck: { qualityGate: 'not-evaluated', policyVerdict: 'CERTIFIED' },
    });
    expect(cert.validUntil).toBe('2025-02-09T10:20:00.000Z');
    expect(cert.stages.security).toEqual({
      status: 'passed',
      role: 'mandatory',
      passRate: 1,
      counts: { passed: 1, failed: 0, broken: 0, skipped: 1, unknown: 0, 'not-applicable': 0 },
      due: 1,
      minPassRate: 1,
      notPassed: [
        { check: 'security.zap.baseline', name: 'ZAP baseline', status: 'skipped', due: false, reason: 'image absent' },
      ],
    });
    expect(cert.policyExceptions.map((e) => e.key)).toEqual(['policy.skippable', 'policy.conditionalMargin']);
    const file = await writeCertification(join(dir, 'run'), cert);
    expect(file).toBe(join(dir, 'run', CERTIFICATION_FILE));
    expect(await readCertification(file)).toEqual(cert);
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(onDisk)).toEqual([
      'schemaVersion',
      'runId',
      'partial',
      'verdict',
      'startedAt',
      'finishedAt',
      'seed',
      'git',
      'stagesNotRun',
      'policyExceptions',
      'stages',
      'criticalFailures',
      'notCovered',
      'figures',
      'properties',
      'propertyCoverage',
      'changes',
      'reasons',
      'score',
      'exitCode',
      'crossCheck',
      'reportPath',
      'validUntil',
      'invalidResults',
    ]);
  });

  it('blocks on a result file another tool wrote and on a truncated one, listing both', async () => {
    await writeAllPassing();
    await copyFile(join(FIXTURES, 'foreign-result.json'), join(resultsDir(), 'foreign-result.json'));
    await copyFile(join(FIXTURES, 'truncated-result.json.partial'), join(resultsDir(), 'truncated-result.json'));
    const cert = await certifyRun(options());
    expect(cert.verdict).toBe('NOT_CERTIFIED');
    expect(cert.exitCode).toBe(3);
    expect(cert.validUntil).toBeNull();
    expect(cert.invalidResults).toHaveLength(2);
    expect(cert.invalidResults[0]).toMatch(/^foreign-result\.json: not a readiness check/);
    expect(cert.invalidResults[1]).toMatch(/^truncated-result\.json: /);
    expect(cert.reasons).toEqual(
      cert.invalidResults.map((entry) => `Result file is not a valid readiness check: ${entry}`),
    );
  });

  it('is NOT_CERTIFIED with exit 3 when the results directory does not exist', async () => {
    const cert = await certifyRun(options({ resultsDir: join(dir, 'missing') }));
    expect(cert).toMatchObject({ verdict: 'NOT_CERTIFIED', exitCode: 3, score: 0 });
    expect(cert.reasons).toHaveLength(6);
    for (const stage of STAGES)
      expect(cert.stages[stage]).toMatchObject({ status: 'unknown', passRate: null, role: 'mandatory' });
  });

  it('never certifies a partial run: FAILED_PARTIAL or PASSED_PARTIAL, no validity, the stages not run listed', async () => {
    for (let i = 0; i < 19; i += 1) await write('boot', 'passed', { id: `boot.c${i.toString()}` });
    await write('boot', 'failed', { id: 'boot.slow-start', message: 'ready after 61 s' });
    const failed = await certifyRun(options({ selectedStages: ['boot'] }));
    expect(failed).toMatchObject({ verdict: 'FAILED_PARTIAL', exitCode: 1, partial: true, validUntil: null });
    expect(failed.stagesNotRun).toEqual(['contract', 'security', 'load', 'chaos', 'recovery']);
    expect(failed.stages.contract).toMatchObject({ status: 'skipped', role: 'not-run', passRate: null });

    await rm(resultsDir(), { recursive: true });
    await write('boot', 'passed');
    const passed = await certifyRun(options({ selectedStages: ['boot'] }));
    expect(passed).toMatchObject({ verdict: 'PASSED_PARTIAL', exitCode: 0, validUntil: null, reasons: [] });
    expect(await readCertification(await writeCertification(dir, passed))).toEqual(passed);
  });

  it('lists the stages not run in stage order whatever the order of the config', async () => {
    await write('load', 'passed');
    const cert = await certifyRun(
      options({ enabledStages: ['boot', 'recovery', 'chaos', 'load'], selectedStages: ['load'] }),
    );
    expect(cert).toMatchObject({ verdict: 'PASSED_PARTIAL', stagesNotRun: ['boot', 'chaos', 'recovery'] });
  });

  it('redacts secrets before they reach the certification', async () => {
    await writeAllPassing();
    await write('boot', 'failed', {
      id: 'boot.db',
      severity: 'critical',
      message: 'login failed with password s3cr3t-password',
    });
    const cert = await certifyRun(options());
    expect(cert.criticalFailures[0]?.message).toBe('login failed with password [REDACTED]');
    expect(JSON.stringify(cert)).not.toContain('s3cr3t-password');
  });
});

describe('certification.json schema', () => {
  const V2 = join(FIXTURES, 'certification.v2.json');

  it('reads the recorded v2 example that outside tools rely on', async () => {
    const cert = await readCertification(V2);
    expect(cert.verdict).toBe('NOT_CERTIFIED');
    expect(Object.keys(cert.stages)).toEqual([...STAGES]);
    expect(cert.criticalFailures[0]).toEqual({
      stage: 'security',
      check: 'security.authz.admin',
      name: 'Admin routes need the admin role',
      message: 'GET /admin/orders -> 200 for role viewer',
      remediation: 'Enforce the admin role on /admin routes',
    });
    expect(cert.stages.security.notPassed.map((c) => [c.check, c.status, c.due])).toEqual([
      ['security.authz.admin', 'failed', true],
      ['security.scanner.zap', 'skipped', false],
    ]);
    expect((await readCertification(join(FIXTURES, 'certification.v2-partial.json'))).verdict).toBe('PASSED_PARTIAL');
  });

  it('refuses a v1 file with a message that names the version and the fix', async () => {
    const error = await readCertification(join(FIXTURES, 'certification.v1.json')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReadinessError);
    expect((error as ReadinessError).message).toBe(
      `${join(FIXTURES, 'certification.v1.json')}: certification schemaVersion 1 is not supported: this readiness reads schemaVersion 2 only`,
    );
    expect((error as ReadinessError).hint).toMatch(/run `readiness certify` again/);
  });

  const tamper = async (edit: (raw: Record<string, unknown>) => void, from = V2): Promise<string> => {
    const raw = JSON.parse(await readFile(from, 'utf8')) as Record<string, unknown>;
    edit(raw);
    const file = join(dir, 'certification.json');
    await writeFile(file, JSON.stringify(raw));
    return file;
  };

  it('rejects a certification whose verdict was edited to CERTIFIED, naming every inconsistent key', async () => {
    const file = await tamper((raw) => {
      raw.verdict = 'CERTIFIED';
    });
    const error = await readCertification(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReadinessError);
    const message = (error as ReadinessError).message;
    expect(message).toContain(`${file}: validUntil: must be set for a CERTIFIED verdict`);
    expect(message).toContain(`${file}: criticalFailures: must be empty for CERTIFIED`);
    expect(message).toContain(`${file}: reasons: must be empty for CERTIFIED`);
    expect(message).toContain(`${file}: exitCode: 1 does not match CERTIFIED`);
  });

  it('rejects a partial run that claims a certification or a validity', async () => {
    const partial = join(FIXTURES, 'certification.v2-partial.json');
    await expect(readCertification(await tamper((raw) => (raw.verdict = 'CERTIFIED'), partial))).rejects.toThrow(
      /verdict: CERTIFIED is a full-run verdict but partial is true/,
    );
    await expect(
      readCertification(await tamper((raw) => (raw.validUntil = '2025-01-01T00:00:00.000Z'), partial)),
    ).rejects.toThrow(/validUntil: must be null for a PASSED_PARTIAL verdict/);
    await expect(readCertification(await tamper((raw) => (raw.stagesNotRun = []), partial))).rejects.toThrow(
      /stagesNotRun: must list the stages not run/,
    );
  });

  it('rejects a missing stage, an unknown key, another schema version and non-JSON', async () => {
    await expect(
      readCertification(await tamper((raw) => delete (raw.stages as Record<string, unknown>).chaos)),
    ).rejects.toThrow(/stages\.chaos/);
    await expect(readCertification(await tamper((raw) => (raw.extra = 1)))).rejects.toThrow(/extra/);
    await expect(readCertification(await tamper((raw) => (raw.schemaVersion = 3)))).rejects.toThrow(
      /schemaVersion 3 is not supported/,
    );
    const file = join(dir, 'broken.json');
    await writeFile(file, '{"schemaVersion": 2,');
    await expect(readCertification(file)).rejects.toThrow(/cannot read certification/);
  });

  it('refuses to write an inconsistent certification', async () => {
    const valid = certificationSchema.parse(JSON.parse(await readFile(V2, 'utf8')));
    await expect(writeCertification(dir, { ...valid, exitCode: 0 })).rejects.toThrow(
      /exitCode: 0 does not match NOT_CERTIFIED/,
    );
  });
});

describe('applyQualityGate (issue 15 point 2: the gate disagrees)', () => {
  it('withdraws a CERTIFIED verdict in certification.json itself: NOT_CERTIFIED, exit 3, no validity', async () => {
    await writeAllPassing();
    const cert = await certifyRun(options());
    expect(cert.verdict).toBe('CERTIFIED');
    const withdrawn = applyQualityGate(cert, { agrees: false, why: 'HARNESS ERROR: the gate implies CONDITIONAL' });
    expect(withdrawn).toMatchObject({
      verdict: 'NOT_CERTIFIED',
      exitCode: 3,
      validUntil: null,
      reasons: ['HARNESS ERROR: the gate implies CONDITIONAL'],
      crossCheck: { qualityGate: 'disagrees', policyVerdict: 'CERTIFIED' },
    });
    expect(await readCertification(await writeCertification(dir, withdrawn))).toEqual(withdrawn);
    expect(applyQualityGate(cert, { agrees: true, why: '' })).toEqual({
      ...cert,
      crossCheck: { qualityGate: 'agrees', policyVerdict: 'CERTIFIED' },
    });
  });

  it('refuses a file that says the gate disagreed yet keeps the verdict', async () => {
    await writeAllPassing();
    const cert = await certifyRun(options());
    expect(() =>
      certificationSchema.parse({ ...cert, crossCheck: { qualityGate: 'disagrees', policyVerdict: 'CERTIFIED' } }),
    ).toThrow(/the quality gate disagreed, so the verdict cannot be CERTIFIED/);
  });
});
