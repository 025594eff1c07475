import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { SecurityConfig } from '../config/stages/security.ts';
import { NOT_CONFIGURED_TAG } from '../core/check-result.ts';
import { notConfiguredMessage } from '../runner/not-applicable.ts';
import type { NotConfiguredFamily } from '../runner/not-applicable.ts';
import { runCheck } from '../runner/suite.ts';
import type { CheckSpec, PlanContext, PlannedCheck, SuiteContext } from '../runner/suite.ts';
import { serviceUrl } from '../stack/stack-handle.ts';
import { SecurityContext, securitySpec } from './context.ts';
import { SecurityHttp } from './http.ts';
import { authnChecks, runAuthnChecks } from './native/authn.ts';
import { authzChecks, runAuthzChecks } from './native/authz.ts';
import { complianceChecks, runComplianceChecks } from './native/compliance.ts';
import { headerChecks, runHeaderChecks } from './native/headers.ts';
import { ERROR_CHECKS, INJECTION_CHECKS, runErrorChecks, runInjectionCheck } from './native/input.ts';
import { rateLimitChecks, runRateLimitChecks } from './native/rate-limit.ts';
import { buildSarif, checkResults } from './sarif.ts';
import type { SarifRunInput } from './sarif.ts';
import { runSchemathesisCheck, runZapCheck, SCANNER_CHECKS } from './scanner-checks.ts';
import { loadRulesPolicy } from './zap-policy.ts';
import type { RulesPolicy } from './zap-policy.ts';

/** Where the stage writes its SARIF 2.1.0 log. */
const sarifPath = (runDir: string): string => join(runDir, 'security.sarif');

/** The native families that run only when their config section is set (the others always run). */
const OPTIONAL_FAMILIES: readonly (Omit<NotConfiguredFamily, 'id'> & {
  readonly family: string;
  readonly isConfigured: (config: SecurityConfig) => boolean;
})[] = [
  {
    family: 'authz.rbac',
    name: 'Role-based access matrix',
    feature: 'authorization',
    key: 'security.authz.rbac',
    isConfigured: (config) => config.authz.rbac.length > 0,
  },
  {
    family: 'authz.object-level',
    name: 'Object-level access',
    feature: 'authorization',
    key: 'security.authz.objects',
    isConfigured: (config) => config.authz.objects.length > 0,
  },
  {
    family: 'ratelimit',
    name: 'Rate limiting',
    feature: 'rate-limit',
    key: 'security.rateLimit',
    isConfigured: (config) => config.rateLimit !== undefined,
  },
  {
    family: 'compliance.audit-trail',
    name: 'Audit trail of mutating requests',
    feature: 'compliance',
    key: 'security.compliance.audit',
    isConfigured: (config) => config.compliance.audit !== undefined,
  },
  {
    family: 'compliance.erasure',
    name: 'Right to erasure',
    feature: 'compliance',
    key: 'security.compliance.erasure',
    isConfigured: (config) => config.compliance.erasure !== undefined,
  },
];

/** The native check families whose config section `config` leaves unset, in run order. */
export function notConfiguredFamilies(config: SecurityConfig): NotConfiguredFamily[] {
  return OPTIONAL_FAMILIES.filter((family) => !family.isConfigured(config)).map((family) => ({
    id: `security.${family.family}.not-configured`,
    name: `${family.name}: not configured`,
    feature: family.feature,
    key: family.key,
  }));
}

/** The record of a family the config leaves unset, as planned and as recorded: severity normal, tag `not-configured`. */
const notConfiguredSpec = (family: NotConfiguredFamily): CheckSpec => ({
  id: family.id,
  name: family.name,
  feature: family.feature,
  severity: 'normal',
  tags: [NOT_CONFIGURED_TAG],
});

/** Records one `not-applicable` check (tag `not-configured`, severity normal) per family the config leaves unset. */
async function recordNotConfigured(ctx: SecurityContext): Promise<void> {
  for (const family of notConfiguredFamilies(ctx.config)) {
    await ctx.check(notConfiguredSpec(family), () =>
      Promise.resolve({
        status: 'not-applicable',
        message: notConfiguredMessage(family),
      }),
    );
  }
}

const present = (spec: CheckSpec | undefined): CheckSpec[] => (spec === undefined ? [] : [spec]);

/**
 * The stage's check families in run order, each with the checks it records for a config: the same
 * tables the recording uses. Every id is known from the config (one check per configured object at
 * most), none depends on what the stage discovers at run time.
 */
export const SECURITY_CHECK_FAMILIES: readonly {
  readonly family: string;
  readonly checks: (config: SecurityConfig) => readonly CheckSpec[];
}[] = [
  { family: 'not-configured', checks: (config) => notConfiguredFamilies(config).map(notConfiguredSpec) },
  { family: 'headers', checks: (config) => Object.values(headerChecks(config)) },
  { family: 'errors', checks: () => Object.values(ERROR_CHECKS) },
  { family: 'authn', checks: () => authnChecks() },
  {
    family: 'authz',
    checks: (config) => {
      const authz = authzChecks(config);
      return [...present(authz.rbac), ...authz.objects.map((o) => o.spec)];
    },
  },
  { family: 'injection', checks: () => Object.values(INJECTION_CHECKS) },
  { family: 'ratelimit', checks: (config) => Object.values(rateLimitChecks(config) ?? {}) },
  {
    family: 'compliance',
    checks: (config) => {
      const compliance = complianceChecks(config);
      return [...present(compliance.erasure), ...present(compliance.audit), compliance.logPii];
    },
  },
  { family: 'scanners', checks: () => Object.values(SCANNER_CHECKS) },
];

/** Every check a configured security stage is due to record, known from the config before it runs, in run order. */
export function planSecurityChecks(context: PlanContext): PlannedCheck[] {
  const config = context.config.security;
  if (!config) return [];
  return SECURITY_CHECK_FAMILIES.flatMap(({ checks }) =>
    checks(config).map((check) => {
      const { id, name, feature, severity, tags } = securitySpec(check);
      return { id, name, feature, severity, tags: tags ?? [] };
    }),
  );
}

/**
 * The security stage: native checks of the HTTP surface (headers, error hygiene, authentication,
 * authorization, injection, rate limiting, compliance), then schemathesis and ZAP under one rules
 * file; every result also goes to `<runDir>/security.sarif`. A native family whose config section is unset
 * is recorded `not-applicable` ("not configured"), never left out silently. The rate limit is exercised by
 * throwaway users, so it never limits another check's client.
 */
export async function runSecurityStage(suite: SuiteContext): Promise<void> {
  const config = suite.config.security;
  if (!config) {
    await runCheck(
      suite,
      { id: 'security.config', name: 'Security stage configured', feature: 'harness', severity: 'critical' },
      () =>
        Promise.resolve({
          status: 'broken',
          message: `${suite.config.configFile} has no "security" key: the stage has nothing to check`,
          remediation: 'Add security: {...} to the config (see docs/stages/security.md)',
        }),
    );
    return;
  }
  // Refused before any request unless it is loopback, the run's own container or in allowTargets.
  const baseUrl = suite.assertTarget(serviceUrl(suite.handle, config.target.service, config.target.port)).origin;
  const http = new SecurityHttp({
    baseUrl,
    correlationHeader: config.correlationHeader,
    timeoutMs: config.requestTimeoutMs,
    clock: suite.clock,
    signal: suite.signal,
  });
  const ctx = new SecurityContext(suite, config, http);
  const rulesFile = resolve(suite.config.rootDir, config.rulesFile);
  const policy: RulesPolicy | Error = await loadRulesPolicy(rulesFile).catch((error: unknown) =>
    error instanceof Error ? error : new Error(String(error)),
  );
  const started = new Date().toISOString();
  const scannerRuns: SarifRunInput[] = [];
  try {
    // The order of SECURITY_CHECK_FAMILIES, whose tables these record (the plan is checked against this run).
    await recordNotConfigured(ctx);
    await runHeaderChecks(ctx);
    await runErrorChecks(ctx);
    await runAuthnChecks(ctx);
    await runAuthzChecks(ctx);
    await runInjectionCheck(ctx);
    await runRateLimitChecks(ctx);
    await runComplianceChecks(ctx);
    scannerRuns.push(await runSchemathesisCheck(ctx, policy));
    scannerRuns.push(await runZapCheck(ctx, policy));
  } finally {
    const native = ctx.results.filter((r) => r.feature !== 'scanners');
    const nativeRun: SarifRunInput = {
      tool: { name: 'readiness' },
      results: checkResults(native, baseUrl),
      invocation: {
        executionSuccessful: native.every((r) => r.status !== 'broken'),
        startTimeUtc: started,
        endTimeUtc: new Date().toISOString(),
        notifications: [],
      },
      properties: { rulesFile },
    };
    const file = sarifPath(suite.runDir);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(buildSarif([nativeRun, ...scannerRuns]), null, 2)}\n`);
  }
}
