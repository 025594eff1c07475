import { access, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { z } from 'zod';
import { noBaseline, whatChanged } from '../certify/changes.ts';
import type { NoiseBand } from '../certify/changes.ts';
import { certificationSchema, certifyChecks, writeCertification } from '../certify/certification.ts';
import { KNEE_FILE, readKneeFile } from '../certify/figures.ts';
import { resolveProperties } from '../certify/properties.ts';
import type { Certification, CertifyRunOptions } from '../certify/certification.ts';
import {
  ATTESTATION_FILE,
  ATTESTATION_KEY_FILE,
  writeEvidenceManifest,
  writeRunManifest,
} from '../certify/manifest.ts';
import { removeRunSignature, signRunFolder } from '../certify/sign.ts';
import type { RunSigning } from '../certify/sign.ts';
import type { CheckResult } from '../core/check-result.ts';
import { EXIT, describeError } from '../core/errors.ts';
import { packagePath } from '../core/package-paths.ts';
import type { ExitCode } from '../core/errors.ts';
import { scrubFiles } from '../core/redact.ts';
import type { Redactor } from '../core/redact.ts';
import type { Reporter } from '../core/reporter.ts';
import { readCheckResults } from '../core/results.ts';
import { chromiumVersion } from '../provision/chromium.ts';
import { generateAllureReport, resolveAllureCli, writeAllureMetadata } from './allure.ts';
import type { AllureExecutor } from './allure.ts';
import { CERTIFICATE_HTML_FILE, CERTIFICATE_PDF_FILE, renderCertificateHtml } from './certificate.ts';
import { printPdf } from './certificate-pdf.ts';
import { JUNIT_FILE, renderJunitXml } from './junit.ts';
import { writeAllureMetrics } from './metrics.ts';
import {
  QUALITY_GATE_FILE,
  confirmByQualityGate,
  countResultFiles,
  describeQualityGate,
  evaluateQualityGate,
  qualityGateRecord,
} from './quality-gate.ts';
import type { QualityGateRecord, QualityGateRun } from './quality-gate.ts';
import { findBaseline, readTrend } from './runs.ts';
import { renderSummaryMarkdown } from './summary.ts';

/** Files of a run folder written by the report step (relative to the run folder). */
export const SUMMARY_FILE = 'summary.md';
export const REPORT_DIR = 'allure-report';
/** Where the security stage writes its scanner findings; listed when present. */
export const SECURITY_SARIF_FILE = 'security.sarif';
/** Allure's history, shared by all runs of a reports folder (trends, new/fixed/regressed marks). */
export const ALLURE_HISTORY_FILE = join('history', 'allure-history.jsonl');

/** What the certification is computed from (its report path is decided here), plus what the report needs. */
export interface RunArtifactsOptions extends Omit<CertifyRunOptions, 'reportPath'> {
  readonly runDir: string;
  /** The reports folder holding this run and the previous ones (trend, history). */
  readonly reportsDir: string;
  /** The stack's name (config `name`). */
  readonly stackName: string;
  /** Shown as the Allure environment; tool versions are added. */
  readonly environment: Readonly<Record<string, string>>;
  readonly executor: AllureExecutor;
  /** Config image ref -> image that ran. */
  readonly images: Readonly<Record<string, string>>;
  /** Headless Chromium for the PDF, or why there is none. */
  readonly chromium: { readonly path: string } | { readonly missing: string };
  readonly redact: Redactor;
  /** Working directory for Allure (the project root). */
  readonly cwd: string;
  readonly reporter?: Reporter;
  readonly signal?: AbortSignal;
  /** How many past runs the certificate's trend shows (this one included). */
  readonly trendLength?: number;
  /** The key that signs certification.json and manifest.sha256; unsigned (and said so) when absent. */
  readonly signing?: RunSigning;
  /** How far a key figure may move from the previous CERTIFIED run before it shows as changed. */
  readonly noiseBands?: readonly NoiseBand[];
}

/** Whether the run folder was signed, and with which key, or why not. */
export type RunSignatureOutcome =
  | { readonly status: 'signed'; readonly keyid: string; readonly source: string }
  | { readonly status: 'unsigned'; readonly reason: string };

export interface RunArtifacts {
  readonly cert: Certification;
  readonly gate: QualityGateRecord;
  /** The verdict's exit code, or 3 when the quality gate disagrees with it. */
  readonly exitCode: ExitCode;
  /** Relative paths of the run folder's artifacts; null when one could not be written. */
  readonly files: {
    readonly certification: string;
    readonly summary: string;
    readonly junit: string;
    readonly qualityGate: string;
    readonly report: string | null;
    readonly certificateHtml: string;
    readonly certificatePdf: string | null;
    readonly sarif: string | null;
    readonly evidence: string;
    readonly manifest: string;
    /** The DSSE envelope and its public key; null when unsigned. */
    readonly attestation: string | null;
    readonly attestationKey: string | null;
  };
  readonly signature: RunSignatureOutcome;
  /** SHA-256 of evidence.sha256, shown on the certificate. */
  readonly evidenceSha256: string;
  /** The content of summary.md (for a CI step summary). */
  readonly summaryMarkdown: string;
  /** Problems that did not stop the run (no PDF, no report...), one line each. */
  readonly warnings: readonly string[];
  /** Milliseconds per step, for bench/. */
  readonly timings: Readonly<Record<string, number>>;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function allureVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(dirname(resolveAllureCli()), 'package.json'), 'utf8')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

async function readinessVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(packagePath('package.json'), 'utf8')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/** A gate that could not run at all, so the record says so instead of the run failing. */
function gateError(error: unknown): QualityGateRun {
  return {
    command: 'allure quality-gate',
    exitCode: null,
    durationMs: 0,
    outcome: 'error',
    failedRules: [],
    output: describeError(error),
  };
}

/**
 * Writes everything a reader needs into the run folder, from the results directory only: Allure
 * metadata and metrics, the Allure report (with history), the quality gate, certification.json,
 * summary.md, junit.xml, then seals the evidence, writes the certificate (html + pdf), manifest.sha256
 * and last signs certification.json and the manifest (a DSSE envelope) when a key is given. Never
 * throws for a missing report or PDF: those become warnings, and so does a run without a signing key.
 */
export async function writeRunArtifacts(options: RunArtifactsOptions): Promise<RunArtifacts> {
  const { runDir, resultsDir, reporter } = options;
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  const warn = (text: string): void => {
    warnings.push(text);
    reporter?.onInfo?.(text);
  };
  const time = async <T>(step: string, body: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await body();
    } finally {
      timings[step] = Math.round(performance.now() - started);
    }
  };

  const { checks, invalid } = await time('read results', () => readCheckResults(resultsDir));
  const configName = options.name ?? options.stackName;
  for (const id of resolveProperties(options.properties).unknownOmissions)
    warn(`properties.${id} omits a property the built-in catalogue does not have: nothing was left out`);
  // The knee without a floor is a figure file of the load stage, not a check.
  const knee = await readKneeFile(join(runDir, KNEE_FILE));
  if (knee.problem !== undefined) warn(`key figures: the knee is left out: ${knee.problem}`);
  const chromium = 'path' in options.chromium ? options.chromium.path : undefined;
  const tools: Record<string, string> = {
    readiness: await readinessVersion(),
    node: process.version,
    allure: await allureVersion(),
  };
  if (chromium !== undefined) tools['chromium'] = (await chromiumVersion(chromium)) ?? 'unknown';
  await time('allure metadata', async () => {
    await writeAllureMetadata(resultsDir, {
      environment: {
        ...options.environment,
        ...Object.fromEntries(Object.entries(tools).map(([tool, version]) => [`tool ${tool}`, version])),
      },
      executor: options.executor,
    });
    await writeAllureMetrics(resultsDir, checks);
  });

  // What changed is measured against the previous CERTIFIED run of the config: read now, compared later.
  const changesStarted = performance.now();
  const baselinePromise = readBaseline(options.reportsDir, { runId: options.runId, name: configName }, warn)
    .catch((error: unknown): BaselineRead => ({ note: `the previous run could not be read: ${describeError(error)}` }))
    .finally(() => {
      timings['baseline (overlapped)'] = Math.round(performance.now() - changesStarted);
    });
  const resultFileCount = await countResultFiles(resultsDir);
  // The report and the gate each read the results; they run side by side.
  const [reportFile, gate] = await Promise.all([
    time('allure report', () =>
      generateAllureReport({
        resultsDir,
        outDir: join(runDir, REPORT_DIR),
        name: `${options.stackName} readiness ${options.runId}`,
        cwd: options.cwd,
        historyPath: join(options.reportsDir, ALLURE_HISTORY_FILE),
        ...(options.signal ? { signal: options.signal } : {}),
      }).catch((error: unknown) => {
        warn(`Allure report could not be generated: ${describeError(error)}`);
        return null;
      }),
    ),
    time('quality gate', () =>
      evaluateQualityGate({
        runDir,
        resultsDir,
        policy: options.policy,
        enabledStages: options.enabledStages,
        selectedStages: options.selectedStages,
        resultFileCount,
        ...(options.signal ? { signal: options.signal } : {}),
      }).catch((error: unknown) => ({ plan: null, configFile: '', run: gateError(error) })),
    ),
  ]);
  const reportPath = reportFile === null ? null : relative(runDir, reportFile);

  const policyCert = await time('certify', () =>
    Promise.resolve(
      certifyChecks({
        checks,
        invalid,
        runId: options.runId,
        policy: options.policy,
        enabledStages: options.enabledStages,
        selectedStages: options.selectedStages,
        startedAt: options.startedAt,
        finishedAt: options.finishedAt,
        seed: options.seed,
        git: options.git,
        reportPath,
        figureTargets: options.figureTargets,
        knee: knee.knee,
        name: configName,
        properties: options.properties,
      }),
    ),
  );
  const gateRecord = qualityGateRecord(
    gate.plan ?? {
      stages: [],
      partial: policyCert.partial,
      skippable: [],
      critical: options.policy.critical,
      rulesets: [],
    },
    gate.run,
    policyCert.verdict,
    gate.configFile === '' ? '(not written)' : relative(runDir, gate.configFile),
  );
  // A verdict the gate does not confirm is withdrawn in certification.json itself, not only in the exit code.
  const gatedCert = confirmByQualityGate(policyCert, gateRecord);
  const baseline = await baselinePromise;
  const cert = certificationSchema.parse({
    ...gatedCert,
    changes:
      'cert' in baseline
        ? whatChanged(
            {
              runId: baseline.cert.runId,
              finishedAt: baseline.cert.finishedAt,
              checks: baseline.checks,
              figures: baseline.cert.figures,
              properties: baseline.cert.properties,
            },
            { checks, figures: gatedCert.figures, properties: gatedCert.properties },
            options.noiseBands,
          )
        : noBaseline(baseline.note),
  } satisfies z.input<typeof certificationSchema>);
  if (!gateRecord.agrees) {
    warn(
      `HARNESS ERROR: the Allure quality gate does not confirm the verdict ${policyCert.verdict}: ${describeQualityGate(gateRecord)}. ` +
        `See ${join(runDir, QUALITY_GATE_FILE)}; the run exits 3.`,
    );
  }

  let summaryMarkdown = '';
  await time('write files', async () => {
    await writeCertification(runDir, cert);
    summaryMarkdown = options.redact(
      renderSummaryMarkdown(cert, {
        qualityGate: gateRecord.agrees
          ? describeQualityGate(gateRecord)
          : `HARNESS ERROR: ${describeQualityGate(gateRecord)}; the verdict is not confirmed (exit 3)`,
      }),
    );
    await writeFile(join(runDir, SUMMARY_FILE), summaryMarkdown);
    await writeFile(
      join(runDir, JUNIT_FILE),
      options.redact(
        renderJunitXml(checks, {
          name: `${options.stackName} readiness ${options.runId}`,
          timestamp: options.startedAt.toISOString(),
        }),
      ),
    );
    await writeFile(join(runDir, QUALITY_GATE_FILE), `${options.redact(JSON.stringify(gateRecord, null, 2))}\n`);
  });

  const trend = await time('trend', () => readTrend(options.reportsDir, cert, options.trendLength ?? 10));
  for (const entry of trend.unreadable) warn(`trend: skipped ${entry}`);

  // Last look for credentials before the evidence is sealed (the report is built from redacted results).
  const scrubbed = await time('redact', () => scrubFiles(runDir, options.redact, { skip: [REPORT_DIR] }));
  if (scrubbed.rewritten.length > 0) reporter?.onInfo?.(`credentials redacted from ${scrubbed.rewritten.join(', ')}`);
  const evidence = await time('evidence manifest', () => writeEvidenceManifest(runDir));
  const htmlFile = join(runDir, CERTIFICATE_HTML_FILE);
  await time('certificate html', async () => {
    await writeFile(
      htmlFile,
      options.redact(
        renderCertificateHtml({
          cert,
          stackName: options.stackName,
          trend: trend.points,
          evidenceSha256: evidence.sha256,
          gate: {
            outcome: gateRecord.outcome,
            gateVerdict: gateRecord.gateVerdict,
            agrees: gateRecord.agrees,
            failedRules: gateRecord.failedRules.length,
          },
          tools,
          images: options.images,
        }),
      ),
    );
  });
  let pdf: string | null = null;
  await time('certificate pdf', async () => {
    if (chromium === undefined) {
      warn(`certificate.pdf not written: ${'missing' in options.chromium ? options.chromium.missing : 'no chromium'}`);
      return;
    }
    try {
      const pages = await printPdf({
        chromium,
        htmlFile,
        pdfFile: join(runDir, CERTIFICATE_PDF_FILE),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (pages > 2) warn(`certificate.pdf has ${pages.toString()} pages; it is meant to fit on one or two`);
      pdf = CERTIFICATE_PDF_FILE;
    } catch (error) {
      warn(`certificate.pdf not written: ${describeError(error)}`);
    }
  });
  const manifest = await time('manifest', () => writeRunManifest(runDir, evidence));
  const signing = options.signing ?? { kind: 'none', reason: 'no signing key was given' };
  const signature = await time('sign', async (): Promise<RunSignatureOutcome> => {
    if (signing.kind === 'none') {
      await removeRunSignature(runDir);
      warn(`unsigned: ${signing.reason}; the run folder has a manifest but no signature (see docs/verify.md)`);
      return { status: 'unsigned', reason: signing.reason };
    }
    await signRunFolder(runDir, {
      key: signing.key,
      predicate: { runId: cert.runId, verdict: cert.verdict, validUntil: cert.validUntil, git: options.git },
      now: new Date(),
    });
    reporter?.onInfo?.(
      `signed ${ATTESTATION_FILE} (ed25519 keyid ${signing.key.keyid}, key from ${signing.key.source})`,
    );
    return { status: 'signed', keyid: signing.key.keyid, source: signing.key.source };
  });
  return {
    cert,
    gate: gateRecord,
    exitCode: gateRecord.agrees ? cert.exitCode : EXIT.harness,
    files: {
      certification: 'certification.json',
      summary: SUMMARY_FILE,
      junit: JUNIT_FILE,
      qualityGate: QUALITY_GATE_FILE,
      report: reportPath,
      certificateHtml: CERTIFICATE_HTML_FILE,
      certificatePdf: pdf,
      sarif: (await exists(join(runDir, SECURITY_SARIF_FILE))) ? SECURITY_SARIF_FILE : null,
      evidence: relative(runDir, evidence.file),
      manifest: relative(runDir, manifest.file),
      attestation: signature.status === 'signed' ? ATTESTATION_FILE : null,
      attestationKey: signature.status === 'signed' ? ATTESTATION_KEY_FILE : null,
    },
    signature,
    evidenceSha256: evidence.sha256,
    summaryMarkdown,
    warnings,
    timings,
  };
}

type BaselineRead =
  { readonly cert: Certification; readonly checks: readonly CheckResult[] | null } | { readonly note: string };

/** The previous CERTIFIED run of the config and its checks (null when its results cannot be read), or why there is none. */
async function readBaseline(
  reportsDir: string,
  current: Pick<Certification, 'runId' | 'name'>,
  warn: (text: string) => void,
): Promise<BaselineRead> {
  const baseline = await findBaseline(reportsDir, current);
  for (const entry of baseline.skipped) warn(`what changed: skipped ${entry}`);
  if (!baseline.found) return { note: baseline.note };
  try {
    const { checks } = await readCheckResults(join(baseline.runDir, 'allure-results'));
    return { cert: baseline.cert, checks };
  } catch (error) {
    warn(
      `what changed: the checks of ${baseline.cert.runId} are not compared: ${describeError(error).split('\n')[0] ?? ''}`,
    );
    return { cert: baseline.cert, checks: null };
  }
}
