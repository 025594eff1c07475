import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { parseZapReport } from './scanners/zap.ts';
import { applyPolicy, loadRulesPolicy, parseRulesTsv, policyVerdict, zapRulesTsv } from './zap-policy.ts';

const ROOT = join(import.meta.dirname, '../..');
const RULES = join(ROOT, 'examples/reference-stack/security-rules.tsv');
const REPORT = join(ROOT, 'test/fixtures/security/zap-report-no-headers.json');

describe('rules TSV (ZAP format)', () => {
  it('reads the reference policy: levels, descriptions with a user message, OUTOFSCOPE regexes', async () => {
    const policy = await loadRulesPolicy(RULES);
    expect(policy.rules.get('10038')?.level).toBe('FAIL');
    expect(policy.rules.get('ST101')?.level).toBe('FAIL');
    expect(policy.rules.get('ST104')?.level).toBe('WARN');
    expect(policy.rules.get('10049')).toMatchObject({
      level: 'IGNORE',
      description: expect.stringContaining('no-store'),
    });
    expect(policy.outOfScope.get('*')?.[0]?.test('http://orders:8080/metrics')).toBe(true);
    expect(policy.outOfScope.get('*')?.[0]?.test('http://orders:8080/v1/metrics-report')).toBe(false);
  });

  it('rejects what zap-api-scan.py would refuse, naming file and line', () => {
    const text = '# comment\n10038\tFAIL\t(CSP)\n10020\tFAIL\n10021\tBLOCK\t(XCTO)\n*\tOUTOFSCOPE\t(unclosed\n';
    let error: unknown;
    try {
      parseRulesTsv(text, 'rules.tsv');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^rules\.tsv:3: expected <rule id><TAB><level><TAB><description>/),
      expect.stringMatching(/^rules\.tsv:4: level "BLOCK" is not one of IGNORE, INFO, WARN, FAIL or OUTOFSCOPE/),
      expect.stringMatching(/^rules\.tsv:5: OUTOFSCOPE regex "\(unclosed" does not compile/),
    ]);
  });

  it('gives ZAP only its own rules (numeric ids) and the OUTOFSCOPE lines', async () => {
    const tsv = zapRulesTsv(await loadRulesPolicy(RULES));
    expect(tsv).toMatch(/^10038\tFAIL\t/m);
    expect(tsv).toMatch(/^\*\tOUTOFSCOPE\t/m);
    expect(tsv).not.toMatch(/^ST\d+/m);
    for (const line of tsv.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(line.split('\t').length).toBeGreaterThanOrEqual(3);
    }
  });
});

describe('the policy on a ZAP traditional-json report', () => {
  it('FAILs the header and disclosure alerts, drops out-of-scope ones, keeps informational ones out of WARN/FAIL', async () => {
    const policy = await loadRulesPolicy(RULES);
    const findings = parseZapReport(JSON.parse(await readFile(REPORT, 'utf8')));
    expect(findings).toHaveLength(10);
    const evaluated = applyPolicy(findings, policy, { unlisted: 'WARN' });
    const levels = Object.fromEntries(evaluated.map((e) => [e.finding.ruleId, e.level]));
    expect(levels).toEqual({
      '10038': 'FAIL',
      '10020': 'FAIL',
      '10021': 'FAIL',
      '10037': 'FAIL',
      '10036': 'FAIL',
      '90022': 'FAIL',
      // Informational: WARN in the rules file, but ZAP never warns on informational alerts.
      '100000': 'INFO',
      '10049': 'IGNORE',
      // Not listed: the unlisted level.
      '10104': 'WARN',
    });
    // 10098 was only seen on /metrics, which is out of scope for every rule.
    expect(evaluated.find((e) => e.finding.ruleId === '10098')).toBeUndefined();
    const verdict = policyVerdict(evaluated, 'FAIL');
    expect(verdict.passed).toBe(false);
    expect(verdict.counts).toEqual({ FAIL: 6, WARN: 1, INFO: 1, IGNORE: 1 });
  });

  it('passes when only warnings remain, unless warnings fail too', async () => {
    const policy = await loadRulesPolicy(RULES);
    const findings = parseZapReport(JSON.parse(await readFile(REPORT, 'utf8'))).filter((f) => f.ruleId === '10104');
    const evaluated = applyPolicy(findings, policy, { unlisted: 'WARN' });
    expect(policyVerdict(evaluated, 'FAIL').passed).toBe(true);
    expect(policyVerdict(evaluated, 'WARN').blocking.map((b) => b.finding.ruleId)).toEqual(['10104']);
    expect(policyVerdict(applyPolicy(findings, policy, { unlisted: 'INFO' }), 'WARN').passed).toBe(true);
  });
});
