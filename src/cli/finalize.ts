import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { certifyRun, writeCertification } from '../certify/index.ts';
import type { ResolvedConfig } from '../config/load-config.ts';
import { describeError } from '../core/errors.ts';
import type { ExitCode } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';
import type { Reporter } from '../core/reporter.ts';
import type { Stage } from '../core/stage.ts';
import {
  formatVerdictTable,
  generateAllureReport,
  renderSummaryMarkdown,
  writeAllureMetadata,
} from '../report/index.ts';
import { gitState } from './git.ts';
import type { RunFolder } from './run-folder.ts';

export interface FinalizeOptions {
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
}

/**
 * After teardown: Allure metadata and report, `certification.json` (read from the results
 * directory only), `summary.md`, the verdict table. Returns the verdict's exit code.
 */
export async function finalizeRun(options: FinalizeOptions): Promise<ExitCode> {
  const { config, folder, reporter } = options;
  const git = await gitState(config.rootDir);
  await writeAllureMetadata(folder.resultsDir, {
    environment: {
      stack: config.name,
      runId: folder.runId,
      seed: String(options.seed),
      stages: options.selected.join(','),
      'git.sha': git.sha,
      'git.dirty': String(git.dirty),
      node: process.version,
      replay: `npm run certify -- --seed ${options.seed}${options.selected.length < config.stages.length ? ` --stages ${options.selected.join(',')}` : ''}`,
      ...Object.fromEntries(Object.entries(options.images).map(([ref, resolved]) => [`image ${ref}`, resolved])),
    },
    executor: {
      name: 'readiness',
      type: process.env['CI'] ? 'ci' : 'local',
      buildName: folder.runId,
      reportName: `${config.name} readiness`,
    },
  });
  let reportPath: string | null = null;
  try {
    const html = await generateAllureReport({
      resultsDir: folder.resultsDir,
      outDir: folder.reportDir,
      name: `${config.name} readiness ${folder.runId}`,
      cwd: config.rootDir,
    });
    reportPath = relative(folder.dir, html);
  } catch (error) {
    reporter.onInfo?.(`Allure report could not be generated: ${describeError(error)}`);
  }
  const cert = await certifyRun({
    resultsDir: folder.resultsDir,
    runId: folder.runId,
    policy: config.policy,
    enabledStages: config.stages,
    selectedStages: options.selected,
    startedAt: options.startedAt,
    finishedAt: new Date(),
    seed: options.seed,
    git,
    reportPath,
  });
  await writeCertification(folder.dir, cert);
  await writeFile(join(folder.dir, 'summary.md'), options.redact(renderSummaryMarkdown(cert)));
  reporter.onRunEnd?.({ verdict: cert.verdict, exitCode: cert.exitCode });
  if (options.json) options.out(JSON.stringify(cert, null, 2));
  else {
    options.out(formatVerdictTable(cert));
    options.out(`report: ${join(relative(process.cwd(), folder.dir), reportPath ?? '(no report)')}`);
  }
  return cert.exitCode;
}
