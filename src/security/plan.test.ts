import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import type { ResolvedConfig } from '../config/load-config.ts';
import { NOT_APPLICABLE_TAG } from '../core/check-result.ts';
import { systemClock } from '../core/clock.ts';
import { createRedactor } from '../core/redact.ts';
import { runStage } from '../runner/run-stage.ts';
import type { PlannedCheck } from '../runner/suite.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { planSecurityChecks, SECURITY_CHECK_FAMILIES } from './stage.ts';

const ROOT = join(import.meta.dirname, '../..');

const handleFor = (config: ResolvedConfig): StackHandle => {
  const target = config.security?.target ?? { service: 'none', port: 1 };
  return {
    schemaVersion: 1,
    runId: 'unit',
    stack: 'unit',
    seed: 1,
    createdAt: new Date(0).toISOString(),
    ownerPid: process.pid,
    network: 'none',
    logsDir: '/tmp',
    services: {
      [target.service]: {
        containerId: 'none',
        containerName: 'none',
        image: 'none',
        endpoint: { host: '127.0.0.1', ports: { [String(target.port)]: 9 }, alias: target.service },
        startupMs: 0,
      },
    },
    toxiproxy: null,
  };
};

const planOf = (config: ResolvedConfig): PlannedCheck[] =>
  planSecurityChecks({ config, handle: handleFor(config), stage: 'security', runDir: '/tmp', seed: 1 });

const shape = (c: Pick<PlannedCheck, 'id' | 'name' | 'feature' | 'severity' | 'tags'>) => ({
  id: c.id,
  name: c.name,
  feature: c.feature,
  severity: c.severity,
  tags: (c.tags ?? []).filter((t) => t !== NOT_APPLICABLE_TAG),
});

/**
 * Runs the real security suite through the stage runner with every `security.*` check declared not
 * applicable: each check the stage reaches is recorded with its spec and its body never runs (no
 * request leaves the process). Returns what the stage recorded itself, the fill-ins of planned checks
 * it did not record, and how many checks the suite file planned (as the runner reports it).
 */
async function recordWithoutRunning(config: ResolvedConfig) {
  const runDir = await mkdtemp(join(tmpdir(), 'security-plan-'));
  const infos: string[] = [];
  const results = await runStage({
    config: { ...config, notApplicable: { 'security.*': 'unit test: record every check without running it' } },
    handle: handleFor(config),
    stage: 'security',
    runDir,
    resultsDir: join(runDir, 'results'),
    seed: 1,
    clock: systemClock,
    reporter: { onInfo: (line) => infos.push(line) },
    redact: createRedactor(),
    signal: new AbortController().signal,
  });
  const planned = infos.map((line) => /^security: (\d+) checks planned by 1 suite\(s\)$/.exec(line)?.[1]);
  return {
    suitePlanned: Number(planned.find((n) => n !== undefined)),
    recorded: results.filter((r) => !r.tags.includes('not-recorded')),
    unrecorded: results.filter((r) => r.tags.includes('not-recorded')).map((r) => r.id),
  };
}

/** The reference config with every optional family's section unset. */
const bare = (config: ResolvedConfig): ResolvedConfig => {
  const security = config.security;
  if (!security) throw new Error('the reference config has no security section');
  const { rateLimit: _rateLimit, ...rest } = security;
  return {
    ...config,
    security: {
      ...rest,
      authz: { rbac: [], objects: [] },
      compliance: { logServices: security.compliance.logServices },
    },
  };
};

describe('the security stage plan (issue 15 point 8)', () => {
  it('plans every check the reference config asks for, each family from the table its recording uses, no duplicates', async () => {
    const config = await loadConfig('readiness.config.ts', ROOT);
    const plan = planOf(config);
    const ids = plan.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([
      'security.headers.required',
      'security.headers.banner',
      'security.headers.cors',
      'security.errors.malformed-json',
      'security.errors.oversize-body',
      'security.authn.no-token',
      'security.authn.tampered-signature',
      'security.authn.alg-none',
      'security.authn.expired',
      'security.authn.wrong-audience',
      'security.authn.wrong-issuer',
      'security.authn.weak-secret',
      'security.authn.secret-strength',
      'security.authn.refresh-reuse',
      'security.authn.lockout',
      'security.authn.latency',
      'security.authz.rbac',
      ...(config.security?.authz.objects ?? []).map((o) => `security.authz.object-level.${o.name}`),
      'security.input.injection',
      'security.ratelimit.burst',
      'security.ratelimit.isolation',
      'security.ratelimit.recovery',
      'security.compliance.erasure',
      'security.compliance.audit-trail',
      'security.compliance.log-pii',
      'security.scanner.schemathesis',
      'security.scanner.zap',
    ]);
    expect(config.security?.authz.objects.length).toBeGreaterThan(0);
    // Every family but not-configured has checks for the reference config (it configures every family).
    const security = config.security;
    if (!security) throw new Error('the reference config has no security section');
    for (const { family, checks } of SECURITY_CHECK_FAMILIES) {
      if (family === 'not-configured') expect(checks(security), family).toEqual([]);
      else expect(checks(security).length, family).toBeGreaterThan(0);
      expect(ids, family).toEqual(expect.arrayContaining(checks(security).map((c) => c.id)));
    }
    expect(plan.every((c) => c.tags?.[0] === 'security')).toBe(true);
    expect(plan.find((c) => c.id === 'security.scanner.zap')?.tags).toEqual(['security', 'zap']);
  });

  it('the reference config: the stage records exactly the planned checks (id, name, feature, severity, tags), in order', async () => {
    const config = await loadConfig('readiness.config.ts', ROOT);
    const { recorded, unrecorded, suitePlanned } = await recordWithoutRunning(config);
    // The suite file plans as many checks as are recorded, and each of them is recorded: the same set.
    expect(unrecorded).toEqual([]);
    expect(suitePlanned).toBe(recorded.length);
    expect(recorded.map(shape)).toEqual(planOf(config).map(shape));
  });

  it('a family without config plans its not-configured record, and the stage records exactly the plan', async () => {
    const config = bare(await loadConfig('readiness.config.ts', ROOT));
    const plan = planOf(config);
    const ids = plan.map((c) => c.id);
    expect(ids.filter((id) => id.endsWith('.not-configured'))).toEqual([
      'security.authz.rbac.not-configured',
      'security.authz.object-level.not-configured',
      'security.ratelimit.not-configured',
      'security.compliance.audit-trail.not-configured',
      'security.compliance.erasure.not-configured',
    ]);
    expect(plan.find((c) => c.id === 'security.ratelimit.not-configured')).toEqual({
      id: 'security.ratelimit.not-configured',
      name: 'Rate limiting: not configured',
      feature: 'rate-limit',
      severity: 'normal',
      tags: ['security', 'not-configured'],
    });
    expect(
      ids.filter((id) => /^security\.(authz|ratelimit)\.|^security\.compliance\.(erasure|audit)/.test(id)),
    ).toEqual([
      'security.authz.rbac.not-configured',
      'security.authz.object-level.not-configured',
      'security.ratelimit.not-configured',
      'security.compliance.audit-trail.not-configured',
      'security.compliance.erasure.not-configured',
    ]);
    const { recorded, unrecorded, suitePlanned } = await recordWithoutRunning(config);
    expect(unrecorded).toEqual([]);
    expect(suitePlanned).toBe(recorded.length);
    expect(recorded.map(shape)).toEqual(plan.map(shape));
  });

  it('the header check names HSTS in its plan when the target uses TLS, as it is recorded', async () => {
    const reference = await loadConfig('readiness.config.ts', ROOT);
    const security = reference.security;
    if (!security) throw new Error('the reference config has no security section');
    const config = { ...reference, security: { ...security, target: { ...security.target, tls: true } } };
    expect(planOf(config).find((c) => c.id === 'security.headers.required')?.name).toBe(
      'Security headers on every response (CSP, nosniff, frame protection, HSTS)',
    );
    const { recorded } = await recordWithoutRunning(config);
    expect(recorded.map(shape)).toEqual(planOf(config).map(shape));
  });

  it('plans nothing without a security section', async () => {
    const { security: _security, ...config } = await loadConfig('readiness.config.ts', ROOT);
    expect(planOf(config)).toEqual([]);
  });
});
