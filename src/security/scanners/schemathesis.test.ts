import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecurityConfigDefaults } from '../../../test/fixtures/security/defaults.ts';
import { parseSchemathesisReport, schemathesisArgs, schemathesisFindings } from './schemathesis.ts';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/security');
const read = async (name: string): Promise<unknown> => JSON.parse(await readFile(join(FIXTURES, name), 'utf8'));

describe('schemathesis JSON report (recorded from st 4.32.5 against fixtures/stack)', () => {
  it('reads a clean run: nothing failed, every operation tested', async () => {
    const report = parseSchemathesisReport(await read('schemathesis-report-clean.json'));
    expect(report.schemathesis_version).toBe('4.32.5');
    expect(report.exit_code).toBe(0);
    expect(report.operations.tested).toBe(report.operations.selected);
    expect(schemathesisFindings(report, 'http://127.0.0.1:1')).toEqual([]);
  });

  it('turns failures into findings: code as rule id, one instance per operation (FRAGILE=contract-drift)', async () => {
    const report = parseSchemathesisReport(await read('schemathesis-report-contract-drift.json'));
    expect(report.exit_code).toBe(1);
    expect(schemathesisFindings(report, 'http://127.0.0.1:33104')).toEqual([
      {
        scanner: 'schemathesis',
        ruleId: 'ST104',
        name: 'Missing Content-Type header',
        risk: 'medium',
        confidence: 'high',
        description: 'MissingContentType: 1 failing test case(s)',
        helpUri: 'https://schemathesis.readthedocs.io/en/stable/',
        instances: [{ method: 'GET', uri: 'http://127.0.0.1:33104/v1/orders' }],
      },
    ]);
  });

  it('refuses a file that is not a report', () => {
    expect(() => parseSchemathesisReport({ failures: [] })).toThrow(/not a schemathesis JSON report/);
  });
});

describe('st run arguments', () => {
  it('are bounded (max examples, one worker, request timeout), authenticated and write the JSON report', () => {
    const options = {
      location: 'http://127.0.0.1:8080/openapi.json',
      headers: { authorization: 'Bearer tok', 'x-tenant': 't1' },
      reportFile: '/tmp/r.json',
      seed: 42,
      requestTimeoutS: 5,
      config: { ...SecurityConfigDefaults.schemathesis, rateLimit: '9/s', allowNullBytes: false },
    };
    const args = schemathesisArgs(options);
    const value = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
    expect(args.slice(0, 2)).toEqual(['run', 'http://127.0.0.1:8080/openapi.json']);
    expect(value('--checks')).toBe('not_a_server_error,response_schema_conformance,ignored_auth');
    // Every credential header of the user, whatever the scheme: never a made-up Authorization: Bearer.
    const headers = args.flatMap((arg, i) => (args[i - 1] === '--header' ? [arg] : []));
    expect(headers).toEqual(['authorization: Bearer tok', 'x-tenant: t1']);
    const cookie = schemathesisArgs({ ...options, headers: { cookie: 'session=s1' } });
    expect(cookie.flatMap((arg, i) => (cookie[i - 1] === '--header' ? [arg] : []))).toEqual(['cookie: session=s1']);
    expect(value('--max-examples')).toBe('20');
    expect(value('--workers')).toBe('1');
    expect(value('--seed')).toBe('42');
    expect(value('--rate-limit')).toBe('9/s');
    expect(value('--generation-allow-x00')).toBe('false');
    expect(value('--report')).toBe('json');
    expect(value('--report-json-path')).toBe('/tmp/r.json');
    // Never --max-time: it makes schemathesis spend the whole budget instead of stopping when done.
    expect(args).not.toContain('--max-time');
  });
});
