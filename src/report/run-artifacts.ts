import { access, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { z } from 'zod';
import { noBaseline, whatChanged } from '../certify/changes.ts';
import type { NoiseBand } from '../certify/changes.ts';
import { certificationSchema, certifyChecks, writeCertification } from '../certify/certification.ts';
import { KNEE_FILE, readKneeFile } from '../certify/figures.ts';
import type { KneeFile } from '../certify/figures.ts';
import { resolveProperties } from '../certify/properties.ts';
import type { Certification, CertifyRunOptions } from '../certify/certification.ts';
import {
  ATTESTATION_FILE,
  ATTESTATION_KEY_FILE,
  writeEvidenceManifest,
  writeRunManifest,
} from '../certify/manifest.ts';
import type { SealedEvidence } from '../certify/manifest.ts';
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
const SUMMARY_FILE = 'summary.md';
const REPORT_DIR = 'allure-report';
/** Where the security stage writes its scanner findings; listed when present. */
const SECURITY_SARIF_FILE = 'security.sarif';
/** Allure's history, shared by all runs of a reports folder (trends, new/fixed/regressed marks). */
const ALLURE_HISTORY_FILE = join('history', 'allure-history.jsonl');

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
type RunSignatureOutcome =
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
  const state: ArtifactsState = { options, timings: {}, warnings: [] };
  const inputs = await readInputs(state);
  // What changed is measured against the previous CERTIFIED run of the config: read now, compared later.
  const baseline = readBaselineTimed(state, inputs.configName);
  const { reportPath, gate } = await reportAndGate(state);
  const { cert, gateRecord } = await certify(state, inputs, reportPath, gate, baseline);
  const summaryMarkdown = await writeRunFiles(state, inputs.checks, cert, gateRecord);
  const { evidence, htmlFile } = await sealAndRenderCertificate(state, inputs.tools, cert, gateRecord);
  const pdf = await printCertificatePdf(state, inputs.chromium, htmlFile);
  const manifest = await time(state, 'manifest', () => writeRunManifest(options.runDir, evidence));
  const signature = await signRun(state, cert);
  return {
    cert,
    gate: gateRecord,
    exitCode: artifactsExitCode(cert, gateRecord),
    files: artifactFiles({
      runDir: options.runDir,
      reportPath,
      pdf,
      hasSarif: await exists(join(options.runDir, SECURITY_SARIF_FILE)),
      evidenceFile: evidence.file,
      manifestFile: manifest.file,
      signature,
    }),
    signature,
    evidenceSha256: evidence.sha256,
    summaryMarkdown,
    warnings: state.warnings,
    timings: state.timings,
  };
}

/** One writing of a run's artifacts: its options, and the warnings and step timings gathered so far. */
interface ArtifactsState {
  readonly options: RunArtifactsOptions;
  readonly timings: Record<string, number>;
  readonly warnings: string[];
}

/** A problem that does not stop the run: kept for the result and told to the reporter. */
function warn(state: ArtifactsState, text: string): void {
  state.warnings.push(text);
  state.options.reporter?.onInfo?.(text);
}

/** Runs one step, recording its milliseconds under `step`. */
async function time<T>(state: ArtifactsState, step: string, body: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await body();
  } finally {
    state.timings[step] = Math.round(performance.now() - started);
  }
}

/** What the later phases read: the checks, the knee figure, the tool versions and the config's name. */
interface ArtifactInputs {
  readonly checks: readonly CheckResult[];
  readonly invalid: Awaited<ReturnType<typeof readCheckResults>>['invalid'];
  readonly configName: string;
  readonly knee: KneeFile | undefined;
  readonly chromium: string | undefined;
  readonly tools: Readonly<Record<string, string>>;
}

/** Phase 1: the check results, the knee and the tool versions; Allure's metadata and metrics written. */
async function readInputs(state: ArtifactsState): Promise<ArtifactInputs> {
  const { options } = state;
  const { resultsDir } = options;
  const { checks, invalid } = await time(state, 'read results', () => readCheckResults(resultsDir));
  for (const id of resolveProperties(options.properties).unknownOmissions)
    warn(state, `properties.${id} omits a property the built-in catalogue does not have: nothing was left out`);
  // The knee without a floor is a figure file of the load stage, not a check.
  const knee = await readKneeFile(join(options.runDir, KNEE_FILE));
  if (knee.problem !== undefined) warn(state, `key figures: the knee is left out: ${knee.problem}`);
  const chromium = 'path' in options.chromium ? options.chromium.path : undefined;
  const tools: Record<string, string> = {
    readiness: await readinessVersion(),
    node: process.version,
    allure: await allureVersion(),
  };
  if (chromium !== undefined) tools['chromium'] = (await chromiumVersion(chromium)) ?? 'unknown';
  await time(state, 'allure metadata', async () => {
    await writeAllureMetadata(resultsDir, {
      environment: {
        ...options.environment,
        ...Object.fromEntries(Object.entries(tools).map(([tool, version]) => [`tool ${tool}`, version])),
      },
      executor: options.executor,
    });
    await writeAllureMetrics(resultsDir, checks);
  });
  return { checks, invalid, configName: options.name ?? options.stackName, knee: knee.knee, chromium, tools };
}

/** The previous CERTIFIED run, read alongside the next phases (its time recorded as overlapped); never rejects. */
function readBaselineTimed(state: ArtifactsState, configName: string): Promise<BaselineRead> {
  const { options } = state;
  const started = performance.now();
  return readBaseline(options.reportsDir, { runId: options.runId, name: configName }, (text) => warn(state, text))
    .catch((error: unknown): BaselineRead => ({ note: `the previous run could not be read: ${describeError(error)}` }))
    .finally(() => {
      state.timings['baseline (overlapped)'] = Math.round(performance.now() - started);
    });
}

type GateOutcome =
  Awaited<ReturnType<typeof evaluateQualityGate>> | { plan: null; configFile: ''; run: QualityGateRun };

/** Phase 2: the Allure report and the quality gate, side by side (each reads the results); neither throws. */
async function reportAndGate(state: ArtifactsState): Promise<{ reportPath: string | null; gate: GateOutcome }> {
  const { options } = state;
  const { runDir, resultsDir } = options;
  const resultFileCount = await countResultFiles(resultsDir);
  const [reportFile, gate] = await Promise.all([
    time(state, 'allure report', () =>
      generateAllureReport({
        resultsDir,
        outDir: join(runDir, REPORT_DIR),
        name: `${options.stackName} readiness ${options.runId}`,
        cwd: options.cwd,
        historyPath: join(options.reportsDir, ALLURE_HISTORY_FILE),
        ...(options.signal ? { signal: options.signal } : {}),
      }).catch((error: unknown) => {
        warn(state, `Allure report could not be generated: ${describeError(error)}`);
        return null;
      }),
    ),
    time(state, 'quality gate', (): Promise<GateOutcome> =>
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
  return { reportPath: reportFile === null ? null : relative(runDir, reportFile), gate };
}

/** Phase 3: the policy's certification, confirmed (or withdrawn) by the gate, with what changed since the baseline. */
async function certify(
  state: ArtifactsState,
  inputs: ArtifactInputs,
  reportPath: string | null,
  gate: GateOutcome,
  baselineRead: Promise<BaselineRead>,
): Promise<{ cert: Certification; gateRecord: QualityGateRecord }> {
  const { options } = state;
  const policyCert = await time(state, 'certify', () =>
    Promise.resolve(
      certifyChecks({
        checks: inputs.checks,
        invalid: inputs.invalid,
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
        knee: inputs.knee,
        name: inputs.configName,
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
    gate.configFile === '' ? '(not written)' : relative(options.runDir, gate.configFile),
  );
  // A verdict the gate does not confirm is withdrawn in certification.json itself, not only in the exit code.
  const gatedCert = confirmByQualityGate(policyCert, gateRecord);
  const cert = withChanges(gatedCert, await baselineRead, inputs.checks, options.noiseBands);
  if (!gateRecord.agrees) {
    warn(
      state,
      `HARNESS ERROR: the Allure quality gate does not confirm the verdict ${policyCert.verdict}: ${describeQualityGate(gateRecord)}. ` +
        `See ${join(options.runDir, QUALITY_GATE_FILE)}; the run exits 3.`,
    );
  }
  return { cert, gateRecord };
}

/** The certification with what changed since the baseline run, or why there is nothing to compare with. */
export function withChanges(
  gatedCert: Certification,
  baseline: BaselineRead,
  checks: readonly CheckResult[],
  noiseBands: readonly NoiseBand[] | undefined,
): Certification {
  return certificationSchema.parse({
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
            noiseBands,
          )
        : noBaseline(baseline.note),
  } satisfies z.input<typeof certificationSchema>);
}

/** The quality gate's line in summary.md: a gate that disagrees is a harness error. */
export function summaryGateLine(gateRecord: QualityGateRecord): string {
  return gateRecord.agrees
    ? describeQualityGate(gateRecord)
    : `HARNESS ERROR: ${describeQualityGate(gateRecord)}; the verdict is not confirmed (exit 3)`;
}

/** Phase 4: certification.json, summary.md, junit.xml and quality-gate.json; returns the summary's text. */
async function writeRunFiles(
  state: ArtifactsState,
  checks: readonly CheckResult[],
  cert: Certification,
  gateRecord: QualityGateRecord,
): Promise<string> {
  const { options } = state;
  const { runDir } = options;
  return time(state, 'write files', async () => {
    await writeCertification(runDir, cert);
    const summaryMarkdown = options.redact(renderSummaryMarkdown(cert, { qualityGate: summaryGateLine(gateRecord) }));
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
    return summaryMarkdown;
  });
}

/** Phase 5: the trend, a last redaction, the evidence sealed, then the certificate page over it. */
async function sealAndRenderCertificate(
  state: ArtifactsState,
  tools: Readonly<Record<string, string>>,
  cert: Certification,
  gateRecord: QualityGateRecord,
): Promise<{ evidence: SealedEvidence; htmlFile: string }> {
  const { options } = state;
  const { runDir } = options;
  const trend = await time(state, 'trend', () => readTrend(options.reportsDir, cert, options.trendLength ?? 10));
  for (const entry of trend.unreadable) warn(state, `trend: skipped ${entry}`);
  // Last look for credentials before the evidence is sealed (the report is built from redacted results).
  const scrubbed = await time(state, 'redact', () => scrubFiles(runDir, options.redact, { skip: [REPORT_DIR] }));
  if (scrubbed.rewritten.length > 0)
    options.reporter?.onInfo?.(`credentials redacted from ${scrubbed.rewritten.join(', ')}`);
  const evidence = await time(state, 'evidence manifest', () => writeEvidenceManifest(runDir));
  const htmlFile = join(runDir, CERTIFICATE_HTML_FILE);
  await time(state, 'certificate html', async () => {
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
  return { evidence, htmlFile };
}

/** Phase 6: certificate.pdf from the page, or a warning saying why there is none. */
async function printCertificatePdf(
  state: ArtifactsState,
  chromium: string | undefined,
  htmlFile: string,
): Promise<string | null> {
  const { options } = state;
  return time(state, 'certificate pdf', async () => {
    if (chromium === undefined) {
      warn(
        state,
        `certificate.pdf not written: ${'missing' in options.chromium ? options.chromium.missing : 'no chromium'}`,
      );
      return null;
    }
    try {
      const pages = await printPdf({
        chromium,
        htmlFile,
        pdfFile: join(options.runDir, CERTIFICATE_PDF_FILE),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (pages > 2) warn(state, `certificate.pdf has ${pages.toString()} pages; it is meant to fit on one or two`);
      return CERTIFICATE_PDF_FILE;
    } catch (error) {
      warn(state, `certificate.pdf not written: ${describeError(error)}`);
      return null;
    }
  });
}

/** Phase 7: certification.json and the manifest signed with the given key, or the signature removed and why. */
async function signRun(state: ArtifactsState, cert: Certification): Promise<RunSignatureOutcome> {
  const { options } = state;
  const signing = options.signing ?? { kind: 'none', reason: 'no signing key was given' };
  return time(state, 'sign', async (): Promise<RunSignatureOutcome> => {
    if (signing.kind === 'none') {
      await removeRunSignature(options.runDir);
      warn(state, `unsigned: ${signing.reason}; the run folder has a manifest but no signature (see docs/verify.md)`);
      return { status: 'unsigned', reason: signing.reason };
    }
    await signRunFolder(options.runDir, {
      key: signing.key,
      predicate: { runId: cert.runId, verdict: cert.verdict, validUntil: cert.validUntil, git: options.git },
      now: new Date(),
    });
    options.reporter?.onInfo?.(
      `signed ${ATTESTATION_FILE} (ed25519 keyid ${signing.key.keyid}, key from ${signing.key.source})`,
    );
    return { status: 'signed', keyid: signing.key.keyid, source: signing.key.source };
  });
}

/** The run's exit code: the verdict's, or 3 (harness) when the quality gate does not confirm it. */
export function artifactsExitCode(
  cert: Pick<Certification, 'exitCode'>,
  gateRecord: Pick<QualityGateRecord, 'agrees'>,
): ExitCode {
  return gateRecord.agrees ? cert.exitCode : EXIT.harness;
}

/** The run folder's artifact paths (relative to it), null for those not written. */
export function artifactFiles(written: {
  readonly runDir: string;
  readonly reportPath: string | null;
  readonly pdf: string | null;
  readonly hasSarif: boolean;
  readonly evidenceFile: string;
  readonly manifestFile: string;
  readonly signature: RunSignatureOutcome;
}): RunArtifacts['files'] {
  const signed = written.signature.status === 'signed';
  return {
    certification: 'certification.json',
    summary: SUMMARY_FILE,
    junit: JUNIT_FILE,
    qualityGate: QUALITY_GATE_FILE,
    report: written.reportPath,
    certificateHtml: CERTIFICATE_HTML_FILE,
    certificatePdf: written.pdf,
    sarif: written.hasSarif ? SECURITY_SARIF_FILE : null,
    evidence: relative(written.runDir, written.evidenceFile),
    manifest: relative(written.runDir, written.manifestFile),
    attestation: signed ? ATTESTATION_FILE : null,
    attestationKey: signed ? ATTESTATION_KEY_FILE : null,
  };
}

/** The previous CERTIFIED run and its checks, or why there is none. */
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
