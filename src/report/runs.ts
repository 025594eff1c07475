import { readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CERTIFICATION_FILE, readCertification } from '../certify/certification.ts';
import type { Certification } from '../certify/certification.ts';
import { describeError } from '../core/errors.ts';
import { STAGES } from '../core/stage.ts';
import { findCertifiedRun, listRunIds } from '../runner/baseline-run.ts';
import type { BaselineRun } from '../runner/baseline-run.ts';
import type { Stage } from '../core/stage.ts';

/** One past run as the certificate's trend shows it. */
export interface TrendPoint {
  readonly runId: string;
  readonly finishedAt: string;
  readonly verdict: Certification['verdict'];
  readonly score: number;
  readonly partial: boolean;
  /** Pass rate of each stage that ran (mandatory or optional); null when not run or nothing was due. */
  readonly stages: Readonly<Record<Stage, number | null>>;
  /** The config name the run recorded (none before it was recorded). */
  readonly name?: string | undefined;
  /** Key figures followed across runs; null when the run did not measure them. */
  readonly kneeRps: number | null;
  readonly p95Ms: number | null;
  readonly rtoMs: number | null;
}

const figureValue = (cert: Certification, id: string): number | null =>
  cert.figures.find((f) => f.id === id)?.value ?? null;

/** The trend point of a certification. */
export function trendPoint(cert: Certification): TrendPoint {
  const stages = Object.fromEntries(STAGES.map((stage) => [stage, cert.stages[stage].passRate])) as Record<
    Stage,
    number | null
  >;
  return {
    runId: cert.runId,
    finishedAt: cert.finishedAt,
    verdict: cert.verdict,
    score: cert.score,
    partial: cert.partial,
    stages,
    name: cert.name,
    kneeRps: figureValue(cert, 'load.knee'),
    p95Ms: figureValue(cert, 'load.baseline.p95'),
    rtoMs: figureValue(cert, 'recovery.rto'),
  };
}

export { listRunIds };

/** The run `reports/latest` points at, else the newest run folder; undefined when there is none. */
export async function latestRunId(reportsDir: string): Promise<string | undefined> {
  const ids = await listRunIds(reportsDir);
  const linked = await readlink(join(reportsDir, 'latest')).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EINVAL')
      return undefined;
    throw error;
  });
  if (linked !== undefined && ids.includes(linked)) return linked;
  return ids.at(-1);
}

interface RunTrend {
  /** Oldest first; the current run last when given. */
  readonly points: readonly TrendPoint[];
  /** Past certification files that could not be read, as `file: why`. */
  readonly unreadable: readonly string[];
}

/**
 * The last `limit` runs of a reports directory up to and including `current`, from each run's
 * certification.json (the verdict, score, stage pass rates and key figures people compare across runs);
 * a run that recorded another config name is left out.
 */
export async function readTrend(reportsDir: string, current: Certification, limit = 10): Promise<RunTrend> {
  const ids = (await listRunIds(reportsDir)).filter((id) => id !== current.runId && id < current.runId);
  const points: TrendPoint[] = [];
  const unreadable: string[] = [];
  // Newest first until enough readable ones: an unreadable run does not shorten the trend.
  for (const id of [...ids].reverse()) {
    if (points.length >= limit - 1) break;
    try {
      const cert = await readCertification(join(reportsDir, id, CERTIFICATION_FILE));
      if (cert.name !== undefined && current.name !== undefined && cert.name !== current.name) continue;
      points.unshift(trendPoint(cert));
    } catch (error) {
      unreadable.push(`${id}/${CERTIFICATION_FILE}: ${describeError(error).split('\n')[0] ?? ''}`);
    }
  }
  points.push(trendPoint(current));
  return { points, unreadable };
}

/** The previous CERTIFIED run of a config, as found in a reports directory. */
export type Baseline = BaselineRun<Certification>;

/**
 * The newest run before `current` that is CERTIFIED and recorded the same config name, what changed is
 * measured against; `skipped` names the unreadable certification files passed over.
 */
export async function findBaseline(
  reportsDir: string,
  current: Pick<Certification, 'runId' | 'name'>,
): Promise<Baseline> {
  return findCertifiedRun(reportsDir, current, readCertification);
}

/** The artifacts a run folder can hold, in the order people look for them, with what each is for. */
export const RUN_ARTIFACTS: readonly { readonly path: string; readonly what: string }[] = [
  { path: 'certificate.html', what: 'one-page certificate (leadership)' },
  { path: 'certificate.pdf', what: 'the certificate, printed' },
  { path: 'allure-report/index.html', what: 'Allure 3 report (single file)' },
  { path: 'summary.md', what: 'Markdown summary (PR comment, $GITHUB_STEP_SUMMARY)' },
  { path: 'junit.xml', what: 'JUnit XML, one testcase per check' },
  { path: 'security.sarif', what: 'SARIF of the security stage' },
  { path: 'certification.json', what: 'the verdict, machine-readable (schema v2)' },
  { path: 'quality-gate.json', what: 'Allure quality gate result and whether it agrees' },
  { path: 'manifest.sha256', what: 'SHA-256 of every file: sha256sum -c manifest.sha256' },
  { path: 'certification.intoto.jsonl', what: 'signature: DSSE envelope (readiness verify --key <public.pem>)' },
  { path: 'certification.pub.pem', what: 'the signing public key (pin your own copy)' },
];

/** The known artifacts present in a run folder, as `label: path` lines relative to `displayDir`. */
export async function formatRunFiles(runDir: string, displayDir: string): Promise<string> {
  const lines: string[] = [];
  for (const artifact of RUN_ARTIFACTS) {
    const present = await stat(join(runDir, artifact.path)).then(
      (s) => s.isFile(),
      () => false,
    );
    if (present)
      lines.push(`  ${join(displayDir, artifact.path).padEnd(Math.max(40, displayDir.length + 26))} ${artifact.what}`);
  }
  return lines.join('\n');
}
