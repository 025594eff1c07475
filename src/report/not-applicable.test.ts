import { describe, expect, it } from 'vitest';
import { certifyChecks } from '../certify/certification.ts';
import { checkResultSchema } from '../core/check-result.ts';
import type { CheckResult, CheckResultInput } from '../core/check-result.ts';
import { STAGES } from '../core/stage.ts';
import { defaultPolicy } from '../config/schema.ts';
import { renderCertificateHtml } from './certificate.ts';
import { renderJunitXml } from './junit.ts';
import { formatVerdictTable, renderSummaryMarkdown } from './summary.ts';

const check = (extra: Partial<CheckResultInput> & Pick<CheckResultInput, 'id' | 'status'>): CheckResult =>
  checkResultSchema.parse({
    stage: 'security',
    name: `check ${extra.id}`,
    feature: 'authn',
    severity: 'normal',
    startedAt: 1_000,
    finishedAt: 1_000,
    ...extra,
  });

const LOCKOUT = check({
  id: 'security.authn.lockout',
  status: 'not-applicable',
  severity: 'critical',
  message: 'Not applicable: logins are rate limited, accounts are never locked',
  tags: ['not-applicable'],
});
const RATE_LIMIT = check({
  id: 'security.ratelimit.not-configured',
  status: 'not-applicable',
  message: 'Not configured: security.rateLimit is not set',
  tags: ['security', 'not-configured'],
});

function certification() {
  return certifyChecks({
    checks: [...STAGES.map((stage) => check({ id: `${stage}.main`, stage, status: 'passed' })), LOCKOUT, RATE_LIMIT],
    invalid: [],
    runId: 'na',
    policy: defaultPolicy(),
    enabledStages: [...STAGES],
    selectedStages: [...STAGES],
    startedAt: new Date('2026-12-01T10:00:00.000Z'),
    finishedAt: new Date('2026-12-01T10:20:00.000Z'),
    seed: 1,
    git: { sha: null, dirty: null },
    reportPath: null,
  });
}

describe('not-applicable checks in the reports (issue 14 point 3)', () => {
  it('JUnit: a skipped test case that says not applicable and why, counted as skipped', () => {
    const xml = renderJunitXml([LOCKOUT], { name: 'r', timestamp: '2026-12-01T10:00:00.000Z' });
    expect(xml).toContain(
      '<skipped message="not applicable: Not applicable: logins are rate limited, accounts are never locked"/>',
    );
    expect(xml).toContain('<property name="status" value="not-applicable"/>');
    expect(xml).toContain('<testsuite name="security" tests="1" failures="0" errors="0" skipped="1"');
  });

  it('the certificate lists what is not covered, with kind and reason, and the run stays CERTIFIED', () => {
    const cert = certification();
    expect(cert.verdict).toBe('CERTIFIED');
    const html = renderCertificateHtml({
      cert,
      stackName: 's',
      trend: [],
      evidenceSha256: 'e',
      gate: { outcome: 'passed', gateVerdict: 'CERTIFIED', agrees: true, failedRules: 0 },
      tools: {},
      images: {},
    });
    expect(html).toContain(
      '<h2>Not covered</h2><ul class="critical" id="not-covered"><li><b>security.authn.lockout</b> <span class="muted">(security, not applicable, critical)</span>: Not applicable: logins are rate limited, accounts are never locked</li><li><b>security.ratelimit.not-configured</b> <span class="muted">(security, not configured)</span>: Not configured: security.rateLimit is not set</li></ul>',
    );
  });

  it('summary.md and the verdict table list what is not covered with the reasons', () => {
    const cert = certification();
    expect(renderSummaryMarkdown(cert)).toContain(
      '**Not covered** (never counted as passed)\n\n- **security** `security.authn.lockout`, not applicable, critical: Not applicable: logins are rate limited, accounts are never locked\n- **security** `security.ratelimit.not-configured`, not configured: Not configured: security.rateLimit is not set\n',
    );
    expect(formatVerdictTable(cert)).toContain(
      'Not covered (never counted as passed):\n  - [security] security.authn.lockout, not applicable, critical: Not applicable: logins are rate limited, accounts are never locked\n  - [security] security.ratelimit.not-configured, not configured: Not configured: security.rateLimit is not set\n',
    );
  });
});
