import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkResultSchema } from '../core/check-result.ts';
import type { CheckResult } from '../core/check-result.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import { configProblems, loadConfig } from '../config/load-config.ts';
import { configSchema } from '../config/schema.ts';
import type { PolicyConfig } from '../config/schema.ts';
import { certificationSchema, certifyChecks } from './certification.ts';
import type { Certification } from './certification.ts';
import {
  evaluateProperties,
  matchesCheckPattern,
  propertyCoverage,
  propertyRisks,
  resolveProperties,
} from './properties.ts';
import type { PropertyResult } from './properties.ts';
import { PROPERTY_CATALOGUE } from './property-catalogue.ts';

const FIXTURES = resolve(import.meta.dirname, '../../test/fixtures/certify/properties');
const ROOT = resolve(import.meta.dirname, '../..');

/** Recorded real checks (see the fixtures' README). */
async function recorded(file: string): Promise<CheckResult[]> {
  const raw = JSON.parse(await readFile(join(FIXTURES, file), 'utf8')) as unknown[];
  return raw.map((c) => checkResultSchema.parse(c));
}

/** The full CERTIFIED run with the stages of recorded defect runs in place of its own. */
async function withDefects(): Promise<CheckResult[]> {
  const full = await recorded('full-run.checks.json');
  const defects = [
    ...(await recorded('defect-boot.checks.json')),
    ...(await recorded('defect-security.checks.json')),
    ...(await recorded('defect-recovery.checks.json')),
  ];
  const replaced = new Set<Stage>(defects.map((c) => c.stage));
  return [...full.filter((c) => !replaced.has(c.stage)), ...defects];
}

const reference = async () => loadConfig(join(ROOT, 'readiness.config.ts'), ROOT);

function certify(
  checks: readonly CheckResult[],
  policy: PolicyConfig,
  extra: Partial<Parameters<typeof certifyChecks>[0]> = {},
): Certification {
  return certifyChecks({
    checks,
    invalid: [],
    runId: '20261206-081337-0f43',
    policy,
    enabledStages: [...STAGES],
    selectedStages: [...STAGES],
    startedAt: new Date('2026-12-06T08:13:37Z'),
    finishedAt: new Date('2026-12-06T08:20:00Z'),
    seed: 1,
    git: { sha: null, dirty: null },
    reportPath: null,
    name: 'reference-stack',
    ...extra,
  });
}

const byId = (properties: readonly PropertyResult[]): Map<string, PropertyResult> =>
  new Map(properties.map((p) => [p.id, p]));

describe('matchesCheckPattern', () => {
  it('reads * at an end as any characters and in the middle as one id segment', () => {
    expect(matchesCheckPattern('security.authz.object-level.order', 'security.authz.*')).toBe(true);
    expect(matchesCheckPattern('chaos.orders-kill.ledger', 'chaos.*.ledger')).toBe(true);
    expect(matchesCheckPattern('chaos.redis-down.load.recovery', 'chaos.*.recovery')).toBe(false);
    expect(matchesCheckPattern('security.compliance.correlation-id', '*.correlation-id*')).toBe(true);
    expect(matchesCheckPattern('load.knee', 'load.knee')).toBe(true);
    expect(matchesCheckPattern('load.kneeX', 'load.knee')).toBe(false);
  });
});

describe('readiness properties on a recorded full CERTIFIED run of the reference stack', () => {
  it('proves what its checks passed and says why the rest is not covered', async () => {
    const config = await reference();
    const cert = certify(await recorded('full-run.checks.json'), config.policy);
    expect(cert.verdict).toBe('CERTIFIED');
    const p = byId(cert.properties);
    expect(cert.properties).toHaveLength(PROPERTY_CATALOGUE.length);
    expect(p.get('data-safety.crash-writes')).toMatchObject({
      status: 'proven',
      why: null,
      remediation: null,
      checks: [{ id: 'recovery.crash.ledger', status: 'passed' }],
    });
    // `chaos.*.recovery` is one segment: an experiment's load phase named recovery is not a recovery check.
    expect(p.get('availability.self-healing')?.checks.map((c) => c.id)).not.toContain('chaos.redis-down.load.recovery');
    expect(p.get('availability.self-healing')?.checks).toHaveLength(10);
    // ZAP could not be had: skipped (policy.skippable), so the scan property is not covered, never proven.
    expect(p.get('security.scan')).toMatchObject({ status: 'not-covered', why: 'skipped' });
    expect(p.get('security.scan')?.reason).toContain('ZAP image');
    // No check has these ids yet.
    for (const id of ['data-safety.retention', 'operability.correlation-ids', 'performance.throughput'])
      expect(p.get(id), id).toMatchObject({ status: 'not-covered', why: 'no-check' });
    // The knee has no floor in the reference config: a figure, not a check.
    expect(p.get('performance.capacity-knee')?.remediation).toContain('load.knee.floorRatePerSec');
    expect(cert.propertyCoverage).toEqual({ total: 31, proven: 26, failed: 0, notCovered: 5, ratio: 26 / 31 });
    expect(propertyRisks(cert.properties)).toEqual([]);
    expect(certificationSchema.parse(JSON.parse(JSON.stringify(cert)))).toEqual(cert);
  });

  it('fails the properties whose checks failed in recorded defect runs, with the failed check’s remediation', async () => {
    const config = await reference();
    const cert = certify(await withDefects(), config.policy);
    const p = byId(cert.properties);
    expect(p.get('data-safety.crash-writes')).toMatchObject({
      status: 'failed',
      checks: [{ id: 'recovery.crash.ledger', status: 'failed' }],
      remediation: 'Acknowledge a write only once it is committed to the database, never from an in-memory buffer',
    });
    expect(p.get('data-safety.crash-writes')?.reason).toMatch(/^recovery\.crash\.ledger failed: 6 of 7 writes/);
    expect(p.get('operability.truthful-health')).toMatchObject({ status: 'failed' });
    expect(p.get('security.headers')).toMatchObject({ status: 'failed' });
    // That run had no backup drill: no check, and the stage ran.
    expect(p.get('data-safety.rto')).toMatchObject({ status: 'not-covered', why: 'no-check' });
    // The not-configured record it also maps is left out of the text: it proves nothing.
    expect(p.get('data-safety.rto')?.reason).toBe('No check of this run matched recovery.backup.rto.');
    // Risks: critical properties only, blocker first, failed before not covered.
    expect(propertyRisks(cert.properties).map((r) => `${r.severity} ${r.status} ${r.id}`)).toEqual([
      'blocker failed data-safety.crash-writes',
      'critical failed operability.truthful-health',
      'critical not-covered availability.zero-downtime-deploy',
      'critical not-covered data-safety.backup-restore',
      'critical not-covered data-safety.rto',
    ]);
  });

  it('says a property is not configured when its check family is not configured (recorded run)', async () => {
    const properties = evaluateProperties({
      checks: await recorded('not-configured-boot.checks.json'),
      properties: resolveProperties().properties,
      policy: configSchema.shape.policy.parse(undefined),
      enabledStages: ['boot'],
      selectedStages: ['boot'],
    });
    const p = byId(properties);
    expect(p.get('operability.truthful-health')).toMatchObject({
      status: 'not-covered',
      why: 'not-configured',
      remediation: 'Not configured: boot.readinessTruth is not set',
    });
    // The check's own "Not configured:" is said once in the property's reason.
    expect(p.get('operability.truthful-health')?.reason).not.toMatch(/Not configured:.*Not configured:/);
    // Stages the config does not enable are not configured; a property with a stage-less pattern has no check.
    expect(p.get('data-safety.crash-writes')).toMatchObject({ why: 'not-configured' });
    expect(p.get('data-safety.crash-writes')?.reason).toBe('Stage recovery is not enabled in the config (stages).');
    expect(p.get('operability.correlation-ids')).toMatchObject({ why: 'no-check' });
  });

  it('a partial run leaves the properties of the stages it did not run not covered (skipped), never proven', async () => {
    const config = await reference();
    const full = await recorded('full-run.checks.json');
    const cert = certify(
      full.filter((c) => c.stage === 'boot'),
      config.policy,
      { selectedStages: ['boot'] },
    );
    const p = byId(cert.properties);
    expect(p.get('availability.healthy-start')?.status).toBe('proven');
    expect(p.get('data-safety.rto')).toMatchObject({ status: 'not-covered', why: 'skipped' });
    expect(p.get('data-safety.rto')?.reason).toBe('Stage recovery was left out of this run.');
  });

  it('a broken check fails its property (listed as broken), after system failures among the risks', async () => {
    const config = await reference();
    const full = await recorded('full-run.checks.json');
    const checks = full.map((c) =>
      c.id === 'recovery.backup.rto' ? { ...c, status: 'broken' as const, message: 'docker exec failed' } : c,
    );
    const cert = certify(checks, config.policy);
    const rto = byId(cert.properties).get('data-safety.rto');
    expect(rto).toMatchObject({ status: 'failed' });
    expect(rto?.reason).toBe('recovery.backup.rto broken (the harness or environment failed): docker exec failed');
    // A failure of the system comes first, then a broken check, whatever their severities; then what is not covered.
    const mixed = certify(
      (await withDefects()).map((c) => (c.id === 'recovery.crash.ledger' ? { ...c, status: 'broken' as const } : c)),
      config.policy,
    );
    const order = propertyRisks(mixed.properties).map((r) => `${r.severity} ${r.status} ${r.id}`);
    expect(order.slice(0, 3)).toEqual([
      'critical failed operability.truthful-health',
      'blocker failed data-safety.crash-writes',
      'critical not-covered availability.zero-downtime-deploy',
    ]);
  });
});

describe('the catalogue in the config', () => {
  it('adds, replaces and leaves out properties by id; names an omission that matches nothing', () => {
    const config = configSchema.shape.properties.parse({
      'resilience.datastore-loss': {
        title: 'Fails fast when a datastore is lost',
        group: 'resilience',
        checks: ['chaos.postgres-down.*'],
        severity: 'critical',
      },
      'data-safety.retention': { title: 'Retention', group: 'data-safety', checks: ['security.retention.*'] },
      'security.scan': { omit: 'no web UI to scan' },
      'no.such-property': { omit: 'typo' },
    });
    const { properties, unknownOmissions } = resolveProperties(config);
    const ids = properties.map((p) => p.id);
    expect(ids).not.toContain('security.scan');
    expect(ids.at(-1)).toBe('resilience.datastore-loss');
    expect(properties.find((p) => p.id === 'data-safety.retention')?.checks).toEqual(['security.retention.*']);
    expect(unknownOmissions).toEqual(['no.such-property']);
  });

  it('refuses a property without checks, with an unknown group or defined and omitted, naming file and key', () => {
    const base = { name: 'x', services: { a: { image: 'x' } } };
    const problems = (properties: unknown): string[] => configProblems({ ...base, properties }, 'readiness.config.ts');
    expect(problems({ 'x.y': { title: 'T', group: 'speed', checks: [] } })).toEqual([
      'readiness.config.ts: properties.x.y.group must be one of "availability", "resilience", "data-safety", "security", "performance", "operability" (received "speed")',
      'readiness.config.ts: properties.x.y.checks name at least one check id or family that proves the property (received [])',
    ]);
    expect(problems({ 'x.y': { title: 'T', group: 'security' } })).toEqual([
      "readiness.config.ts: properties.x.y.checks is required for a property (or set omit: '<reason>' to leave a built-in one out)",
    ]);
    expect(problems({ 'security.scan': { omit: 'no UI', checks: ['a'] } })).toEqual([
      'readiness.config.ts: properties.security.scan.checks cannot be set with omit',
    ]);
  });
});

describe('certification.json properties', () => {
  it('an older file reads without properties; a coverage that does not count them is refused', async () => {
    const old = certificationSchema.parse(
      JSON.parse(await readFile(resolve(FIXTURES, '../certification.v2.json'), 'utf8')),
    );
    expect(old.properties).toEqual([]);
    expect(old.propertyCoverage).toBeNull();
    const config = await reference();
    const cert = certify(await recorded('full-run.checks.json'), config.policy);
    const tampered = { ...cert, propertyCoverage: { ...propertyCoverage(cert.properties), proven: 31, ratio: 1 } };
    const result = certificationSchema.safeParse(tampered);
    expect(result.error?.issues[0]?.path).toEqual(['propertyCoverage']);
  });
});
