import { certificationSchema } from '../../src/certify/certification.ts';
import { whatChanged } from '../../src/certify/changes.ts';
import type { CertificateModel } from '../../src/report/certificate.ts';
import { trendPoint } from '../../src/report/runs.ts';
import { certifyRecorded, recordedChecks, recordedDefectRun } from './recorded-checks.ts';

/** The recorded run ids (test/fixtures/certify/README.md, `properties/`). */
export const RECORDED_PREVIOUS_RUN = '20261206-073729-8224';
export const RECORDED_FULL_RUN = '20261206-081337-0f43';

/**
 * The certificate model of a recorded run of the reference stack under the reference config, as
 * `writeRunArtifacts` builds it: the full CERTIFIED run, or (`defects`) the same run with the recorded
 * planted-defect stages in place of its own; compared with, and trended after, the CERTIFIED run before it.
 */
export async function recordedCertificateModel(defects: boolean): Promise<CertificateModel> {
  const previousChecks = await recordedChecks('previous-run.checks.json');
  const previous = await certifyRecorded(previousChecks, {
    runId: RECORDED_PREVIOUS_RUN,
    knee: 'previous-run.knee.json',
  });
  const checks = defects ? await recordedDefectRun() : await recordedChecks('full-run.checks.json');
  const run = await certifyRecorded(checks, { runId: RECORDED_FULL_RUN, knee: 'full-run.knee.json' });
  const changes = whatChanged(
    { ...previous, checks: previousChecks },
    { checks, figures: run.figures, properties: run.properties },
  );
  const cert = certificationSchema.parse({ ...run, changes });
  return {
    cert,
    stackName: 'reference-stack',
    trend: [trendPoint(previous), trendPoint(cert)],
    evidenceSha256: 'e'.repeat(64),
    gate: { outcome: 'passed', gateVerdict: cert.verdict, agrees: true, failedRules: 0 },
    tools: {},
    images: {},
  };
}
