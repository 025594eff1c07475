import { join } from 'node:path';
import { describeError } from '../core/errors.ts';
import { packagePath } from '../core/package-paths.ts';
import { resolveImage } from '../provision/images.ts';
import { ensurePythonVenv } from '../provision/python-venv.ts';
import type { CheckOutcome, CheckSpec } from '../runner/suite.ts';
import { NO_OPENAPI_REASON } from './context.ts';
import type { OpenApiSource, SecurityContext } from './context.ts';
import type { SarifRunInput } from './sarif.ts';
import { findingResults } from './sarif.ts';
import { runSchemathesis, schemathesisFindings, schemathesisWorkDir } from './scanners/schemathesis.ts';
import type { SchemathesisReport, SchemathesisRun, SchemathesisRunOptions } from './scanners/schemathesis.ts';
import { runZapApiScan, ZAP_DEFINITION_FILE, zapCheckStatus } from './scanners/zap.ts';
import type { RunZapOptions, ZapRun } from './scanners/zap.ts';
import { applyPolicy, describeFindings, policyVerdict, zapRulesTsv } from './zap-policy.ts';
import type { EvaluatedFinding, PolicyOptions, RulesPolicy } from './zap-policy.ts';

/** The pinned Python tools of the stage (schemathesis), shipped with the harness. */
export const SECURITY_REQUIREMENTS = packagePath('ci', 'requirements-security.txt');

/** The scanner checks, as planned and as recorded (a disabled scanner's check is recorded skipped). */
export const SCANNER_CHECKS = {
  schemathesis: {
    id: 'security.scanner.schemathesis',
    name: 'schemathesis finds no server error, schema violation or ignored authentication',
    feature: 'scanners',
    severity: 'critical',
    tags: ['schemathesis'],
    remediation:
      'Fix each FAIL finding (reproduce with the operation and `st run --seed` from the evidence), or set its level in the rules file with a reason',
  },
  zap: {
    id: 'security.scanner.zap',
    name: 'ZAP API scan passes the policy',
    feature: 'scanners',
    severity: 'critical',
    tags: ['zap'],
    remediation:
      'Fix each FAIL alert of the ZAP report (security/zap/zap-report.html), or set its level in the rules file with a reason',
  },
} as const satisfies Record<string, CheckSpec>;

const countsLine = (evaluated: readonly EvaluatedFinding[], failOn: 'FAIL' | 'WARN'): string => {
  const { counts } = policyVerdict(evaluated, failOn);
  return `FAIL ${counts.FAIL}, WARN ${counts.WARN}, INFO ${counts.INFO}, IGNORE ${counts.IGNORE}`;
};

/** Where schemathesis reads the document: the service's URL, or the file with the API's base URL. */
export function schemathesisLocation(
  source: Exclude<OpenApiSource, { kind: 'none' }>,
  baseUrl: string,
): Pick<SchemathesisRunOptions, 'location' | 'baseUrl'> {
  return source.kind === 'file' ? { location: source.file, baseUrl } : { location: `${baseUrl}${source.path}` };
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Credential headers named as the OpenAPI document declares them (`Authorization`, `Cookie`, an
 * API-key scheme's own `name`), else in the usual capitalisation: schemathesis removes a security
 * parameter by its exact name to check that a request without it is refused, so a header sent in
 * another case would stay on that request and be reported as ignored authentication.
 */
export function schemathesisHeaders(
  headers: Readonly<Record<string, string>>,
  doc: Readonly<Record<string, unknown>>,
): Record<string, string> {
  const components = doc['components'];
  const schemes = isRecord(components) && isRecord(components['securitySchemes']) ? components['securitySchemes'] : {};
  const declared = new Map<string, string>([
    ['authorization', 'Authorization'],
    ['cookie', 'Cookie'],
  ]);
  for (const scheme of Object.values(schemes)) {
    if (
      isRecord(scheme) &&
      scheme['type'] === 'apiKey' &&
      scheme['in'] === 'header' &&
      typeof scheme['name'] === 'string'
    )
      declared.set(scheme['name'].toLowerCase(), scheme['name']);
  }
  const usual = (name: string): string =>
    name
      .split('-')
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1).toLowerCase())
      .join('-');
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [declared.get(name.toLowerCase()) ?? usual(name), value]),
  );
}

/** schemathesis against the OpenAPI document as a throwaway user; its failures judged by the policy. */
export async function runSchemathesisCheck(ctx: SecurityContext, policy: RulesPolicy | Error): Promise<SarifRunInput> {
  const sarif: MutableSarif = {
    tool: { name: 'schemathesis', informationUri: 'https://schemathesis.readthedocs.io/' },
    results: [],
    invocation: { executionSuccessful: false, notifications: [] },
  };
  const source = ctx.openapiSource;
  if (source.kind === 'none') {
    sarif.invocation = { executionSuccessful: false, notifications: [{ level: 'note', text: NO_OPENAPI_REASON }] };
    await ctx.notApplicable(SCANNER_CHECKS.schemathesis, NO_OPENAPI_REASON);
    return sarif;
  }
  await ctx.check(SCANNER_CHECKS.schemathesis, () => schemathesisOutcome(ctx, policy, source, sarif));
  return sarif;
}

type MutableSarif = { -readonly [K in keyof SarifRunInput]: SarifRunInput[K] };

/** The schemathesis check: runs `st` when enabled and the rules and document can be had, and judges its report. */
async function schemathesisOutcome(
  ctx: SecurityContext,
  policy: RulesPolicy | Error,
  source: Exclude<OpenApiSource, { kind: 'none' }>,
  sarif: MutableSarif,
): Promise<CheckOutcome> {
  const config = ctx.config.schemathesis;
  if (!config.enabled) {
    sarif.invocation = {
      executionSuccessful: false,
      notifications: [{ level: 'note', text: 'disabled (security.schemathesis.enabled)' }],
    };
    return { status: 'skipped', message: 'schemathesis is disabled (security.schemathesis.enabled = false)' };
  }
  if (policy instanceof Error)
    return { status: 'broken', message: `the rules file cannot be used: ${describeError(policy)}` };
  // The document schemathesis will read: a service that does not serve it fails here, with its answer.
  const lookup = await ctx.openapi();
  if (lookup.kind === 'failed') return lookup.outcome;
  const venv = await ensurePythonVenv(
    { name: 'security', requirementsFile: SECURITY_REQUIREMENTS },
    { reporter: ctx.suite.reporter },
  );
  const user = await ctx.throwaway('schemathesis');
  const workDir = schemathesisWorkDir(ctx.suite.runDir);
  const startTimeUtc = new Date().toISOString();
  const run = await runSchemathesis(
    venv.bin('st'),
    workDir,
    {
      ...schemathesisLocation(source, ctx.http.baseUrl),
      headers: schemathesisHeaders(user.headers, lookup.raw),
      reportFile: join(workDir, 'schemathesis-report.json'),
      seed: ctx.suite.seed,
      requestTimeoutS: Math.max(1, Math.round(ctx.config.requestTimeoutMs / 1000)),
      config,
    },
    ctx.suite.signal,
  );
  const times = { startTimeUtc, endTimeUtc: new Date().toISOString() };
  const output = schemathesisOutput(run);
  if (run.kind === 'broken') {
    sarif.invocation = {
      executionSuccessful: false,
      ...(typeof run.result?.exitCode === 'number' ? { exitCode: run.result.exitCode } : {}),
      ...times,
      notifications: [{ level: 'error', text: run.reason }],
    };
    return {
      status: 'broken',
      message: run.reason,
      evidence: output ? [{ name: 'schemathesis output', contentType: 'text/plain', content: output }] : [],
    };
  }
  const { report } = run;
  const { outcome, evaluated } = judgeSchemathesisReport(report, policy, {
    baseUrl: ctx.http.baseUrl,
    unlisted: ctx.config.policy.unlisted,
    failOn: ctx.config.policy.failOn,
    seed: ctx.suite.seed,
    output,
  });
  sarif.tool = { ...sarif.tool, version: report.schemathesis_version };
  sarif.results = findingResults(evaluated, policy.file);
  sarif.invocation = {
    executionSuccessful: report.errors.length === 0,
    exitCode: report.exit_code,
    ...times,
    notifications: report.errors.map((e) => ({ level: 'error' as const, text: JSON.stringify(e).slice(0, 500) })),
  };
  return outcome;
}

/** What `st` printed, tails of stdout and stderr, for the evidence ('' when it did not run). */
function schemathesisOutput(run: SchemathesisRun): string {
  return run.result
    ? `$ st run ... (exit ${run.result.exitCode ?? run.result.signal})\n${run.result.stdout.slice(-6000)}\n${run.result.stderr.slice(-2000)}`
    : '';
}

/**
 * A schemathesis report under the policy: blocking findings fail the check; otherwise errors that kept it
 * from testing everything make it broken, and no operation tested makes it unknown.
 */
export function judgeSchemathesisReport(
  report: SchemathesisReport,
  policy: RulesPolicy,
  options: {
    readonly baseUrl: string;
    readonly unlisted: PolicyOptions['unlisted'];
    readonly failOn: 'FAIL' | 'WARN';
    /** The seed asked for, shown when the report does not say its own. */
    readonly seed: number;
    readonly output: string;
  },
): { outcome: CheckOutcome; evaluated: EvaluatedFinding[] } {
  const evaluated = applyPolicy(schemathesisFindings(report, options.baseUrl), policy, { unlisted: options.unlisted });
  const verdict = policyVerdict(evaluated, options.failOn);
  const generated = report.test_cases?.generated ?? 0;
  const summary = `schemathesis ${report.schemathesis_version}: ${generated} test cases on ${report.operations.tested}/${report.operations.selected} operations in ${report.running_time.toFixed(1)}s (seed ${report.seed ?? options.seed}); findings ${countsLine(evaluated, options.failOn)}`;
  const metrics = [
    { name: 'schemathesis_test_cases', value: generated, unit: 'count' },
    { name: 'schemathesis_seconds', value: Math.round(report.running_time * 10) / 10, unit: 's' },
  ];
  const evidence = [
    { name: 'findings under the policy', contentType: 'text/plain', content: describeFindings(evaluated) || 'none' },
    { name: 'schemathesis output', contentType: 'text/plain', content: options.output },
  ];
  const judged = (outcome: CheckOutcome): { outcome: CheckOutcome; evaluated: EvaluatedFinding[] } => ({
    outcome,
    evaluated,
  });
  if (!verdict.passed) {
    const blocking = verdict.blocking.map((b) => `${b.level} ${b.finding.ruleId} ${b.finding.name}`).join('; ');
    return judged({ status: 'failed', message: `${summary}: ${blocking}`, metrics, evidence });
  }
  if (report.errors.length > 0)
    return judged({
      status: 'broken',
      message: `${summary}; ${report.errors.length} errors kept schemathesis from testing everything`,
      metrics,
      evidence,
    });
  if (report.operations.tested === 0)
    return judged({ status: 'unknown', message: `${summary}: no operation was tested`, metrics, evidence });
  return judged({ status: 'passed', message: summary, metrics, evidence });
}

/**
 * What ZAP scans: the service's document by URL inside the stack network, or the file's document
 * written into ZAP's work folder with its `servers` set to the target (ZAP sends the paths there).
 */
export function zapDefinition(
  source: Exclude<OpenApiSource, { kind: 'none' }>,
  site: string,
  raw: Readonly<Record<string, unknown>>,
): Pick<RunZapOptions, 'target' | 'definition'> {
  if (source.kind === 'service') return { target: `http://${site}${source.path}` };
  return { target: ZAP_DEFINITION_FILE, definition: { ...raw, servers: [{ url: `http://${site}` }] } };
}

/** The one credential header ZAP's API scan can add (`ZAP_AUTH_HEADER`): the first of the user's, if any. */
export function zapAuthHeader(
  headers: Readonly<Record<string, string>>,
): { readonly name: string; readonly value: string } | undefined {
  const first = Object.entries(headers)[0];
  return first === undefined ? undefined : { name: first[0], value: first[1] };
}

/** ZAP's API scan from the official image, judged by its exit code; skipped with the reason when the image cannot be had. */
export async function runZapCheck(ctx: SecurityContext, policy: RulesPolicy | Error): Promise<SarifRunInput> {
  const sarif: MutableSarif = {
    tool: { name: 'ZAP', informationUri: 'https://www.zaproxy.org/' },
    results: [],
    invocation: { executionSuccessful: false, notifications: [] },
  };
  const source = ctx.openapiSource;
  if (source.kind === 'none') {
    sarif.invocation = { executionSuccessful: false, notifications: [{ level: 'note', text: NO_OPENAPI_REASON }] };
    await ctx.notApplicable(SCANNER_CHECKS.zap, NO_OPENAPI_REASON);
    return sarif;
  }
  await ctx.check(SCANNER_CHECKS.zap, () => zapOutcome(ctx, policy, source, sarif));
  return sarif;
}

/** The ZAP check: runs the scan when enabled and the rules, document, image and target can be had, and judges it. */
async function zapOutcome(
  ctx: SecurityContext,
  policy: RulesPolicy | Error,
  source: Exclude<OpenApiSource, { kind: 'none' }>,
  sarif: MutableSarif,
): Promise<CheckOutcome> {
  const config = ctx.config.zap;
  const { suite } = ctx;
  if (!config.enabled) {
    sarif.invocation = {
      executionSuccessful: false,
      notifications: [{ level: 'note', text: 'disabled (security.zap.enabled)' }],
    };
    return { status: 'skipped', message: 'ZAP is disabled (security.zap.enabled = false)' };
  }
  if (policy instanceof Error)
    return { status: 'broken', message: `the rules file cannot be used: ${describeError(policy)}` };
  const lookup = await ctx.openapi();
  if (lookup.kind === 'failed') return lookup.outcome;
  const image = await resolveImage(config.image, {
    pull: suite.config.images.pull,
    pullTimeoutMs: suite.config.images.pullTimeoutMs,
    reporter: suite.reporter,
  });
  if (image.kind === 'unavailable') {
    const reason = `the ZAP image ${config.image} cannot be had: ${image.reason}`;
    sarif.invocation = {
      executionSuccessful: false,
      notifications: [{ level: 'warning', text: `not run: ${reason}` }],
    };
    return { status: 'skipped', message: reason };
  }
  const service = suite.handle.services[ctx.config.target.service];
  if (!service) return { status: 'broken', message: `service ${ctx.config.target.service} is not in the stack handle` };
  const user = await ctx.throwaway('zap');
  const site = `${service.endpoint.alias}:${ctx.config.target.port}`;
  const startTimeUtc = new Date().toISOString();
  const run = await runZapApiScan({
    image: image.ref,
    handle: suite.handle,
    workDir: join(suite.runDir, 'security', 'zap'),
    rulesTsv: zapRulesTsv(policy),
    ...zapDefinition(source, site, lookup.raw),
    targetSite: site,
    authHeader: zapAuthHeader(user.headers),
    maxScanMinutes: config.maxScanMinutes,
    timeoutMs: config.timeoutMs,
    registerTeardown: (name, fn) => suite.teardowns.add(name, fn),
  });
  const { outcome, evaluated } = judgeZapRun(run, policy, ctx.config.policy);
  sarif.tool = {
    ...sarif.tool,
    ...(image.kind === 'official' ? { version: config.image.split(':').at(-1) ?? 'stable' } : {}),
  };
  sarif.results = findingResults(evaluated, policy.file);
  sarif.invocation = {
    executionSuccessful: run.exit.kind !== 'error',
    ...(run.exit.code === null ? {} : { exitCode: run.exit.code }),
    startTimeUtc,
    endTimeUtc: new Date().toISOString(),
    notifications: run.reportError ? [{ level: 'error', text: `report: ${run.reportError}` }] : [],
  };
  return outcome;
}

/**
 * A ZAP scan: its status from the exit code (under `failOn`), its findings under the policy as evidence; a
 * scan that is not broken but left no readable report is broken.
 */
export function judgeZapRun(
  run: ZapRun,
  policy: RulesPolicy,
  options: { readonly failOn: 'FAIL' | 'WARN'; readonly unlisted: PolicyOptions['unlisted'] },
): { outcome: CheckOutcome; evaluated: EvaluatedFinding[] } {
  const status = zapCheckStatus(run.exit, options.failOn);
  const evaluated = run.findings ? applyPolicy(run.findings, policy, { unlisted: options.unlisted }) : [];
  const evidence = [
    { name: 'findings under the policy', contentType: 'text/plain', content: describeFindings(evaluated) || 'none' },
    { name: 'zap-api-scan.py output', contentType: 'text/plain', content: `${run.args.join(' ')}\n${run.logTail}` },
  ];
  const summary = `zap-api-scan.py ${run.exit.meaning}; report findings ${countsLine(evaluated, options.failOn)}`;
  if (status !== 'broken' && run.findings === undefined) {
    return {
      outcome: {
        status: 'broken',
        message: `${summary}, but no readable report: ${run.reportError ?? 'unknown'}`,
        evidence,
      },
      evaluated,
    };
  }
  return { outcome: { status, message: summary, evidence }, evaluated };
}
