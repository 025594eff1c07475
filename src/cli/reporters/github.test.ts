import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkResultSchema } from '../../core/check-result.ts';
import { githubReporter } from './github.ts';

const check = (status: 'passed' | 'failed' | 'broken' | 'not-applicable') =>
  checkResultSchema.parse({
    id: 'boot.readiness-truth.orders.postgres',
    stage: 'boot',
    name: 'truth',
    feature: 'f',
    status,
    severity: 'critical',
    message: 'kept 200\nfor 5000ms: 100%',
    remediation: 'answer 503',
    startedAt: 0,
    finishedAt: 1,
  });

describe('githubReporter', () => {
  it('annotates failed checks as errors and broken ones as warnings, escaped; passed checks stay quiet', () => {
    const lines: string[] = [];
    const reporter = githubReporter((l) => lines.push(l), undefined);
    for (const status of ['passed', 'failed', 'broken'] as const) reporter.onCheckResult?.(check(status));
    expect(lines).toEqual([
      '::error title=boot%3A boot.readiness-truth.orders.postgres::kept 200%0Afor 5000ms: 100%25%0Afix: answer 503',
      '::warning title=boot%3A boot.readiness-truth.orders.postgres::kept 200%0Afor 5000ms: 100%25%0Afix: answer 503',
    ]);
  });

  it('writes a notice with the reason for a not-applicable check', () => {
    const lines: string[] = [];
    githubReporter((l) => lines.push(l), undefined).onCheckResult?.(check('not-applicable'));
    expect(lines).toEqual([
      '::notice title=boot%3A boot.readiness-truth.orders.postgres::kept 200%0Afor 5000ms: 100%25',
    ]);
  });

  it('appends the verdict markdown to the step summary file', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'gh-')), 'summary.md');
    githubReporter(() => undefined, file).onRunEnd?.({
      verdict: 'CERTIFIED',
      exitCode: 0,
      summaryMarkdown: '## CERTIFIED',
    });
    expect(await readFile(file, 'utf8')).toBe('## CERTIFIED\n');
  });
});
