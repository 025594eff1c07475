import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { SecurityConfig } from '../../config/stages/security.ts';
import { exec, tail } from '../../core/exec.ts';
import type { ExecResult } from '../../core/exec.ts';
import type { Finding, Risk } from '../finding.ts';

const SEVERITY_TO_RISK: Readonly<Record<string, Risk>> = {
  critical: 'high',
  high: 'high',
  medium: 'medium',
  low: 'low',
};

const failureSchema = z.looseObject({
  type: z.string(),
  code: z.string(),
  title: z.string(),
  severity: z.string(),
  count: z.number().int(),
  operations: z.array(z.string()),
});

/** The JSON run report of schemathesis 4 (`--report json`). */
const schemathesisReportSchema = z.looseObject({
  schemathesis_version: z.string(),
  seed: z.number().int().optional(),
  running_time: z.number(),
  stop_reason: z.string().optional(),
  exit_code: z.number().int(),
  operations: z.looseObject({
    total: z.number().int(),
    selected: z.number().int(),
    tested: z.number().int(),
    errored: z.number().int(),
  }),
  test_cases: z.looseObject({ generated: z.number().int() }).optional(),
  failures: z.array(failureSchema),
  errors: z.array(z.unknown()),
  warnings: z.record(z.string(), z.unknown()).optional(),
});
export type SchemathesisReport = z.infer<typeof schemathesisReportSchema>;

/** Failures of a schemathesis report as findings: rule id = failure code (ST101...), one instance per operation. */
export function schemathesisFindings(report: SchemathesisReport, baseUrl: string): Finding[] {
  return report.failures.map((failure) => ({
    scanner: 'schemathesis',
    ruleId: failure.code,
    name: failure.title,
    risk: SEVERITY_TO_RISK[failure.severity.toLowerCase()] ?? 'info',
    // Schemathesis reproduces every failure it reports.
    confidence: 'high',
    description: `${failure.type}: ${failure.count} failing test case(s)`,
    helpUri: 'https://schemathesis.readthedocs.io/en/stable/',
    instances: failure.operations.map((operation) => {
      const space = operation.indexOf(' ');
      const method = space > 0 ? operation.slice(0, space) : 'GET';
      const path = space > 0 ? operation.slice(space + 1) : operation;
      return { method, uri: `${baseUrl}${path}` };
    }),
  }));
}

export function parseSchemathesisReport(json: unknown): SchemathesisReport {
  const parsed = schemathesisReportSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(
      `not a schemathesis JSON report: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

export interface SchemathesisRunOptions {
  /** The OpenAPI document: the service's URL, or a file (then `baseUrl` says where the API is). */
  readonly location: string;
  /** The API's base URL, required with a file location (`--url`). */
  readonly baseUrl?: string;
  /** The credential headers of the user schemathesis acts as, sent with every request. */
  readonly headers: Readonly<Record<string, string>>;
  readonly reportFile: string;
  readonly seed: number;
  readonly requestTimeoutS: number;
  readonly config: SecurityConfig['schemathesis'];
}

/** `st run` arguments: bounded by max examples, one worker, the policy's checks, a JSON report. */
export function schemathesisArgs(options: SchemathesisRunOptions): string[] {
  const { config } = options;
  return [
    'run',
    options.location,
    ...(options.baseUrl === undefined ? [] : ['--url', options.baseUrl]),
    '--checks',
    config.checks.join(','),
    ...Object.entries(options.headers).flatMap(([name, value]) => ['--header', `${name}: ${value}`]),
    '--phases',
    config.phases.join(','),
    '--max-examples',
    String(config.maxExamples),
    '--seed',
    String(options.seed),
    '--workers',
    '1',
    '--request-timeout',
    String(options.requestTimeoutS),
    ...(config.rateLimit === undefined ? [] : ['--rate-limit', config.rateLimit]),
    '--generation-allow-x00',
    config.allowNullBytes ? 'true' : 'false',
    '--generation-database',
    'none',
    '--suppress-health-check',
    'all',
    '--report',
    'json',
    '--report-json-path',
    options.reportFile,
    '--no-color',
  ];
}

export type SchemathesisRun =
  | { readonly kind: 'report'; readonly report: SchemathesisReport; readonly result: ExecResult }
  | { readonly kind: 'broken'; readonly reason: string; readonly result?: ExecResult };

/** Runs `st` from the venv; exit 0 (no failure) and 1 (failures) carry a report, anything else is broken. */
export async function runSchemathesis(
  st: string,
  workDir: string,
  options: SchemathesisRunOptions,
  signal: AbortSignal,
): Promise<SchemathesisRun> {
  await mkdir(workDir, { recursive: true });
  const result = await exec(st, schemathesisArgs(options), {
    cwd: workDir,
    env: { ...process.env, NO_COLOR: '1', PYTHONUNBUFFERED: '1' },
    timeoutMs: options.config.timeoutMs,
    signal,
  });
  if (result.timedOut)
    return {
      kind: 'broken',
      reason: `st run did not finish within ${options.config.timeoutMs}ms (schemathesis.timeoutMs)`,
      result,
    };
  if (result.exitCode !== 0 && result.exitCode !== 1) {
    return {
      kind: 'broken',
      reason: `st run exited ${result.exitCode ?? result.signal}: ${tail(result.stderr || result.stdout, 8)}`,
      result,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(options.reportFile, 'utf8'));
  } catch (error) {
    return {
      kind: 'broken',
      reason: `st run exited ${result.exitCode} but wrote no readable report ${options.reportFile}: ${(error as Error).message}`,
      result,
    };
  }
  return { kind: 'report', report: parseSchemathesisReport(json), result };
}

export const schemathesisWorkDir = (runDir: string): string => join(runDir, 'security', 'schemathesis');
