import { describe, expect, it } from 'vitest';
import { readCertification } from '../certify/certification.ts';
import { noBaseline } from '../certify/changes.ts';
import { STAGES } from '../core/stage.ts';
import { defaultPolicy } from '../config/schema.ts';
import { planQualityGate, qualityGateRecord } from './quality-gate.ts';
import type { QualityGateRun } from './quality-gate.ts';
import { artifactFiles, artifactsExitCode, summaryGateLine, withChanges } from './run-artifacts.ts';

const FIXTURE = new URL('../../test/fixtures/certify/certification.v2.json', import.meta.url).pathname;

function gateRecord(outcome: QualityGateRun['outcome'], verdict: 'CERTIFIED' | 'NOT_CERTIFIED') {
  const plan = planQualityGate({
    policy: defaultPolicy(),
    enabledStages: [...STAGES],
    selectedStages: [...STAGES],
    resultFileCount: 10,
  });
  const run: QualityGateRun = {
    command: 'allure quality-gate',
    exitCode: outcome === 'passed' ? 0 : null,
    durationMs: 0,
    outcome,
    failedRules: [],
    output: outcome === 'error' ? 'allure not found' : '',
  };
  return qualityGateRecord(plan, run, verdict, 'quality-gate.config.mjs');
}

describe('withChanges', () => {
  it('says why there is nothing to compare with when there is no baseline', async () => {
    const cert = await readCertification(FIXTURE);
    const changed = withChanges(cert, { note: 'no previous CERTIFIED run' }, [], undefined);
    expect(changed.changes).toEqual(noBaseline('no previous CERTIFIED run'));
    expect({ ...changed, changes: undefined }).toEqual({ ...cert, changes: undefined });
  });

  it('names the baseline run and says its checks were not compared when they could not be read', async () => {
    const cert = await readCertification(FIXTURE);
    const baseline = { ...cert, runId: 'older-run' };
    const changed = withChanges(cert, { cert: baseline, checks: null }, [], undefined);
    expect(changed.changes?.baseline).toEqual({ runId: 'older-run', finishedAt: cert.finishedAt });
    expect(changed.changes?.note).toContain('the check results of older-run could not be read');
  });
});

describe('summaryGateLine and artifactsExitCode', () => {
  it("keeps the verdict's exit code when the gate agrees", async () => {
    const cert = await readCertification(FIXTURE);
    const agrees = gateRecord('passed', 'CERTIFIED');
    expect(agrees.agrees).toBe(true);
    expect(artifactsExitCode(cert, agrees)).toBe(cert.exitCode);
    expect(summaryGateLine(agrees)).not.toContain('HARNESS ERROR');
  });

  it('exits 3 and says HARNESS ERROR when the gate did not evaluate', async () => {
    const cert = await readCertification(FIXTURE);
    const failed = gateRecord('error', 'NOT_CERTIFIED');
    expect(failed.agrees).toBe(false);
    expect(artifactsExitCode(cert, failed)).toBe(3);
    expect(summaryGateLine(failed)).toBe(
      'HARNESS ERROR: Allure quality gate did not evaluate (allure not found); the verdict is not confirmed (exit 3)',
    );
  });
});

describe('artifactFiles', () => {
  const written = {
    runDir: '/reports/run-1',
    reportPath: 'allure-report/index.html',
    pdf: 'certificate.pdf',
    hasSarif: true,
    evidenceFile: '/reports/run-1/evidence.sha256',
    manifestFile: '/reports/run-1/manifest.sha256',
  };

  it('lists the attestation and its key only for a signed run', () => {
    const signed = artifactFiles({ ...written, signature: { status: 'signed', keyid: 'k1', source: 'env' } });
    expect(signed).toMatchObject({
      certification: 'certification.json',
      report: 'allure-report/index.html',
      certificatePdf: 'certificate.pdf',
      sarif: 'security.sarif',
      evidence: 'evidence.sha256',
      manifest: 'manifest.sha256',
    });
    expect(signed.attestation).not.toBeNull();
    expect(signed.attestationKey).not.toBeNull();
    const unsigned = artifactFiles({ ...written, signature: { status: 'unsigned', reason: 'no key' } });
    expect([unsigned.attestation, unsigned.attestationKey]).toEqual([null, null]);
  });

  it('gives null for the report, PDF and SARIF that were not written', () => {
    const files = artifactFiles({
      ...written,
      reportPath: null,
      pdf: null,
      hasSarif: false,
      signature: { status: 'unsigned', reason: 'no key' },
    });
    expect([files.report, files.certificatePdf, files.sarif]).toEqual([null, null, null]);
  });
});
