import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { runCheck } from '../runner/suite.ts';
import type { SuiteContext } from '../runner/suite.ts';
import { serviceUrl } from '../stack/stack-handle.ts';
import { SecurityContext } from './context.ts';
import { SecurityHttp } from './http.ts';
import { runAuthnChecks } from './native/authn.ts';
import { runAuthzChecks } from './native/authz.ts';
import { runComplianceChecks } from './native/compliance.ts';
import { runHeaderChecks } from './native/headers.ts';
import { runErrorChecks, runInjectionCheck } from './native/input.ts';
import { runRateLimitChecks } from './native/rate-limit.ts';
import { buildSarif, checkResults } from './sarif.ts';
import type { SarifRunInput } from './sarif.ts';
import { runSchemathesisCheck, runZapCheck } from './scanner-checks.ts';
import { loadRulesPolicy } from './zap-policy.ts';
import type { RulesPolicy } from './zap-policy.ts';

/** Where the stage writes its SARIF 2.1.0 log. */
export const sarifPath = (runDir: string): string => join(runDir, 'security.sarif');

/**
 * The security stage: native checks of the HTTP surface (headers, error hygiene, authentication,
 * authorization, injection, rate limiting, compliance), then schemathesis and ZAP under one rules
 * file; every result also goes to `<runDir>/security.sarif`. The rate limit is exercised by
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
          remediation: 'Add security: {...} to the config (see fixtures/readiness/security.ts)',
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
