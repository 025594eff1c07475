import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCertification } from '../../src/certify/index.ts';
import type { CheckResult } from '../../src/core/check-result.ts';
import { readCheckResults } from '../../src/core/results.ts';
import { leftovers, onlyRun, readAttachment, referenceProject, runCli as cli } from '../support/harness.ts';

// The reference config builds lb, orders, orders-b and payments: those are judged by default.
const JUDGED = ['lb', 'orders', 'orders-b', 'payments'];
// Its signals.metrics: the orders replicas' dependency error counters.
const COUNTED = ['orders', 'orders-b'];
const MEMORY_DECISIONS = 'rate_limit_decisions_total{backend="memory"}';

const metric = (check: CheckResult | undefined, name: string): number | undefined =>
  check?.metrics.find((m) => m.name === name)?.value;

async function signalChecks(fragile: string) {
  const { dir, reports } = await referenceProject('signals');
  const run = await cli(dir, ['certify', '--stages', 'boot,contract'], { FRAGILE: fragile });
  const runDir = await onlyRun(reports);
  const { checks } = await readCheckResults(join(runDir, 'allure-results'));
  return { run, runDir, checks };
}

describe('error signals on the reference stack (boot and contract)', () => {
  it('healthy: every service passes its signals check of each stage; the boot fault window is left out', async () => {
    const { run, runDir, checks } = await signalChecks('');
    expect(run.code, run.stderr).toBe(0);
    const signals = checks.filter((c) => c.feature === 'signals');
    expect(signals.map((c) => c.id).sort()).toEqual(
      ['boot', 'contract'].flatMap((stage) => JUDGED.map((service) => `${stage}.signals.${service}`)).sort(),
    );
    for (const check of signals) expect(check.status, `${check.id}: ${check.message ?? ''}`).toBe('passed');
    const judged = (id: string): number | undefined =>
      signals.find((c) => c.id === id)?.metrics.find((m) => m.name === 'judged_lines')?.value;
    expect(judged('contract.signals.orders')).toBeGreaterThan(0);
    // The counters were read, at the start and end of each stage at least, and did not rise.
    for (const stage of ['boot', 'contract'])
      for (const service of COUNTED) {
        const check = signals.find((c) => c.id === `${stage}.signals.${service}`);
        expect(metric(check, 'counter_scrapes'), check?.id).toBeGreaterThanOrEqual(2);
        expect(metric(check, 'dependency_errors'), check?.id).toBe(0);
        expect(metric(check, `counter_increase ${MEMORY_DECISIONS}`), check?.id).toBe(0);
        expect(check?.message, check?.id).toMatch(/0 dependency errors \(budget 0\).* \d+ scrapes of http:\/\//);
      }
    // Boot's readiness-truth probe disables the Postgres link: its lines are left out, not judged.
    expect(signals.find((c) => c.id === 'boot.signals.orders')?.message).toMatch(/[1-9]\d* left out as faulted/);
    expect(await leftovers(runDir)).toBe(0);
  });

  it('FRAGILE=silent-redis-errors: exit 1, contract.signals.orders fails with the WRONGTYPE line, nothing else fails', async () => {
    const { run, runDir, checks } = await signalChecks('silent-redis-errors');
    expect(run.code, run.stderr).toBe(1);
    const failed = checks.filter((c) => c.status !== 'passed');
    expect(failed.map((c) => c.id)).toContain('contract.signals.orders');
    for (const check of failed) expect(check.feature, `${check.id}: ${check.message ?? ''}`).toBe('signals');
    const orders = checks.find((c) => c.id === 'contract.signals.orders');
    expect(orders?.message).toMatch(/WRONGTYPE/);
    // The same check shows the limiter's in-process decisions rising, with the intervals as evidence.
    expect(metric(orders, `counter_increase ${MEMORY_DECISIONS}`)).toBeGreaterThan(0);
    expect(orders?.message).toContain('dependency error counters rose over budget in contract');
    const counted = await readAttachment(runDir, 'contract.signals.orders', 'orders dependency error counters');
    expect(counted).toMatch(/Z \.\. \S+Z rate_limit_decisions_total\{backend="memory"\} \+[1-9]/);
    expect(orders?.remediation).toMatch(/error on every request hides a broken dependency/);
    const cert = await readCertification(join(runDir, 'certification.json'));
    expect(cert.criticalFailures.map((f) => f.check)).toContain('contract.signals.orders');
    expect(await leftovers(runDir)).toBe(0);
  });
});
