import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CERTIFICATION_FILE, readCertification } from '../../certify/certification.ts';
import type { VerifyKey } from '../../certify/sign.ts';
import { formatRunVerification, verifyRunFolder } from '../../certify/verify-run.ts';
import type { ResolvedConfig } from '../../config/load-config.ts';
import { ConfigError, EXIT, describeError } from '../../core/errors.ts';
import type { ExitCode } from '../../core/errors.ts';
import { findExecutable } from '../../provision/host.ts';
import { compareRuns, formatComparison, readRunSnapshot } from '../../report/compare.ts';
import { QUALITY_GATE_FILE, describeQualityGate, qualityGateRecordSchema } from '../../report/quality-gate.ts';
import { formatRunFiles, latestRunId, listRunIds } from '../../report/runs.ts';
import { serveRunFolder } from '../../report/serve.ts';
import { formatVerdictTable } from '../../report/summary.ts';

interface ReportOptions {
  readonly config: ResolvedConfig;
  /** The run to show; the latest when absent. */
  readonly run?: string;
  /** Another run to compare with: the older of the two is the base. */
  readonly compare?: string;
  readonly open: boolean;
  readonly serve: boolean;
  readonly port?: number;
  readonly json: boolean;
  /** The pinned public key the signature is checked with (as `readiness verify` does). */
  readonly key?: VerifyKey;
  readonly signal: AbortSignal;
  readonly out: (text: string) => void;
}

async function resolveRun(reportsDir: string, requested: string | undefined): Promise<string> {
  const ids = await listRunIds(reportsDir);
  if (requested !== undefined) {
    if (!ids.includes(requested)) {
      const known = ids.slice(-5).join(', ') || 'none';
      throw new ConfigError([`no run "${requested}" in ${reportsDir} (latest runs: ${known})`]);
    }
    return requested;
  }
  const latest = await latestRunId(reportsDir);
  if (latest === undefined) {
    throw new ConfigError([`${reportsDir}: no run folder with a ${CERTIFICATION_FILE}; run "npm run certify" first`]);
  }
  return latest;
}

async function gateLine(runDir: string): Promise<string> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(runDir, QUALITY_GATE_FILE), 'utf8'));
  } catch (error) {
    return `quality gate: ${QUALITY_GATE_FILE} cannot be read (${describeError(error).split('\n')[0] ?? ''})`;
  }
  const parsed = qualityGateRecordSchema.safeParse(raw);
  return parsed.success ? describeQualityGate(parsed.data) : `quality gate: ${QUALITY_GATE_FILE} is not a gate record`;
}

/** Opens a file in the desktop's browser when there is a desktop; returns whether it tried. */
async function openInDesktop(file: string): Promise<boolean> {
  if (!process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) return false;
  const opener = await findExecutable('xdg-open');
  if (opener === undefined) return false;
  spawn(opener, [file], { detached: true, stdio: 'ignore' }).unref();
  return true;
}

/** `readiness report`: show a run (the latest by default), compare two runs, open or serve a run folder. */
export async function report(options: ReportOptions): Promise<ExitCode> {
  const { config, out } = options;
  const reportsDir = config.reportsDir;
  const runId = await resolveRun(reportsDir, options.run);
  const runDir = join(reportsDir, runId);

  if (options.compare !== undefined) {
    const other = await resolveRun(reportsDir, options.compare);
    const [baseId, headId] = other < runId ? [other, runId] : [runId, other];
    const cmp = compareRuns(
      await readRunSnapshot(join(reportsDir, baseId), baseId),
      await readRunSnapshot(join(reportsDir, headId), headId),
    );
    out(options.json ? JSON.stringify(cmp, null, 2) : formatComparison(cmp));
    return EXIT.certified;
  }

  const cert = await readCertification(join(runDir, CERTIFICATION_FILE));
  // The same verification as `readiness verify`; a tampered folder exits 3, an expired or unsigned one is shown.
  const verification = await verifyRunFolder({
    runDir,
    ...(options.key === undefined ? {} : { key: options.key }),
    now: new Date(),
  });
  if (options.json) {
    out(
      JSON.stringify(
        { runId, runDir, manifestOk: verification.manifest.status === 'ok', verification, certification: cert },
        null,
        2,
      ),
    );
  } else {
    const display = relative(process.cwd(), runDir) || '.';
    out(`run ${runId} (${display})\n`);
    out(formatVerdictTable(cert));
    out(await gateLine(runDir));
    for (const line of formatRunVerification(verification)) out(line);
    out(`\nfiles:\n${await formatRunFiles(runDir, display)}`);
  }

  const report = join(runDir, 'allure-report', 'index.html');
  const certificate = join(runDir, 'certificate.html');
  if (options.open) {
    const opened = await openInDesktop(report);
    out(`${opened ? 'opening' : 'no desktop to open a browser; open'} ${pathToFileURL(report).href}`);
    out(`certificate: ${pathToFileURL(certificate).href}`);
  }
  if (options.serve) {
    const server = await serveRunFolder(runDir, {
      runId,
      ...(options.port === undefined ? {} : { port: options.port }),
    });
    out(
      `serving ${runDir} at ${server.url} (report: ${server.url}allure-report/, certificate: ${server.url}certificate.html); Ctrl-C to stop`,
    );
    if (!options.signal.aborted) {
      await new Promise<void>((resolveWait) =>
        options.signal.addEventListener('abort', () => resolveWait(), { once: true }),
      );
    }
    await server.close();
    out('server stopped');
  }
  return verification.intact ? EXIT.certified : EXIT.harness;
}
