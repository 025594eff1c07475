import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certifyRun, writeCertification } from '../../src/certify/certification.ts';
import type { Certification } from '../../src/certify/certification.ts';
import { writeEvidenceManifest, writeRunManifest } from '../../src/certify/manifest.ts';
import { signRunFolder } from '../../src/certify/sign.ts';
import type { SigningKey } from '../../src/certify/sign.ts';
import type { PolicyConfig } from '../../src/config/schema.ts';
import { createRedactor } from '../../src/core/redact.ts';
import { writeCheckResult } from '../../src/core/results.ts';
import { STAGES } from '../../src/core/stage.ts';

export const TEST_POLICY: PolicyConfig = {
  stages: {},
  critical: { severities: ['blocker', 'critical'], ids: [] },
  skippable: [],
  conditionalMargin: 0.1,
  validityDays: 30,
  conditionalExitCode: 4,
  strict: false,
};

export interface SealedRunOptions {
  readonly runId?: string;
  /** `passed` certifies; `failed` makes a NOT_CERTIFIED run. */
  readonly status?: 'passed' | 'failed';
  readonly finishedAt?: Date;
  /** Signs the folder as the end of a run does; unsigned when absent. */
  readonly key?: SigningKey;
}

/**
 * A sealed run folder made by the writers a run uses: check results, certification.json, summary.md,
 * evidence.sha256, manifest.sha256 and (with a key) the DSSE envelope and public key.
 */
export async function sealedRunFolder(
  parent: string,
  options: SealedRunOptions = {},
): Promise<{ dir: string; cert: Certification }> {
  const runId = options.runId ?? '20261201-100000-abcd';
  const dir = join(parent, runId);
  const resultsDir = join(dir, 'allure-results');
  await mkdir(resultsDir, { recursive: true });
  const redact = createRedactor([]);
  for (const stage of STAGES) {
    await writeCheckResult(
      resultsDir,
      {
        id: `${stage}.main`,
        stage,
        name: `${stage} main check`,
        feature: 'main',
        status: options.status ?? 'passed',
        severity: 'critical',
        remediation: 'fix it',
        startedAt: 1_000,
        finishedAt: 2_000,
      },
      redact,
    );
  }
  const finishedAt = options.finishedAt ?? new Date('2026-12-01T10:05:00Z');
  const git = { sha: '0123456789abcdef0123456789abcdef01234567', dirty: false };
  const cert = await certifyRun({
    resultsDir,
    runId,
    policy: TEST_POLICY,
    enabledStages: [...STAGES],
    selectedStages: [...STAGES],
    startedAt: new Date(finishedAt.getTime() - 300_000),
    finishedAt,
    seed: 42,
    git,
    reportPath: null,
  });
  await writeCertification(dir, cert);
  await writeFile(join(dir, 'summary.md'), `### ${cert.verdict}\n`);
  const evidence = await writeEvidenceManifest(dir);
  await writeFile(join(dir, 'certificate.html'), `<code>${evidence.sha256}</code>\n`);
  await writeRunManifest(dir, evidence);
  if (options.key !== undefined) {
    await signRunFolder(dir, {
      key: options.key,
      predicate: { runId, verdict: cert.verdict, validUntil: cert.validUntil, git },
      now: finishedAt,
    });
  }
  return { dir, cert };
}
