import { relative } from 'node:path';
import type { ResolvedConfig } from '../config/load-config.ts';
import { describeError } from '../core/errors.ts';
import type { ExitCode } from '../core/errors.ts';
import { scrubFiles } from '../core/redact.ts';
import type { Redactor } from '../core/redact.ts';
import type { Reporter } from '../core/reporter.ts';
import type { Stage } from '../core/stage.ts';
import { figureTargetsFromConfig } from '../certify/figures.ts';
import type { RunSigning } from '../certify/sign.ts';
import { ensureChromium } from '../provision/chromium.ts';
import { formatVerdictTable } from '../report/index.ts';
import { describeQualityGate } from '../report/quality-gate.ts';
import { writeRunArtifacts } from '../report/run-artifacts.ts';
import type { RunArtifactsOptions } from '../report/run-artifacts.ts';
import { formatRunFiles } from '../report/runs.ts';
import { gitState } from './git.ts';
import type { RunFolder } from './run-folder.ts';

interface FinalizeOptions {
  readonly config: ResolvedConfig;
  readonly folder: RunFolder;
  readonly selected: readonly Stage[];
  readonly seed: number;
  readonly startedAt: Date;
  readonly images: Readonly<Record<string, string>>;
  readonly reporter: Reporter;
  readonly json: boolean;
  readonly out: (text: string) => void;
  readonly redact: Redactor;
  /** Signs the run folder; unsigned (and said so) when absent. */
  readonly signing?: RunSigning;
}

/** Chromium for the certificate PDF; installed with apt when we are root on Debian, else the reason it is missing. */
async function chromiumFor(reporter: Reporter): Promise<RunArtifactsOptions['chromium']> {
  try {
    return { path: await ensureChromium({ install: process.getuid?.() === 0, reporter }) };
  } catch (error) {
    return { missing: describeError(error) };
  }
}

/** The CI job's URL for the report's executor, when the run is in GitHub Actions or GitLab CI. */
function ciBuildUrl(): { buildUrl?: string } {
  const env = process.env;
  if (env['GITHUB_SERVER_URL'] && env['GITHUB_REPOSITORY'] && env['GITHUB_RUN_ID'])
    return { buildUrl: `${env['GITHUB_SERVER_URL']}/${env['GITHUB_REPOSITORY']}/actions/runs/${env['GITHUB_RUN_ID']}` };
  if (env['CI_JOB_URL']) return { buildUrl: env['CI_JOB_URL'] };
  return {};
}

/**
 * After teardown: every artifact of the run folder (see src/report/run-artifacts.ts), read from the
 * results directory only; prints the verdict table and where the files are. Returns the verdict's
 * exit code, or 3 when Allure's quality gate does not confirm the verdict.
 */
export async function finalizeRun(options: FinalizeOptions): Promise<ExitCode> {
  const { config, folder, reporter } = options;
  // The results (attachments included) are redacted before the Allure report is built from them; the
  // whole run folder is scrubbed once more, last, before the evidence is sealed (writeRunArtifacts).
  const scrubbed = await scrubFiles(folder.resultsDir, options.redact);
  if (scrubbed.rewritten.length > 0) reporter.onInfo?.(`credentials redacted from ${scrubbed.rewritten.join(', ')}`);
  const git = await gitState(config.rootDir);
  const partial = options.selected.length < config.stages.length;
  const artifacts = await writeRunArtifacts({
    runDir: folder.dir,
    resultsDir: folder.resultsDir,
    reportsDir: config.reportsDir,
    runId: folder.runId,
    stackName: config.name,
    policy: config.policy,
    noiseBands: config.policy.noiseBands,
    figureTargets: figureTargetsFromConfig(config),
    properties: config.properties,
    enabledStages: config.stages,
    selectedStages: options.selected,
    startedAt: options.startedAt,
    finishedAt: new Date(),
    seed: options.seed,
    git,
    environment: {
      stack: config.name,
      runId: folder.runId,
      seed: String(options.seed),
      stages: options.selected.join(','),
      'git.sha': git.sha ?? 'none',
      'git.dirty': String(git.dirty),
      replay: `npm run certify -- --seed ${options.seed}${partial ? ` --stages ${options.selected.join(',')}` : ''}`,
      ...Object.fromEntries(Object.entries(options.images).map(([ref, resolved]) => [`image ${ref}`, resolved])),
    },
    executor: {
      name: 'readiness',
      type: process.env['GITHUB_ACTIONS']
        ? 'github'
        : process.env['GITLAB_CI']
          ? 'gitlab'
          : process.env['CI']
            ? 'ci'
            : 'local',
      buildName: folder.runId,
      reportName: `${config.name} readiness`,
      ...ciBuildUrl(),
    },
    images: options.images,
    chromium: await chromiumFor(reporter),
    redact: options.redact,
    cwd: config.rootDir,
    reporter,
    ...(options.signing === undefined ? {} : { signing: options.signing }),
  });
  const { cert, gate } = artifacts;
  reporter.onRunEnd?.({
    verdict: cert.verdict,
    exitCode: artifacts.exitCode,
    runDir: folder.dir,
    summaryMarkdown: artifacts.summaryMarkdown,
  });
  if (options.json) {
    options.out(JSON.stringify(cert, null, 2));
    return artifacts.exitCode;
  }
  options.out(formatVerdictTable(cert));
  options.out(describeQualityGate(gate));
  if (!gate.agrees) {
    options.out(
      `!!! HARNESS ERROR: the verdict is not confirmed by Allure's quality gate; exit 3. See ${relative(process.cwd(), folder.dir)}/quality-gate.json`,
    );
  }
  const display = relative(process.cwd(), folder.dir) || '.';
  options.out(`\nrun folder ${display}:\n${await formatRunFiles(folder.dir, display)}`);
  if (artifacts.warnings.length > 0)
    options.out(`\nwarnings:\n${artifacts.warnings.map((w) => `  - ${w}`).join('\n')}`);
  return artifacts.exitCode;
}
