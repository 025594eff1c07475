import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { GenericContainer, StartupCheckStrategy, getContainerRuntimeClient } from 'testcontainers';
import type { StartupStatus } from 'testcontainers';
import { z } from 'zod';
import type { CheckStatus } from '../../core/check-result.ts';
import { LABELS } from '../../stack/labels.ts';
import type { StackHandle } from '../../stack/stack-handle.ts';
import { confidenceFromCode, riskFromCode } from '../finding.ts';
import type { Finding } from '../finding.ts';

/** What zap-api-scan.py's exit code means, mapped exactly (anything else is broken, never passed). */
interface ZapExitOutcome {
  readonly code: number | null;
  /** `warn` is decided by the policy's failOn. */
  readonly kind: 'pass' | 'fail' | 'warn' | 'error';
  readonly meaning: string;
}

export function zapExitOutcome(code: number | null): ZapExitOutcome {
  switch (code) {
    case 0:
      return { code, kind: 'pass', meaning: 'exit 0: no FAIL and no WARN alert' };
    case 1:
      return { code, kind: 'fail', meaning: 'exit 1: at least one FAIL alert' };
    case 2:
      return { code, kind: 'warn', meaning: 'exit 2: WARN alerts and no FAIL' };
    case 3:
      return {
        code,
        kind: 'error',
        meaning: 'exit 3: ZAP failed (other failure: target unreachable, bad options, scan error)',
      };
    case null:
    default:
      return { code, kind: 'error', meaning: `exit ${code ?? 'none'}: not an exit code of zap-api-scan.py` };
  }
}

/** The check status for an exit outcome: WARN blocks only with failOn WARN; errors are broken. */
export function zapCheckStatus(outcome: ZapExitOutcome, failOn: 'FAIL' | 'WARN'): CheckStatus {
  switch (outcome.kind) {
    case 'pass':
      return 'passed';
    case 'fail':
      return 'failed';
    case 'warn':
      return failOn === 'WARN' ? 'failed' : 'passed';
    case 'error':
      return 'broken';
  }
}

const numeric = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform((v) => Number(v));
const text = z.string().optional();

const instanceSchema = z.looseObject({
  uri: z.string(),
  method: z.string().default('GET'),
  param: text,
  attack: text,
  evidence: text,
  otherinfo: text,
});

const alertSchema = z.looseObject({
  pluginid: z.string(),
  alertRef: text,
  alert: z.string(),
  name: text,
  riskcode: numeric,
  confidence: numeric,
  riskdesc: text,
  desc: text,
  solution: text,
  reference: text,
  cweid: z.union([z.string(), z.number()]).optional(),
  instances: z.array(instanceSchema).default([]),
});

/** ZAP's traditional JSON report (`-J`, core/jsonreport): `site[].alerts[]`. */
const zapReportSchema = z.looseObject({
  '@programName': text,
  '@version': text,
  site: z.array(z.looseObject({ '@name': z.string(), alerts: z.array(alertSchema).default([]) })).default([]),
});

const stripHtml = (html: string | undefined): string | undefined =>
  html === undefined
    ? undefined
    : html
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim() || undefined;

/** Alerts of a traditional JSON report as findings (one per plugin id and site). */
export function parseZapReport(json: unknown): Finding[] {
  const parsed = zapReportSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `not a ZAP traditional JSON report: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  }
  const findings: Finding[] = [];
  for (const site of parsed.data.site) {
    for (const alert of site.alerts) {
      const cwe = alert.cweid === undefined ? undefined : Number(alert.cweid);
      const description = stripHtml(alert.desc);
      const solution = stripHtml(alert.solution);
      findings.push({
        scanner: 'zap',
        ruleId: alert.pluginid,
        name: alert.name ?? alert.alert,
        risk: riskFromCode(alert.riskcode),
        confidence: confidenceFromCode(alert.confidence),
        ...(description === undefined ? {} : { description }),
        ...(solution === undefined ? {} : { solution }),
        ...(cwe !== undefined && Number.isInteger(cwe) && cwe > 0 ? { cweId: cwe } : {}),
        helpUri: `https://www.zaproxy.org/docs/alerts/${alert.pluginid}/`,
        instances: alert.instances.map((i) => ({
          uri: i.uri,
          method: i.method,
          ...(i.param ? { param: i.param } : {}),
          ...(i.attack ? { attack: i.attack } : {}),
          ...(i.evidence ? { evidence: i.evidence } : {}),
          ...(i.otherinfo ? { otherInfo: i.otherinfo } : {}),
        })),
      });
    }
  }
  return findings;
}

interface ZapScanOptions {
  /** OpenAPI URL as ZAP sees it inside the stack network. */
  readonly target: string;
  readonly rulesFile: string;
  readonly reportJson: string;
  readonly reportHtml: string;
  readonly maxScanMinutes: number;
}

/** `zap-api-scan.py` arguments: OpenAPI target, our rules TSV, JSON + HTML reports, a bounded active scan. */
export function zapApiScanArgs(options: ZapScanOptions): string[] {
  return [
    'zap-api-scan.py',
    '-t',
    options.target,
    '-f',
    'openapi',
    '-c',
    options.rulesFile,
    '-J',
    options.reportJson,
    '-r',
    options.reportHtml,
    '-T',
    String(options.maxScanMinutes),
    '-z',
    `-config scanner.maxScanDurationInMins=${options.maxScanMinutes} -config scanner.maxRuleDurationInMins=1`,
  ];
}

/** Ready when the container has exited, whatever its exit code (the code is data, read afterwards). */
class ExitedStartupCheck extends StartupCheckStrategy {
  override async checkStartupState(docker: Dockerode, containerId: string): Promise<StartupStatus> {
    const { State } = await docker.getContainer(containerId).inspect();
    return State.Running || State.Paused || State.FinishedAt === '0001-01-01T00:00:00Z' ? 'PENDING' : 'SUCCESS';
  }
}

/** Docker's multiplexed log stream (8-byte frame headers) as text. */
export function demuxDockerLogs(buffer: Buffer): string {
  let out = '';
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    out += buffer.subarray(offset + 8, offset + 8 + size).toString('utf8');
    offset += 8 + size;
  }
  return offset === 0 ? buffer.toString('utf8') : out;
}

export interface ZapRun {
  readonly exit: ZapExitOutcome;
  readonly findings: readonly Finding[] | undefined;
  readonly reportError: string | undefined;
  readonly logTail: string;
  readonly args: readonly string[];
}

/** The name of a given OpenAPI document in ZAP's work folder (zap-api-scan.py reads a file target there). */
export const ZAP_DEFINITION_FILE = 'openapi.json';

export interface RunZapOptions {
  readonly image: string;
  readonly handle: StackHandle;
  readonly workDir: string;
  readonly rulesTsv: string;
  /** The OpenAPI document's URL as ZAP sees it, or `ZAP_DEFINITION_FILE` with `definition`. */
  readonly target: string;
  /** A document to write into the work folder as `ZAP_DEFINITION_FILE`. */
  readonly definition?: Readonly<Record<string, unknown>>;
  readonly targetSite: string;
  /** The credential header ZAP adds to every request to the target site (ZAP takes one), if any. */
  readonly authHeader: { readonly name: string; readonly value: string } | undefined;
  readonly maxScanMinutes: number;
  readonly timeoutMs: number;
  /** Registers the container's removal before it starts. */
  readonly registerTeardown: (name: string, fn: () => Promise<void>) => void;
}

/** Runs the official ZAP image on the stack network through Testcontainers and reads its verdict and report. */
export async function runZapApiScan(options: RunZapOptions): Promise<ZapRun> {
  await mkdir(options.workDir, { recursive: true });
  // The image runs as user zap (uid 1000): the mounted folder must be writable for it.
  await chmod(options.workDir, 0o777);
  await writeFile(join(options.workDir, 'rules.tsv'), options.rulesTsv);
  if (options.definition) {
    await writeFile(join(options.workDir, ZAP_DEFINITION_FILE), `${JSON.stringify(options.definition, null, 2)}\n`);
  }
  const args = zapApiScanArgs({
    target: options.target,
    rulesFile: 'rules.tsv',
    reportJson: 'zap-report.json',
    reportHtml: 'zap-report.html',
    maxScanMinutes: options.maxScanMinutes,
  });
  const { handle } = options;
  const name = `readiness-${handle.runId}-zap`;
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  options.registerTeardown('remove the ZAP container', async () => {
    await docker
      .getContainer(name)
      .remove({ force: true, v: true })
      .catch((error: unknown) => {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      });
  });
  const started = await new GenericContainer(options.image)
    .withName(name)
    .withNetworkMode(handle.network)
    .withLabels({
      [LABELS.runId]: handle.runId,
      [LABELS.ownerPid]: String(process.pid),
      [LABELS.ownerHost]: hostname(),
      [LABELS.stack]: handle.stack,
      [LABELS.service]: 'zap',
    })
    .withBindMounts([{ source: options.workDir, target: '/zap/wrk', mode: 'rw' }])
    .withEnvironment(
      options.authHeader
        ? {
            ZAP_AUTH_HEADER: options.authHeader.name,
            ZAP_AUTH_HEADER_VALUE: options.authHeader.value,
            ZAP_AUTH_HEADER_SITE: options.targetSite,
          }
        : {},
    )
    .withCommand(args)
    .withWaitStrategy(new ExitedStartupCheck())
    .withStartupTimeout(options.timeoutMs)
    .start();
  const container = docker.getContainer(started.getId());
  const { State } = await container.inspect();
  const logs = demuxDockerLogs(await container.logs({ stdout: true, stderr: true, follow: false }));
  let findings: Finding[] | undefined;
  let reportError: string | undefined;
  try {
    findings = parseZapReport(JSON.parse(await readFile(join(options.workDir, 'zap-report.json'), 'utf8')));
  } catch (error) {
    reportError = (error as Error).message;
  }
  return {
    exit: zapExitOutcome(State.Running ? null : State.ExitCode),
    findings,
    reportError,
    logTail: logs.split('\n').slice(-40).join('\n'),
    args,
  };
}
