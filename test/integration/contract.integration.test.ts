import { mkdir, mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCertification } from '../../src/certify/index.ts';
import { contractMatrixSchema } from '../../src/contracts/index.ts';
import { readCheckResults } from '../../src/core/results.ts';
import { contractAccounts } from '../../examples/reference-stack/auth.ts';
import { credentialLeaks, leftovers, onlyRun, readAttachment, referenceProject, runCli } from '../support/harness.ts';
import type { CliRun, Project } from '../support/harness.ts';

/** A project folder whose config is the reference one (optionally changed), reports in a temp folder. */
function project(overrides = ''): Promise<Project> {
  return referenceProject('contract', overrides.replace(/^\s*,/, ''));
}

function certify(dir: string, env: Record<string, string>): Promise<CliRun> {
  return runCli(dir, ['certify', '--stages', 'contract'], env);
}

/** The text of a check's evidence (it must have it). */
async function attachment(runDir: string, checkId: string, name: string): Promise<string> {
  return (await readAttachment(runDir, checkId, name)) ?? expect.fail(`no attachment "${name}" for ${checkId}`);
}

describe('contract stage on the reference stack (certify --stages contract)', () => {
  it('healthy: every interaction of both pacts verified, one passed check each, matrix written', async () => {
    const { dir, reports } = await project();
    const run = await certify(dir, { FRAGILE: '' });
    const runDir = await onlyRun(reports);
    const cert = await readCertification(join(runDir, 'certification.json'));
    expect(cert.stages.contract, run.stderr).toMatchObject({ status: 'passed', passRate: 1 });
    expect(cert.stages.contract.counts.passed).toBeGreaterThanOrEqual(12);
    expect(cert.criticalFailures).toEqual([]);
    // Only the contract stage ran, so the run is partial: PASSED_PARTIAL (exit 0), never CERTIFIED.
    expect(cert.verdict).toBe('PASSED_PARTIAL');
    expect(run.code).toBe(0);
    const { checks } = await readCheckResults(join(runDir, 'allure-results'));
    // The signals checks of the stage (one per service the config builds) are judged apart.
    const contract = checks.filter((c) => c.stage === 'contract' && c.feature !== 'signals');
    expect(contract).toHaveLength(19);
    expect(contract.every((c) => c.status === 'passed')).toBe(true);
    expect(contract.map((c) => c.id)).toContain('contract.orders.web.an-order-creation');
    expect(contract.map((c) => c.id)).toContain('contract.payments.orders.a-charge-for-a-new-order');
    const matrix = contractMatrixSchema.parse(
      JSON.parse(await readFile(join(runDir, 'contracts/matrix.json'), 'utf8')),
    );
    expect(matrix.rows.map((r) => [r.consumer, r.provider, r.interactions, r.status])).toEqual([
      ['web', 'orders', 14, 'passed'],
      ['orders', 'payments', 5, 'passed'],
    ]);
    expect(matrix.rows[0]?.providerVersion).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
    expect(await readFile(join(runDir, 'contracts/orders/verifier.log'), 'utf8')).toContain(
      'Verifying a pact between web and orders',
    );
    // The state's principal comes from the top-level auth, logged in by the worker's authenticator;
    // its password and the tokens the worker obtained appear in no artifact.
    expect(await attachment(runDir, 'contract.orders.web.an-order-creation', 'provider states')).toMatch(
      /request filter: as customer: login: POST \/v1\/auth\/login -> 200/,
    );
    expect(
      await credentialLeaks(runDir, [contractAccounts.customer.password, contractAccounts.other.password]),
    ).toEqual([]);
    expect(await leftovers(runDir)).toBe(0);
  });

  it("FRAGILE=contract-drift: FAILED_PARTIAL, the order interactions fail with Pact's mismatch text", async () => {
    const { dir, reports } = await project();
    const run = await certify(dir, { FRAGILE: 'contract-drift' });
    expect(run.code, run.stderr).toBe(1);
    const runDir = await onlyRun(reports);
    const cert = await readCertification(join(runDir, 'certification.json'));
    expect(cert.verdict).toBe('FAILED_PARTIAL');
    expect(cert.stages.contract.status).toBe('failed');
    const creation = cert.criticalFailures.find((f) => f.check === 'contract.orders.web.an-order-creation');
    expect(creation?.message).toContain('web -> orders "an order creation" does not match');
    expect(creation?.message).toContain('Actual map is missing the following keys: totalCents');
    expect(cert.criticalFailures.map((f) => f.check).sort()).toEqual([
      'contract.orders.web.a-replayed-order-creation-with-the-same-idempotency-key',
      'contract.orders.web.a-request-for-one-of-the-customers-orders',
      'contract.orders.web.a-request-for-the-customers-orders-one-per-page',
      'contract.orders.web.an-order-creation',
    ]);
    const { checks } = await readCheckResults(join(runDir, 'allure-results'));
    expect(await attachment(runDir, 'contract.orders.web.an-order-creation', 'pact verifier output')).toContain(
      'has a matching body (FAILED)',
    );
    expect(checks.find((c) => c.id === 'contract.orders.web.a-login-with-valid-credentials')?.status).toBe('passed');
    const matrix = contractMatrixSchema.parse(
      JSON.parse(await readFile(join(runDir, 'contracts/matrix.json'), 'utf8')),
    );
    expect(matrix.rows.find((r) => r.provider === 'orders')).toMatchObject({ status: 'failed', counts: { failed: 4 } });
    expect(await leftovers(runDir)).toBe(0);
  });

  it('an empty pact folder is bad input: exit 2 naming contract.pactDir before anything starts', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'readiness-no-pacts-'));
    await mkdir(join(empty, 'pacts'));
    // Only payments is needed to run the stage; no pact means nothing reaches it.
    const { dir, reports } = await project(`,
  stages: ['contract'],
  services: { payments: base.services.payments },
  links: [],
  boot: { readinessTruth: [] },
  // Other stages' settings (and the principals' logins) name services this trimmed stack does not have.
  auth: undefined,
  chaos: undefined,
  security: undefined,
  load: undefined,
  recovery: undefined,
  signals: undefined,
  contract: { ...base.contract, pactDir: ${JSON.stringify(join(empty, 'pacts'))}, providers: { payments: base.contract.providers.payments } }`);
    const run = await certify(dir, { FRAGILE: '' });
    // No pact is no evidence: refused with the config's problems, before a run folder or a container exists.
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(/readiness\.config\.ts: contract\.pactDir .*has no pact file/);
    await expect(readdir(reports)).rejects.toThrow(/ENOENT/);
  });
});
