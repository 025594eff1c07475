import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckResults } from '../../src/core/results.ts';
import { leftovers, onlyRun, referenceProject, runCli as cli } from '../support/harness.ts';

/** The text of the replica check's evidence, read from its Allure result's attachment file. */
async function answers(runDir: string): Promise<string> {
  const dir = join(runDir, 'allure-results');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('-result.json'))) {
    const result = JSON.parse(await readFile(join(dir, file), 'utf8')) as {
      fullName?: string;
      attachments?: { name: string; source: string }[];
    };
    if (result.fullName !== 'boot.replicas.orders') continue;
    const source = result.attachments?.find((a) => a.name === 'answers per replica')?.source;
    if (source) return readFile(join(dir, source), 'utf8');
  }
  throw new Error('no "answers per replica" attachment for boot.replicas.orders');
}

async function bootChecks(fragile: string) {
  const { dir, reports } = await referenceProject('replicas');
  const run = await cli(dir, ['certify', '--stages', 'boot'], { FRAGILE: fragile });
  const runDir = await onlyRun(reports);
  const { checks } = await readCheckResults(join(runDir, 'allure-results'));
  return { run, runDir, checks };
}

describe('replica consistency on the reference stack (boot)', () => {
  it('healthy: orders and orders-b answer alike, boot.replicas.orders passes and boot certifies', async () => {
    const { run, runDir, checks } = await bootChecks('');
    expect(run.code, run.stderr).toBe(0);
    const replicas = checks.find((c) => c.id === 'boot.replicas.orders');
    expect(replicas?.status, replicas?.message).toBe('passed');
    expect(replicas?.metrics).toContainEqual({ name: 'requests_compared', value: 4, unit: 'count' });
    const evidence = await answers(runDir);
    expect(evidence).toMatch(/orders-b -> 200/);
    expect(evidence).toMatch(/as anonymous\n {2}orders -> 401/);
    expect(await leftovers(runDir)).toBe(0);
  });

  it('FRAGILE=replica-drift: exit 1, boot.replicas.orders fails with 200 vs 403, nothing else fails', async () => {
    const { run, runDir, checks } = await bootChecks('replica-drift');
    expect(run.code, run.stderr).toBe(1);
    const failed = checks.filter((c) => c.status !== 'passed' && c.status !== 'not-applicable');
    expect(failed.map((c) => `${c.id}: ${c.status}`)).toEqual(['boot.replicas.orders: failed']);
    const replicas = checks.find((c) => c.id === 'boot.replicas.orders');
    expect(replicas?.message).toContain('GET /v1/users/me as alice: orders 200, orders-b 403');
    const evidence = await answers(runDir);
    expect(evidence).toMatch(/orders-b -> 403 .*profile access requires the admin role/);
    expect(await leftovers(runDir)).toBe(0);
  });
});
