import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../core/check-result.ts';
import { buildSarif, checkResults, findingResults, uriReference } from './sarif.ts';
import { parseSchemathesisReport, schemathesisFindings } from './scanners/schemathesis.ts';
import { parseZapReport } from './scanners/zap.ts';
import { applyPolicy, loadRulesPolicy } from './zap-policy.ts';

const ROOT = join(import.meta.dirname, '../..');
/** The OASIS SARIF 2.1.0 schema as an npm package ships it (a devDependency), not a vendored copy. */
const SARIF_SCHEMA = 'node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json';
const FIXTURES = join(ROOT, 'test/fixtures/security');
const readJson = async (path: string): Promise<unknown> => JSON.parse(await readFile(path, 'utf8'));

/** The OASIS SARIF 2.1.0 schema (draft-04); Ajv 8 reads it once `id` is spelled `$id` (no draft-04-only keywords are used). */
async function sarifValidator() {
  const schema = (await readJson(join(ROOT, SARIF_SCHEMA))) as Record<string, unknown>;
  const { $schema: _draft, id, ...rest } = schema;
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false }); // rtm.5 has a pattern that is invalid in unicode mode
  // ajv-formats is CommonJS: under nodenext its plugin is the default export's `default`.
  formats.default(ajv);
  return ajv.compile({ ...rest, $id: String(id) });
}

const check = (id: string, status: CheckResult['status'], extra: Partial<CheckResult> = {}): CheckResult => ({
  id,
  stage: 'security',
  name: `check ${id}`,
  feature: 'headers',
  status,
  severity: 'critical',
  startedAt: 0,
  finishedAt: 1,
  flaky: false,
  tags: [],
  metrics: [],
  evidence: [],
  parameters: {},
  ...extra,
});

async function sampleLog(): Promise<Record<string, unknown>> {
  const policy = await loadRulesPolicy(join(ROOT, 'examples/reference-stack/security-rules.tsv'));
  const zap = applyPolicy(parseZapReport(await readJson(join(FIXTURES, 'zap-report-no-headers.json'))), policy, {
    unlisted: 'WARN',
  });
  const st = parseSchemathesisReport(await readJson(join(FIXTURES, 'schemathesis-report-contract-drift.json')));
  const stFindings = applyPolicy(schemathesisFindings(st, 'http://127.0.0.1:8080'), policy, { unlisted: 'WARN' });
  return buildSarif([
    {
      tool: { name: 'readiness' },
      results: checkResults(
        [
          check('security.headers.required', 'failed', { message: 'missing CSP', remediation: 'send CSP' }),
          check('security.authn.alg-none', 'passed'),
          check('security.authn.expired', 'skipped'),
          check('security.input.injection', 'broken'),
          check('security.authn.lockout', 'not-applicable', {
            message: 'Not applicable: no account lockout, logins are rate limited',
          }),
        ],
        'http://127.0.0.1:8080',
      ),
      invocation: {
        executionSuccessful: false,
        startTimeUtc: '2026-11-23T11:00:00.000Z',
        endTimeUtc: '2026-11-23T11:01:00.000Z',
      },
      properties: { rulesFile: policy.file },
    },
    {
      tool: {
        name: 'schemathesis',
        version: st.schemathesis_version,
        informationUri: 'https://schemathesis.readthedocs.io/',
      },
      results: findingResults(stFindings, policy.file),
      invocation: { executionSuccessful: true, exitCode: 1 },
    },
    {
      tool: { name: 'ZAP', version: 'stable', informationUri: 'https://www.zaproxy.org/' },
      results: findingResults(zap, policy.file),
      invocation: {
        executionSuccessful: true,
        exitCode: 1,
        notifications: [{ level: 'note', text: 'exit 1: at least one FAIL alert' }],
      },
    },
    {
      tool: { name: 'ZAP' },
      results: [],
      invocation: {
        executionSuccessful: false,
        notifications: [{ level: 'warning', text: 'not run: the ZAP image cannot be had' }],
      },
    },
  ]);
}

describe('SARIF 2.1.0 log of the security stage', () => {
  it('validates against the OASIS SARIF 2.1.0 JSON schema', async () => {
    const validate = await sarifValidator();
    const log = await sampleLog();
    const valid = validate(log);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema is strict enough to reject a broken log', async () => {
    const validate = await sarifValidator();
    expect(validate({ version: '2.1.0', runs: [{ tool: { driver: {} }, results: [{ level: 'fatal' }] }] })).toBe(false);
    expect(validate({ version: '2.0.0', runs: [] })).toBe(false);
  });

  it('maps policy levels to SARIF levels, IGNORE to a suppression, checks to pass/fail/review/open/notApplicable', async () => {
    const log = (await sampleLog()) as {
      runs: {
        tool: { driver: { rules: { id: string; properties: Record<string, unknown> }[] } };
        results: Record<string, unknown>[];
      }[];
    };
    const [native, st, zap] = log.runs;
    const byRule = (run: typeof native, id: string) => run?.results.filter((r) => r['ruleId'] === id) ?? [];
    expect(byRule(zap, '10038')).toHaveLength(3);
    expect(byRule(zap, '10038')[0]).toMatchObject({ kind: 'fail', level: 'error' });
    expect(byRule(zap, '10104')[0]).toMatchObject({ level: 'warning' });
    expect(byRule(zap, '10049')[0]).toMatchObject({
      level: 'note',
      suppressions: [{ kind: 'external', status: 'accepted' }],
    });
    expect(byRule(zap, '10098')).toEqual([]);
    expect(zap?.tool.driver.rules.find((r) => r.id === '10038')?.properties).toMatchObject({
      'security-severity': '5.5',
      tags: ['security', 'external/cwe/cwe-693'],
    });
    expect(byRule(st, 'ST104')[0]).toMatchObject({ level: 'warning', kind: 'fail' });
    expect(byRule(native, 'security.headers.required')[0]).toMatchObject({ kind: 'fail', level: 'error' });
    expect(byRule(native, 'security.authn.alg-none')[0]).toMatchObject({ kind: 'pass', level: 'none' });
    expect(byRule(native, 'security.input.injection')[0]).toMatchObject({ kind: 'review', level: 'none' });
    expect(byRule(native, 'security.authn.expired')[0]).toMatchObject({ kind: 'open', level: 'none' });
    expect(byRule(native, 'security.authn.lockout')[0]).toMatchObject({
      kind: 'notApplicable',
      level: 'none',
      message: { text: 'Not applicable: no account lockout, logins are rate limited' },
    });
  });

  it('percent-encodes URL templates into URI references', () => {
    expect(uriReference('http://h:1/v1/orders/{id}')).toBe('http://h:1/v1/orders/%7Bid%7D');
    expect(uriReference('/v1/orders/{id}')).toBe('/v1/orders/%7Bid%7D');
  });
});
