import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load-config.ts';
import type { CheckResult } from '../core/check-result.ts';
import type { SuiteContext } from '../runner/suite.ts';
import { runContractChecks, slug } from './contract-checks.ts';
import { contractMatrixSchema, countStatuses, gitPathVersion, matrixMarkdown, rowStatus } from './matrix.ts';
import { UNIT_HANDLE, recordingContext } from '../../test/support/stage.ts';

const RECORDED_PACTS = new URL('../../test/fixtures/contracts/pacts/', import.meta.url).pathname;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'readiness-contract-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A suite context over a config whose stack is never touched (no pact reaches the verifier). */
function contextFor(contract: Record<string, unknown>, recorded: CheckResult[]): SuiteContext {
  const config = resolveConfig(
    {
      name: 'demo',
      stages: ['contract'],
      services: { api: { image: 'example/api:1', ports: [8080] } },
      contract,
    },
    join(dir, 'readiness.config.ts'),
  );
  return recordingContext(config, 'contract', join(dir, 'run'), recorded);
}

describe('runContractChecks without evidence', () => {
  it('an empty pact folder: every configured provider is unknown, never passed, and the matrix is empty', async () => {
    await mkdir(join(dir, 'pacts'));
    const checks: CheckResult[] = [];
    await runContractChecks(
      contextFor({ pactDir: 'pacts', providers: { api: { service: 'api', port: 8080 } } }, checks),
    );
    expect(checks.map((c) => [c.id, c.status, c.severity])).toEqual([['contract.api.pacts', 'unknown', 'critical']]);
    expect(checks[0]?.message).toBe(
      'No pact in pacts names provider "api": there is no evidence that api honours its consumers\' contracts',
    );
    const matrix = contractMatrixSchema.parse(
      JSON.parse(await readFile(join(dir, 'run/contracts/matrix.json'), 'utf8')),
    );
    expect(matrix.rows).toEqual([]);
    expect(await readFile(join(dir, 'run/contracts/matrix.md'), 'utf8')).toContain('No pact was verified.');
  });

  it('pacts for providers the config does not list are unknown; a broken pact file is broken', async () => {
    await mkdir(join(dir, 'pacts'));
    await writeFile(
      join(dir, 'pacts/web-orders.json'),
      await readFile(join(RECORDED_PACTS, 'web-orders.json'), 'utf8'),
    );
    await writeFile(join(dir, 'pacts/half.json'), '{"consumer":{"name":"x"},');
    const checks: CheckResult[] = [];
    await runContractChecks(
      contextFor({ pactDir: 'pacts', providers: { api: { service: 'api', port: 8080 } } }, checks),
    );
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['contract.pact-file.half', 'broken'],
      ['contract.orders.web.unverified', 'unknown'],
      ['contract.api.pacts', 'unknown'],
    ]);
    const matrix = contractMatrixSchema.parse(
      JSON.parse(await readFile(join(dir, 'run/contracts/matrix.json'), 'utf8')),
    );
    expect(matrix.rows).toEqual([
      expect.objectContaining({ consumer: 'web', provider: 'orders', interactions: 14, status: 'unknown' }),
    ]);
  });
});

describe('matrix and versions', () => {
  it('a row passes only when every interaction passed; nothing is unknown', () => {
    expect(rowStatus(['passed', 'passed'])).toBe('passed');
    expect(rowStatus(['passed', 'skipped'])).toBe('skipped');
    expect(rowStatus(['passed', 'broken', 'failed'])).toBe('failed');
    expect(rowStatus([])).toBe('unknown');
    expect(countStatuses(['passed', 'failed', 'passed'])).toEqual({
      passed: 2,
      failed: 1,
      broken: 0,
      skipped: 0,
      unknown: 0,
      'not-applicable': 0,
    });
  });

  it('renders a Markdown table row per pair', () => {
    const md = matrixMarkdown({
      schemaVersion: 1,
      generatedAt: '2026-01-01T00:00:00.000Z',
      source: 'files',
      rows: [
        {
          consumer: 'web',
          consumerVersion: 'abc',
          provider: 'orders',
          providerVersion: 'def-dirty',
          interactions: 2,
          counts: countStatuses(['passed', 'failed']),
          status: 'failed',
        },
      ],
    });
    expect(md).toContain('| web | abc | orders | def-dirty | 2 | 1 | 1 | 0 | 0 | 0 | failed |');
  });

  it('versions come from git: a commit SHA for tracked paths, unknown outside a checkout', async () => {
    expect(await gitPathVersion(new URL('../../package.json', import.meta.url).pathname)).toMatch(
      /^[0-9a-f]{40}(-dirty)?$/,
    );
    expect(await gitPathVersion(dir)).toBe('unknown');
  });

  it('slugs descriptions into check id segments', () => {
    expect(slug("a request for the customer's orders, one per page")).toBe(
      'a-request-for-the-customers-orders-one-per-page',
    );
    expect(slug('--')).toBe('x');
    expect(slug('x'.repeat(100)).length).toBe(80);
  });
});

describe('runContractChecks on a stack without Docker access (containers: "none")', () => {
  it('an interaction whose provider state runs an exec step is not applicable, with the state and container; no verifier runs', async () => {
    await mkdir(join(dir, 'pacts'));
    const recordedPact = JSON.parse(await readFile(join(RECORDED_PACTS, 'web-orders.json'), 'utf8')) as {
      interactions: { providerStates?: { name: string }[] }[];
    };
    const seeded = recordedPact.interactions.filter((i) =>
      (i.providerStates ?? []).some((s) => s.name === 'a customer account exists'),
    );
    expect(seeded.length).toBe(2);
    await writeFile(join(dir, 'pacts/web-orders.json'), JSON.stringify({ ...recordedPact, interactions: seeded }));
    const config = resolveConfig(
      {
        name: 'demo',
        stages: ['contract'],
        services: {
          orders: { image: 'example/orders:1', ports: [8080] },
          db: { image: 'example/db:1', ports: [5432] },
        },
        contract: {
          pactDir: 'pacts',
          providers: {
            orders: {
              service: 'orders',
              port: 8080,
              states: {
                'a customer account exists': { steps: [{ kind: 'exec', service: 'db', command: ['true'] }] },
              },
            },
          },
        },
      },
      join(dir, 'readiness.config.ts'),
    );
    const checks: CheckResult[] = [];
    const handle = { ...UNIT_HANDLE, containers: 'none' as const };
    await runContractChecks({
      ...recordingContext(config, 'contract', join(dir, 'run'), checks, { handle }),
      targetFile: 'ops/handle.json',
    });
    expect(checks.map((c) => c.status)).toEqual(['not-applicable', 'not-applicable']);
    expect(checks[0]?.message).toBe(
      'Not applicable: ops/handle.json gives the harness no Docker access to its containers (containers: "none"): provider state "a customer account exists" runs a command in the container of db',
    );
  });
});
