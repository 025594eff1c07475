import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRedactor } from './redact.ts';
import { readCheckResults, writeCheckResult } from './results.ts';

describe('check results as Allure results', () => {
  it('round-trips a check through the Allure result format, redacting secrets', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'results-'));
    const redact = createRedactor(['top-secret-value']);
    await writeCheckResult(
      dir,
      {
        id: 'boot.readiness-truth.orders.postgres',
        stage: 'boot',
        name: 'orders readiness reflects the loss of postgres',
        feature: 'readiness truth',
        status: 'failed',
        severity: 'critical',
        message: 'saw top-secret-value in the body',
        remediation: 'answer 503',
        startedAt: 1000,
        finishedAt: 2000,
        tags: ['toxiproxy'],
        metrics: [{ name: 'time_to_detect_ms', value: 420, unit: 'ms' }],
        evidence: [{ name: 'timeline', contentType: 'text/plain', content: 'token top-secret-value' }],
      },
      redact,
    );
    const files = await readdir(dir);
    expect(files.filter((f) => f.endsWith('-result.json'))).toHaveLength(1);
    const attachment = files.find((f) => f.endsWith('-attachment.txt'));
    expect(attachment).toBeDefined();
    expect(await readFile(join(dir, attachment!), 'utf8')).toBe('token [REDACTED]');
    const { checks, invalid } = await readCheckResults(dir);
    expect(invalid).toEqual([]);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({
      id: 'boot.readiness-truth.orders.postgres',
      stage: 'boot',
      status: 'failed',
      severity: 'critical',
      message: 'saw [REDACTED] in the body',
      remediation: 'answer 503',
      metrics: [{ name: 'time_to_detect_ms', value: 420, unit: 'ms' }],
      tags: ['toxiproxy'],
    });
  });

  it('reports foreign or corrupt result files as invalid instead of dropping them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'results-'));
    await writeFile(join(dir, 'a-result.json'), '{not json');
    await writeFile(join(dir, 'b-result.json'), JSON.stringify({ uuid: 'b', name: 'x', status: 'passed', labels: [] }));
    const { checks, invalid } = await readCheckResults(dir);
    expect(checks).toEqual([]);
    expect(invalid).toHaveLength(2);
    expect(invalid[1]).toMatch(/b-result\.json: not a readiness check/);
  });

  it('reads an absent directory as no checks', async () => {
    expect(await readCheckResults('/nonexistent/dir')).toEqual({ checks: [], invalid: [] });
  });
});
