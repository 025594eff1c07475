import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import reference from '../../readiness.config.ts';
import { resolveConfig } from '../config/load-config.ts';
import type { ResolvedConfig } from '../config/load-config.ts';
import type { CheckResult } from '../core/check-result.ts';
import { systemClock } from '../core/clock.ts';
import { createRedactor } from '../core/redact.ts';
import { runStage } from '../runner/run-stage.ts';
import type { PlannedCheck, SuiteContext } from '../runner/suite.ts';
import { planContractStage, runContractChecks } from './contract-checks.ts';
import { recordingContext, UNIT_HANDLE } from '../../test/support/stage.ts';

const PLAN_PACTS = fileURLToPath(new URL('../../test/fixtures/contracts/plan-pacts/', import.meta.url));
const REFERENCE_CONFIG_FILE = fileURLToPath(new URL('../../readiness.config.ts', import.meta.url));
const CONTRACT_SUITE = fileURLToPath(new URL('../../suites/contract/contract.suite.ts', import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'readiness-contract-plan-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// No service is running: the verifier is never reached and every interaction is recorded broken,
// under the id, name and severity of a healthy run.
function contextFor(config: ResolvedConfig, recorded: CheckResult[]): SuiteContext {
  return recordingContext(config, 'contract', join(dir, 'run'), recorded);
}

/** The fixture pacts, with `orders` verified, `payments` listed without a pact and `admin`'s pacts pending. */
function fixtureConfig(): ResolvedConfig {
  return resolveConfig(
    {
      name: 'demo',
      stages: ['contract'],
      services: { api: { image: 'example/api:1', ports: [8080] } },
      contract: {
        pactDir: PLAN_PACTS,
        providers: { orders: { service: 'api', port: 8080 }, payments: { service: 'api', port: 8080 } },
        pending: { consumers: ['admin'] },
      },
    },
    join(dir, 'readiness.config.ts'),
  );
}

const head = (c: PlannedCheck | CheckResult) => ({
  id: c.id,
  name: c.name,
  feature: c.feature,
  severity: c.severity,
  tags: c.tags ?? [],
});

describe('planContractStage', () => {
  it('plans for the reference config exactly the checks the stage records, in order', async () => {
    const config = resolveConfig(reference, REFERENCE_CONFIG_FILE);
    const checks: CheckResult[] = [];
    const context = contextFor(config, checks);
    const plan = await planContractStage(context);
    await runContractChecks(context);
    expect(plan).toHaveLength(19);
    expect(plan.map(head)).toEqual(checks.map(head));
  });

  it('plans duplicate descriptions, non-HTTP, pending, empty, unverified and unreadable pacts under the ids the stage records', async () => {
    const checks: CheckResult[] = [];
    const context = contextFor(fixtureConfig(), checks);
    const plan = await planContractStage(context);
    await runContractChecks(context);
    expect(plan.map((c) => [c.id, c.severity])).toEqual([
      ['contract.pact-file.not-a-pact', 'critical'],
      ['contract.billing.web.unverified', 'critical'],
      ['contract.orders.admin.list-every-order', 'normal'],
      ['contract.orders.mobile.interactions', 'critical'],
      ['contract.orders.web.get-an-order', 'critical'],
      ['contract.orders.web.get-an-order-2', 'critical'],
      ['contract.orders.web.get-an-order-3', 'critical'],
      ['contract.orders.web.an-order-placed-event', 'critical'],
      ['contract.orders.web.list-draft-orders', 'normal'],
      ['contract.payments.pacts', 'critical'],
    ]);
    expect(plan.map(head)).toEqual(checks.map(head));
  });

  it('plans nothing with a broker: the interactions are known only from its report', async () => {
    const withBroker = resolveConfig(
      {
        name: 'demo',
        stages: ['contract'],
        services: { api: { image: 'example/api:1', ports: [8080] } },
        allowTargets: ['broker.test'],
        contract: { broker: { url: 'http://broker.test' }, providers: { orders: { service: 'api', port: 8080 } } },
      },
      join(dir, 'readiness.config.ts'),
    );
    expect(await planContractStage(contextFor(withBroker, []))).toEqual([]);
  });

  it('a verifier crash after planning leaves the interactions it did not record unknown, under their planned severity', async () => {
    const builtIn = join(dir, 'built-in');
    await mkdir(join(builtIn, 'contract'), { recursive: true });
    await writeFile(
      join(builtIn, 'contract', 'crash.suite.ts'),
      `import suite from ${JSON.stringify(CONTRACT_SUITE)};
export default { ...suite, name: 'crash', run: async (ctx) => {
  await ctx.record({ id: 'contract.orders.admin.list-every-order', name: 'admin -> orders: list every order', feature: 'admin -> orders', severity: 'normal', status: 'passed', startedAt: 0, finishedAt: 0 });
  throw new Error('the verifier worker exited with signal SIGSEGV');
} };`,
    );
    const config = fixtureConfig();
    const plan = await planContractStage({ config, handle: UNIT_HANDLE, stage: 'contract', runDir: dir, seed: 1 });
    const results = await runStage({
      config,
      handle: UNIT_HANDLE,
      stage: 'contract',
      runDir: dir,
      resultsDir: join(dir, 'results'),
      seed: 1,
      clock: systemClock,
      reporter: {},
      redact: createRedactor(),
      signal: new AbortController().signal,
      builtInSuitesDir: builtIn,
    });
    const unrecorded = plan.filter((p) => p.id !== 'contract.orders.admin.list-every-order');
    expect(results.map((r) => [r.id, r.status, r.severity])).toEqual([
      ['contract.orders.admin.list-every-order', 'passed', 'normal'],
      ['contract.suite.crash', 'broken', 'critical'],
      ...unrecorded.map((p) => [p.id, 'unknown', p.severity]),
    ]);
    expect(results.map((r) => r.id)).toContain('contract.orders.web.get-an-order-3');
    expect(results.at(-2)?.severity).toBe('normal');
    expect(results.at(-1)?.message).toBe(
      'Planned but not recorded: Suite crash failed: the verifier worker exited with signal SIGSEGV',
    );
  });
});
