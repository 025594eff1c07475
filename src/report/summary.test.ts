import { describe, expect, it } from 'vitest';
import { readCertification } from '../certify/certification.ts';
import type { Certification } from '../certify/certification.ts';
import { formatVerdictTable, renderSummaryMarkdown } from './summary.ts';

const FIXTURE = new URL('../../test/fixtures/certify/certification.v1.json', import.meta.url).pathname;

describe('formatVerdictTable', () => {
  it('shows every stage with status, pass rate, passed/due and minimum, then the verdict, fixes and reasons', async () => {
    const text = formatVerdictTable(await readCertification(FIXTURE));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^Stage\s+Status\s+Pass rate\s+Passed\/Due\s+Min$/);
    expect(lines[1]).toMatch(/^boot\s+passed\s+100\.0%\s+1\/1\s+100%$/);
    expect(lines[3]).toMatch(/^security\s+failed\s+50\.0%\s+1\/2\s+100%$/);
    expect(lines[4]).toMatch(/^load\s+failed\s+50\.0%\s+1\/2\s+90%$/);
    expect(lines[6]).toMatch(/^recovery\s+broken\s+0\.0%\s+0\/1\s+100%$/);
    expect(text).toContain('Verdict: NOT CERTIFIED | exit 1 | score 64.3%');
    expect(text).toContain(
      '  - [security] security.authz.admin "Admin routes need the admin role": GET /admin/orders -> 200 for role viewer\n    fix: Enforce the admin role on /admin routes',
    );
    expect(text).toContain('Reasons:\n  - Stage security pass rate 50% (1/2)');
  });

  it('marks unevaluated stages and a partial, conditional run', async () => {
    const base = await readCertification(FIXTURE);
    const cert: Certification = {
      ...base,
      verdict: 'CONDITIONAL',
      exitCode: 4,
      partial: true,
      criticalFailures: [],
      reasons: [
        'Stage boot pass rate 95% (19/20) is below its minimum 100% by 5%, within the conditional margin 10%; not passed: boot.x.',
      ],
      validUntil: '2025-02-09T10:20:00.000Z',
      stages: { ...base.stages, chaos: { ...base.stages.chaos, status: 'skipped', passRate: null, mandatory: false } },
    };
    const text = formatVerdictTable(cert);
    expect(text).toMatch(/^chaos\s+skipped\s+-\s+-\s+not run$/m);
    expect(text).toContain('Verdict: CONDITIONAL | exit 4 | score 64.3% | partial run | valid until 2025-02-09');
    expect(text).toContain('Conditions:\n  - Stage boot pass rate 95%');
    expect(text).not.toContain('Critical checks not passed');
  });
});

describe('renderSummaryMarkdown', () => {
  it('renders a PR comment with a stage table, critical failures, reasons and run facts', async () => {
    const md = renderSummaryMarkdown(await readCertification(FIXTURE));
    expect(md.startsWith('### ❌ Readiness: NOT CERTIFIED\n')).toBe(true);
    expect(md).toContain('| Stage | Status | Pass rate | Passed/Due | Min |');
    expect(md).toContain('| load | failed | 50.0% | 1/2 | 90% |');
    expect(md).toContain(
      '- **security** `security.authz.admin` Admin routes need the admin role: GET /admin/orders -> 200 for role viewer',
    );
    expect(md).toContain('  - fix: Enforce the admin role on /admin routes');
    expect(md).toContain(
      'run 20241123-083000-7f3a · seed 424242 · git 52d1105e3b8f · report: `allure-report/index.html`',
    );
    expect(md.length).toBeLessThan(65_536);
  });

  it('escapes text that would break the table or inject HTML', async () => {
    const base = await readCertification(FIXTURE);
    const md = renderSummaryMarkdown({ ...base, reasons: ['a | b <script>alert(1)</script>\nnext line'] });
    expect(md).toContain('- a \\| b &lt;script>alert(1)&lt;/script> next line');
    expect(md).not.toContain('<script>');
  });

  it('adds the quality gate line and shows an optional stage that ran without a minimum', async () => {
    const base = await readCertification(FIXTURE);
    const chaos = { ...base.stages.chaos, status: 'failed' as const, passRate: 0.5, mandatory: false };
    const cert = { ...base, stages: { ...base.stages, chaos } };
    const md = renderSummaryMarkdown(cert, { qualityGate: 'Allure quality gate failed -> NOT_CERTIFIED, agrees' });
    expect(md).toContain('\nAllure quality gate failed -> NOT\\_CERTIFIED, agrees\n');
    expect(md).toMatch(/\| chaos \| failed \| 50\.0% \| \d+\/\d+ \| optional \|/);
  });
});
