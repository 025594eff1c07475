import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCheckResults } from '../../src/core/results.ts';
import { runBootStage } from '../support/stage.ts';

const SUITE_MODULE = pathToFileURL(join(import.meta.dirname, '../../src/runner/suite.ts')).href;

/** Runs one boot suite under a config whose `notApplicable` is given; returns what was recorded and written. */
async function stageWith(suite: string, notApplicable: Record<string, string>) {
  return runBootStage({ 'na.suite.ts': suite }, { config: { notApplicable } });
}

describe('notApplicable in the runner (issue 14 point 3)', () => {
  it('runCheck does not run the body of a not-applicable check and records it with the reason', async () => {
    const { results, root } = await stageWith(
      `import { writeFileSync } from 'node:fs';
      import { runCheck } from '${SUITE_MODULE}';
      export default { stage: 'boot', name: 'na', run: async (ctx) => {
        await runCheck(ctx, { id: 'boot.lockout', name: 'Lockout', feature: 'authn', severity: 'critical', tags: ['t'] }, async () => {
          writeFileSync(${JSON.stringify(join('ROOT', 'ran'))}.replace('ROOT', ctx.runDir), 'the body ran');
          return { status: 'passed' };
        });
        await runCheck(ctx, { id: 'boot.other', name: 'Other', feature: 'f', severity: 'normal' }, async () => ({ status: 'passed' }));
      } };`,
      { 'boot.lockout': 'no account lockout: logins are rate limited' },
    );
    expect(results.map((r) => [r.id, r.status, r.message])).toEqual([
      ['boot.lockout', 'not-applicable', 'Not applicable: no account lockout: logins are rate limited'],
      ['boot.other', 'passed', undefined],
    ]);
    expect(results[0]?.tags).toEqual(['t', 'not-applicable']);
    expect(await readdir(root)).not.toContain('ran');
  });

  it('a family recorded "not configured" takes the reason the config declares for it, keeping its tag and what it said', async () => {
    const { results } = await stageWith(
      `export default { stage: 'boot', name: 'na', run: async (ctx) => {
        for (const family of ['rolling', 'other'])
          await ctx.record({ id: 'boot.' + family + '.not-configured', name: family, feature: 'f', severity: 'normal', status: 'not-applicable', message: 'Not configured: boot.' + family + ' is not set', tags: ['not-configured'], startedAt: 0, finishedAt: 0 });
      } };`,
      { 'boot.rolling*': 'one replica, no load balancer' },
    );
    expect(results.map((r) => [r.id, r.status, r.message])).toEqual([
      ['boot.rolling.not-configured', 'not-applicable', 'Not applicable: one replica, no load balancer'],
      ['boot.other.not-configured', 'not-applicable', 'Not configured: boot.other is not set'],
    ]);
    expect(results[0]?.tags).toEqual(['not-configured']);
    expect(results[0]?.parameters).toEqual({ observed: 'not-applicable: Not configured: boot.rolling is not set' });
  });

  it('record rewrites a matching id (exact or family prefix), keeps what it observed, and turns a planned fill-in not applicable', async () => {
    const { results, resultsDir } = await stageWith(
      `export default { stage: 'boot', name: 'na',
        plan: () => [{ id: 'boot.erasure.db', name: 'Erasure reaches the database', feature: 'compliance', severity: 'critical' }],
        run: async (ctx) => {
          await ctx.record({ id: 'boot.refresh-reuse', name: 'Refresh reuse', feature: 'authn', severity: 'critical', status: 'skipped', message: 'security.auth.refresh is not configured', remediation: 'configure it', startedAt: 0, finishedAt: 0 });
          await ctx.record({ id: 'boot.kept', name: 'Kept', feature: 'f', severity: 'normal', status: 'failed', message: 'still failed', startedAt: 0, finishedAt: 0 });
        } };`,
      { 'boot.refresh-reuse': 'no refresh tokens', 'boot.erasure.*': 'the service stores no personal data' },
    );
    expect(results.map((r) => [r.id, r.status, r.message])).toEqual([
      ['boot.refresh-reuse', 'not-applicable', 'Not applicable: no refresh tokens'],
      ['boot.kept', 'failed', 'still failed'],
      ['boot.erasure.db', 'not-applicable', 'Not applicable: the service stores no personal data'],
    ]);
    expect(results[0]?.parameters).toEqual({ observed: 'skipped: security.auth.refresh is not configured' });
    expect(results[0]?.remediation).toBeUndefined();
    expect(results[2]?.parameters['observed']).toMatch(/^unknown: Planned but not recorded/);
    expect(results[2]?.tags).toEqual(['not-recorded', 'not-applicable']);
    // Allure has no such status: the result file says skipped, with a label that reads back as not-applicable.
    const read = await readCheckResults(resultsDir);
    expect(read.invalid).toEqual([]);
    expect(read.checks.map((c) => [c.id, c.status]).sort()).toEqual([
      ['boot.erasure.db', 'not-applicable'],
      ['boot.kept', 'failed'],
      ['boot.refresh-reuse', 'not-applicable'],
    ]);
    const files = (await readdir(resultsDir)).filter((f) => f.endsWith('-result.json'));
    const raw = await Promise.all(
      files.map(
        async (f) =>
          JSON.parse(await readFile(join(resultsDir, f), 'utf8')) as {
            fullName: string;
            status: string;
            statusDetails: { message?: string };
            labels: { name: string; value: string }[];
          },
      ),
    );
    const refresh = raw.find((r) => r.fullName === 'boot.refresh-reuse');
    expect(refresh?.status).toBe('skipped');
    expect(refresh?.statusDetails.message).toBe('Not applicable: no refresh tokens');
    expect(refresh?.labels).toContainEqual({ name: 'readinessStatus', value: 'not-applicable' });
    expect(refresh?.labels).toContainEqual({ name: 'tag', value: 'not-applicable' });
  });
});
