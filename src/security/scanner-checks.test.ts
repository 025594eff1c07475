import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeSchemathesisReport, judgeZapRun } from './scanner-checks.ts';
import { parseSchemathesisReport } from './scanners/schemathesis.ts';
import type { SchemathesisReport } from './scanners/schemathesis.ts';
import { parseZapReport, zapExitOutcome } from './scanners/zap.ts';
import type { ZapRun } from './scanners/zap.ts';
import { parseRulesTsv } from './zap-policy.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/security');
const report = async (name: string): Promise<SchemathesisReport> =>
  parseSchemathesisReport(JSON.parse(await readFile(join(FIXTURES, name), 'utf8')));
const options = {
  baseUrl: 'http://127.0.0.1:33104',
  unlisted: 'WARN',
  failOn: 'FAIL',
  seed: 7,
  output: '$ st run',
} as const;

describe('judgeSchemathesisReport (recorded st 4.32.5 reports)', () => {
  it('passes a clean run, with its figures and the output as evidence', async () => {
    const clean = await report('schemathesis-report-clean.json');
    const { outcome, evaluated } = judgeSchemathesisReport(clean, parseRulesTsv('', 'rules.tsv'), options);
    expect(evaluated).toEqual([]);
    expect(outcome.status).toBe('passed');
    expect(outcome.message).toMatch(/^schemathesis 4\.32\.5: \d+ test cases on (\d+)\/\1 operations in /);
    expect(outcome.message).toMatch(/findings FAIL 0, WARN 0, INFO 0, IGNORE 0$/);
    expect(outcome.evidence?.map((e) => e.content)).toEqual(['none', '$ st run']);
  });

  it('fails the contract-drift run when its rule is FAIL, and passes it as a warning when unlisted', async () => {
    const drift = await report('schemathesis-report-contract-drift.json');
    const failing = judgeSchemathesisReport(
      drift,
      parseRulesTsv('ST104\tFAIL\t(Missing Content-Type)\n', 'r.tsv'),
      options,
    );
    expect(failing.outcome.status).toBe('failed');
    expect(failing.outcome.message).toMatch(/: FAIL ST104 Missing Content-Type header$/);
    const warned = judgeSchemathesisReport(drift, parseRulesTsv('', 'r.tsv'), options);
    expect(warned.outcome.status).toBe('passed');
    expect(warned.outcome.message).toMatch(/findings FAIL 0, WARN 1, INFO 0, IGNORE 0$/);
    expect(
      judgeSchemathesisReport(drift, parseRulesTsv('', 'r.tsv'), { ...options, failOn: 'WARN' }).outcome.status,
    ).toBe('failed');
  });

  it('is broken when errors kept it from testing everything, and unknown when nothing was tested', async () => {
    const clean = await report('schemathesis-report-clean.json');
    const policy = parseRulesTsv('', 'r.tsv');
    const errored = judgeSchemathesisReport({ ...clean, errors: [{ message: 'connection refused' }] }, policy, options);
    expect(errored.outcome.status).toBe('broken');
    expect(errored.outcome.message).toMatch(/; 1 errors kept schemathesis from testing everything$/);
    const untested = judgeSchemathesisReport(
      { ...clean, operations: { ...clean.operations, tested: 0 } },
      policy,
      options,
    );
    expect(untested.outcome).toMatchObject({ status: 'unknown' });
    expect(untested.outcome.message).toMatch(/: no operation was tested$/);
  });
});

describe('judgeZapRun (recorded ZAP report of FRAGILE=no-headers)', () => {
  const zapRun = async (code: number | null, withReport = true): Promise<ZapRun> => ({
    exit: zapExitOutcome(code),
    findings: withReport
      ? parseZapReport(JSON.parse(await readFile(join(FIXTURES, 'zap-report-no-headers.json'), 'utf8')))
      : undefined,
    reportError: withReport ? undefined : 'zap-report.json: not found',
    logTail: 'PASS: 10 WARN: 2 FAIL: 1',
    args: ['zap-api-scan.py', '-t', 'openapi.json'],
  });
  const policy = parseRulesTsv('10038\tFAIL\t(CSP)\n', 'rules.tsv');

  it('takes the status from the exit code and shows the findings under the policy', async () => {
    const { outcome, evaluated } = judgeZapRun(await zapRun(1), policy, { failOn: 'FAIL', unlisted: 'WARN' });
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toMatch(/^zap-api-scan\.py .+; report findings FAIL 1, WARN \d+, INFO \d+, IGNORE 0$/);
    expect(evaluated.find((e) => e.finding.ruleId === '10038')?.level).toBe('FAIL');
    expect(outcome.evidence?.[1]?.content).toBe('zap-api-scan.py -t openapi.json\nPASS: 10 WARN: 2 FAIL: 1');
  });

  it('is broken when the scan passed but left no readable report', async () => {
    const { outcome } = judgeZapRun(await zapRun(0, false), policy, { failOn: 'FAIL', unlisted: 'WARN' });
    expect(outcome.status).toBe('broken');
    expect(outcome.message).toMatch(/, but no readable report: zap-report\.json: not found$/);
  });
});
