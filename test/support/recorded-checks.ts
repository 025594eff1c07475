import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { certifyChecks } from '../../src/certify/certification.ts';
import type { Certification } from '../../src/certify/certification.ts';
import { figureTargetsFromConfig, readKneeFile } from '../../src/certify/figures.ts';
import { checkResultSchema } from '../../src/core/check-result.ts';
import type { CheckResult } from '../../src/core/check-result.ts';
import { STAGES } from '../../src/core/stage.ts';
import type { Stage } from '../../src/core/stage.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import type { ResolvedConfig } from '../../src/config/load-config.ts';

/** Recorded real runs of the reference stack (test/fixtures/certify/README.md, `properties/`). */
export const RECORDED_RUNS = resolve(import.meta.dirname, '../fixtures/certify/properties');
const ROOT = resolve(import.meta.dirname, '../..');

/** The recorded checks of one fixture file. */
export async function recordedChecks(file: string): Promise<CheckResult[]> {
  const raw = JSON.parse(await readFile(join(RECORDED_RUNS, file), 'utf8')) as unknown[];
  return raw.map((c) => checkResultSchema.parse(c));
}

/** The full CERTIFIED run with the stages of the recorded defect runs (boot, security, recovery) in place of its own. */
export async function recordedDefectRun(): Promise<CheckResult[]> {
  const full = await recordedChecks('full-run.checks.json');
  const defects = [
    ...(await recordedChecks('defect-boot.checks.json')),
    ...(await recordedChecks('defect-security.checks.json')),
    ...(await recordedChecks('defect-recovery.checks.json')),
  ];
  const replaced = new Set<Stage>(defects.map((c) => c.stage));
  return [...full.filter((c) => !replaced.has(c.stage)), ...defects];
}

/** The reference config (policy, figure targets). */
export async function referenceConfig(): Promise<ResolvedConfig> {
  return loadConfig(join(ROOT, 'readiness.config.ts'), ROOT);
}

/** The certification of recorded checks under the reference config, as `writeRunArtifacts` computes it. */
export async function certifyRecorded(
  checks: readonly CheckResult[],
  options: { readonly runId: string; readonly knee?: string; readonly finishedAt?: string } = { runId: 'run' },
): Promise<Certification> {
  const config = await referenceConfig();
  const knee = options.knee === undefined ? undefined : (await readKneeFile(join(RECORDED_RUNS, options.knee))).knee;
  const finishedAt = new Date(options.finishedAt ?? '2026-12-06T08:20:00Z');
  return certifyChecks({
    checks,
    invalid: [],
    runId: options.runId,
    policy: config.policy,
    enabledStages: [...STAGES],
    selectedStages: [...STAGES],
    startedAt: new Date(finishedAt.getTime() - 6 * 60_000),
    finishedAt,
    seed: 1,
    git: { sha: 'abc123', dirty: false },
    reportPath: 'allure-report/index.html',
    name: config.name,
    knee,
    figureTargets: figureTargetsFromConfig(config),
    properties: config.properties,
  });
}
