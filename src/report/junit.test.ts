import { describe, expect, it } from 'vitest';
import { checkResultSchema } from '../core/check-result.ts';
import type { CheckResult, CheckResultInput } from '../core/check-result.ts';
import { renderJunitXml, xmlEscape } from './junit.ts';

const check = (extra: Partial<CheckResultInput> & Pick<CheckResultInput, 'id' | 'status'>): CheckResult =>
  checkResultSchema.parse({
    stage: 'boot',
    name: `check ${extra.id}`,
    feature: 'health',
    severity: 'normal',
    startedAt: 1_000,
    finishedAt: 2_500,
    ...extra,
  });

const CHECKS = [
  check({ id: 'boot.ok', status: 'passed', metrics: [{ name: 'p95_ms', value: 12, unit: 'ms' }] }),
  check({
    id: 'boot.truth',
    status: 'failed',
    message: 'kept answering 200 <while> "down" & more',
    remediation: 'answer 503',
  }),
  check({ id: 'boot.fault', status: 'broken', message: 'toxic not listed' }),
  check({ id: 'security.zap', stage: 'security', feature: 'scan', status: 'skipped', message: 'image absent' }),
  check({ id: 'load.p99', stage: 'load', feature: 'latency', status: 'unknown' }),
];

describe('renderJunitXml', () => {
  const xml = renderJunitXml(CHECKS, { name: 'ref run-1', timestamp: '2025-01-10T10:00:00.000Z' });

  it('writes one testcase per check, grouped in one testsuite per stage, with totals', () => {
    expect(
      xml.startsWith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="ref run-1" tests="5" failures="1" errors="1" skipped="2"',
      ),
    ).toBe(true);
    expect(xml.match(/<testcase /g)).toHaveLength(5);
    expect(xml).toContain('<testsuite name="boot" tests="3" failures="1" errors="1" skipped="0" time="4.500"');
    expect(xml).toContain('<testsuite name="security" tests="1" failures="0" errors="0" skipped="1"');
    expect(xml).not.toContain('<testsuite name="chaos"');
    expect(xml).toContain('<testcase name="boot.ok: check boot.ok" classname="boot.health" time="1.500">');
    expect(xml).toContain('<property name="metric.p95_ms" value="12 ms"/>');
  });

  it('maps failed to <failure>, broken to <error>, skipped and unknown to <skipped> with a message', () => {
    expect(xml).toContain(
      '<failure message="kept answering 200 &lt;while&gt; &quot;down&quot; &amp; more" type="failed">kept answering 200 &lt;while&gt; &quot;down&quot; &amp; more\nRemediation: answer 503</failure>',
    );
    expect(xml).toContain('<error message="toxic not listed" type="broken">toxic not listed</error>');
    expect(xml).toContain('<skipped message="skipped: image absent"/>');
    expect(xml).toContain('<skipped message="unknown (no evidence, never counts as passed): no message"/>');
    const passed = /<testcase name="boot\.ok[^]*?<\/testcase>/.exec(xml)?.[0] ?? '';
    expect(passed).not.toMatch(/<failure|<error|<skipped/);
  });

  it('escapes markup and drops characters XML cannot hold', () => {
    expect(xmlEscape(`a<b>&"c'\u0001d`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;d');
  });
});
