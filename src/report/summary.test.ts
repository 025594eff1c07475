import { describe, expect, it } from 'vitest';
import { certifyRecorded, recordedChecks, recordedDefectRun } from '../../test/support/recorded-checks.ts';
import { whatChanged } from '../certify/changes.ts';
import { certificationSchema, readCertification } from '../certify/certification.ts';
import type { Certification } from '../certify/certification.ts';
import { formatVerdictTable, renderSummaryMarkdown } from './summary.ts';

const FIXTURES = new URL('../../test/fixtures/certify/', import.meta.url).pathname;
const FIXTURE = `${FIXTURES}certification.v2.json`;
const PARTIAL = `${FIXTURES}certification.v2-partial.json`;

describe('formatVerdictTable', () => {
  it('shows every stage with status, pass rate, passed/due, skipped and minimum, then the verdict, fixes and reasons', async () => {
    const text = formatVerdictTable(await readCertification(FIXTURE));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^Stage\s+Status\s+Pass rate\s+Passed\/Due\s+Skipped\s+Min$/);
    expect(lines[1]).toMatch(/^boot\s+passed\s+100\.0%\s+1\/1\s+-\s+100%$/);
    expect(lines[3]).toMatch(/^security\s+failed\s+50\.0%\s+1\/2\s+1 not counted\s+100%$/);
    expect(lines[4]).toMatch(/^load\s+failed\s+50\.0%\s+1\/2\s+-\s+90%$/);
    expect(lines[6]).toMatch(/^recovery\s+broken\s+0\.0%\s+0\/1\s+-\s+100%$/);
    expect(text).toContain('Verdict: NOT CERTIFIED | exit 1 | score 66.7%');
    expect(text).toContain(
      '  - [security] security.authz.admin "Admin routes need the admin role": GET /admin/orders -> 200 for role viewer\n    fix: Enforce the admin role on /admin routes',
    );
    expect(text).toContain('Reasons:\n  - Stage security pass rate 50% (1/2)');
  });

  it('lists every policy exception and every skipped check with its reason (issue 15 points 4 and 10)', async () => {
    const text = formatVerdictTable(await readCertification(FIXTURE));
    expect(text).toContain(
      'Policy exceptions:\n  - policy.stages.load.minPassRate = 0.9: Stage load certifies with 90% of its due checks passed: up to 10% may fail.\n',
    );
    expect(text).toContain('  - policy.skippable = "security.scanner.zap": ');
    expect(text).toContain(
      'Skipped checks:\n  - [security] security.scanner.zap, not counted (policy.skippable): ZAP image ghcr.io/zaproxy/zaproxy:stable is not available on this machine (no registry); the scan did not run\n',
    );
  });

  it('says a partial run is not a certification and lists the stages not run', async () => {
    const text = formatVerdictTable(await readCertification(PARTIAL));
    expect(text).toMatch(/^chaos\s+not run\s+-\s+-\s+-\s+-$/m);
    expect(text).toContain('Verdict: PASSED (PARTIAL RUN) | exit 0 | score 100.0%\n');
    expect(text).toContain(
      'Partial run: not a certification. Stages not run: contract, security, load, chaos, recovery.',
    );
    expect(text).not.toContain('valid until');
    // The skippable ZAP id names a stage that did not run: not an exception of this run.
    expect(text).not.toContain('security.scanner.zap');
  });

  it('titles the reasons of a conditional run as conditions', async () => {
    const base = await readCertification(FIXTURE);
    const cert: Certification = {
      ...base,
      verdict: 'CONDITIONAL',
      exitCode: 4,
      criticalFailures: [],
      reasons: [
        'Stage boot pass rate 95% (19/20) is below its minimum 100% by 5%, within the conditional margin 10%; not passed: boot.x.',
      ],
      validUntil: '2025-02-09T10:20:00.000Z',
    };
    const text = formatVerdictTable(cert);
    expect(text).toContain('Verdict: CONDITIONAL | exit 4 | score 66.7% | valid until 2025-02-09');
    expect(text).toContain('Conditions:\n  - Stage boot pass rate 95%');
    expect(text).not.toContain('Critical checks not passed');
  });
});

describe('renderSummaryMarkdown', () => {
  it('renders a PR comment with a stage table, critical failures, reasons, exceptions, skipped checks and run facts', async () => {
    const md = renderSummaryMarkdown(await readCertification(FIXTURE));
    expect(md.startsWith('### ❌ Readiness: NOT CERTIFIED\n')).toBe(true);
    expect(md).toContain('| Stage | Status | Pass rate | Passed/Due | Skipped | Min |');
    expect(md).toContain('| load | failed | 50.0% | 1/2 | - | 90% |');
    expect(md).toContain('| security | failed | 50.0% | 1/2 | 1 not counted | 100% |');
    expect(md).toContain(
      '- **security** `security.authz.admin` Admin routes need the admin role: GET /admin/orders -> 200 for role viewer',
    );
    expect(md).toContain('  - fix: Enforce the admin role on /admin routes');
    expect(md).toContain('**Policy exceptions**\n\n- `policy.stages.load.minPassRate` = 0.9: Stage load certifies');
    expect(md).toContain(
      '**Skipped checks**\n\n- **security** `security.scanner.zap`, not counted (policy.skippable): ZAP image ghcr.io/zaproxy/zaproxy:stable is not available',
    );
    expect(md).toContain(
      'run 20241123-083000-7f3a · seed 424242 · git 52d1105e3b8f · report: `allure-report/index.html`',
    );
    expect(md.length).toBeLessThan(65_536);
  });

  it('heads a partial run with "not a certification" and the stages not run', async () => {
    const md = renderSummaryMarkdown(await readCertification(PARTIAL));
    expect(md.startsWith('### ☑️ Readiness: PASSED (PARTIAL RUN)\n')).toBe(true);
    expect(md).toContain(
      '**Partial run: not a certification. Stages not run: contract, security, load, chaos, recovery.**',
    );
  });

  it('escapes text that would break the table or inject HTML', async () => {
    const base = await readCertification(FIXTURE);
    const md = renderSummaryMarkdown({ ...base, reasons: ['a | b <script>alert(1)</script>\nnext line'] });
    expect(md).toContain('- a \\| b &lt;script>alert(1)&lt;/script> next line');
    expect(md).not.toContain('<script>');
  });

  it('adds the quality gate line and shows an optional stage that ran without a minimum', async () => {
    const base = await readCertification(FIXTURE);
    const chaos = { ...base.stages.chaos, status: 'failed' as const, passRate: 0.5, role: 'optional' as const };
    const cert = { ...base, stages: { ...base.stages, chaos } };
    const md = renderSummaryMarkdown(cert, { qualityGate: 'Allure quality gate failed -> NOT_CERTIFIED, agrees' });
    expect(md).toContain('\nAllure quality gate failed -> NOT\\_CERTIFIED, agrees\n');
    expect(md).toMatch(/\| chaos \| failed \| 50\.0% \| \d+\/\d+ \| - \| optional \|/);
  });
});

describe('key figures in the summary', () => {
  const figures: Certification['figures'] = [
    {
      id: 'boot.startup.api',
      label: 'Startup time: api',
      value: 2180,
      unit: 'ms',
      target: { value: 60000, op: '<=' },
      check: 'boot.healthy.api',
      stage: 'boot',
    },
    { id: 'load.knee', label: 'Capacity knee', value: 166.667, unit: 'req/s', check: null, stage: 'load' },
    {
      id: 'load.baseline.error-rate',
      label: 'Error rate at the baseline rate',
      value: 0.0123,
      unit: 'ratio',
      target: { value: 0.01, op: '<' },
      check: 'load.s.http_req_failed.rate',
      stage: 'load',
    },
    {
      id: 'recovery.rpo.lost-writes',
      label: 'RPO: writes after the backup lost',
      value: 5,
      unit: 'count',
      check: 'recovery.backup.rpo',
      stage: 'recovery',
    },
  ];

  it('lists each figure with its value, target (met or missed) and check', async () => {
    const cert = { ...(await readCertification(FIXTURE)), figures };
    const md = renderSummaryMarkdown(cert);
    expect(md).toContain('**Key figures**');
    expect(md).toContain('| Startup time: api | 2180 ms | ≤ 60000 ms ✅ | `boot.healthy.api` |');
    expect(md).toContain('| Capacity knee | 167 req/s | - | figure only |');
    expect(md).toContain('| Error rate at the baseline rate | 1.23% | &lt; 1% ❌ | `load.s.http_req_failed.rate` |');
    expect(md).toContain('| RPO: writes after the backup lost | 5 | - | `recovery.backup.rpo` |');
  });

  it('says nothing of figures when there are none', async () => {
    expect(renderSummaryMarkdown(await readCertification(FIXTURE))).not.toContain('Key figures');
  });
});

describe('summary.md: risks first, readiness properties and what changed (recorded runs)', () => {
  async function recordedCert(): Promise<Certification> {
    const previousChecks = await recordedChecks('previous-run.checks.json');
    const previous = await certifyRecorded(previousChecks, {
      runId: '20261206-073729-8224',
      knee: 'previous-run.knee.json',
    });
    const checks = await recordedDefectRun();
    const run = await certifyRecorded(checks, { runId: '20261206-081337-0f43', knee: 'full-run.knee.json' });
    return certificationSchema.parse({
      ...run,
      changes: whatChanged(
        { ...previous, checks: previousChecks },
        { checks, figures: run.figures, properties: run.properties },
      ),
    });
  }

  it('puts the critical properties not proven with their fix above the stage table, most severe first', async () => {
    const md = renderSummaryMarkdown(await recordedCert());
    const risks = md.indexOf('**Risks: 5 critical properties not proven**');
    expect(risks).toBeGreaterThan(0);
    expect(risks).toBeLessThan(md.indexOf('| Stage | Status |'));
    expect(md).toContain(
      '- **No acknowledged write lost on a crash** (`data-safety.crash-writes`, blocker): failed: recovery.crash.ledger failed: 6 of 7 writes',
    );
    expect(md).toContain(
      '  - fix: Acknowledge a write only once it is committed to the database, never from an in-memory buffer',
    );
    // The ledger's message names every lost write: the line keeps the first 200 characters.
    const crash = md.split('\n').find((line) => line.includes('`data-safety.crash-writes`')) ?? '';
    expect(crash).toMatch(/…$/);
    expect(crash.length).toBeLessThan(320);
  });

  it('lists every property with its status and the coverage figure, and what changed since the last CERTIFIED run', async () => {
    const md = renderSummaryMarkdown(await recordedCert());
    expect(md).toContain('**Readiness properties**: 19 of 31 proven (61.3%), 3 failed, 9 not covered');
    expect(
      md.match(/^\| (Availability|Resilience|Data safety|Security|Performance and capacity|Operability) \|/gm),
    ).toHaveLength(31);
    expect(md).toContain(
      '| Security | Web scanner (ZAP) finds no failing issue | ⚪ not covered: skipped | Skipped: security.scanner.zap:',
    );
    expect(md).toContain('**What changed** since CERTIFIED run `20261206-073729-8224`');
    expect(md).toContain('- regressed: `recovery.crash.ledger` (passed → failed)');
    expect(md).toContain(
      '- Memory retained after soak: soak-short, orders: 12.24 MB → -27.87 MB (-328%, band ±50%): better',
    );
    expect(md).toContain(
      '- coverage lost: Readiness tells the truth (`operability.truthful-health`, proven → failed):',
    );
    // A long reason is clipped in the table (the whole one is in certification.json).
    expect(md).toMatch(
      /\| Security headers set, no banners \| ❌ failed \| security\.headers\.required, security\.headers\.banner failed: 9 header problems: [^|]{100,}… \|/,
    );
  });

  it('the verdict table printed at the end of a run gives the coverage and each risk with its fix', async () => {
    const text = formatVerdictTable(await recordedCert());
    expect(text).toContain('Readiness properties: 19 of 31 proven, 3 failed, 9 not covered');
    expect(text).toContain(
      'Risks (critical properties not proven):\n  - No acknowledged write lost on a crash (data-safety.crash-writes, blocker): failed\n    fix: Acknowledge a write only once it is committed to the database, never from an in-memory buffer\n',
    );
  });
});
