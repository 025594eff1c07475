import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { recordedCertificateModel } from '../../test/support/recorded-certificate.ts';
import { applyQualityGate, certifyChecks, readCertification } from '../certify/certification.ts';
import { noBaseline } from '../certify/changes.ts';
import type { Certification } from '../certify/certification.ts';
import { checkResultSchema } from '../core/check-result.ts';
import { STAGES } from '../core/stage.ts';
import { defaultPolicy } from '../config/schema.ts';
import { pdfPageCount } from './certificate-pdf.ts';
import { htmlEscape, renderCertificateHtml } from './certificate.ts';
import type { CertificateModel } from './certificate.ts';
import { allureMetricSamples, metricDirection } from './metrics.ts';
import { trendPoint } from './runs.ts';

const FIXTURES = new URL('../../test/fixtures/', import.meta.url).pathname;

async function model(overrides: Partial<CertificateModel> = {}): Promise<CertificateModel> {
  const cert = await readCertification(`${FIXTURES}certify/certification.v2.json`);
  return {
    cert,
    stackName: 'reference <stack>',
    trend: [trendPoint({ ...cert, runId: 'older', score: 0.9, verdict: 'CERTIFIED' }), trendPoint(cert)],
    evidenceSha256: 'e'.repeat(64),
    gate: { outcome: 'failed', gateVerdict: 'NOT_CERTIFIED', agrees: true, failedRules: 3 },
    tools: { node: 'v24.0.0', allure: '3.18.0' },
    images: { 'postgres:16': 'postgres:16' },
    ...overrides,
  };
}

describe('renderCertificateHtml', () => {
  it('is one static page: verdict, stage table, critical failures with their fix, trend, hash, no script', async () => {
    const m = await model();
    const html = renderCertificateHtml(m);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('<div class="badge bad" id="verdict" data-verdict="NOT_CERTIFIED">NOT CERTIFIED</div>');
    expect(html).toContain('No validity: not certified');
    expect(html.match(/<tr data-stage="/g)).toHaveLength(6);
    expect(html).toMatch(/<tr data-stage="security"><td>security<\/td><td class="status failed">failed<\/td>/);
    expect(html).toContain('50.0% <span class="muted">(1/2)</span>');
    expect(html).toContain('<b>security.authz.admin</b>');
    expect(html).toContain('Fix: Enforce the admin role on /admin routes');
    expect(html).toContain(`<code id="evidence-hash">${'e'.repeat(64)}</code>`);
    expect(html).toContain('reference &lt;stack&gt;');
    expect(html.match(/<circle /g)).toHaveLength(2);
    expect(html).toContain('agrees with the verdict');
  });

  it('withdraws a CERTIFIED verdict and its validity when the quality gate does not confirm it', async () => {
    const base = await model();
    const certified: Certification = {
      ...base.cert,
      verdict: 'CERTIFIED',
      exitCode: 0,
      reasons: [],
      criticalFailures: [],
      validUntil: '2025-02-09T10:20:00.000Z',
      crossCheck: { qualityGate: 'agrees', policyVerdict: 'CERTIFIED' },
    };
    const confirmed = renderCertificateHtml({
      ...base,
      cert: certified,
      gate: { outcome: 'passed', gateVerdict: 'CERTIFIED', agrees: true, failedRules: 0 },
    });
    expect(confirmed).toContain('Valid until 2025-02-09');
    expect(confirmed).toContain('No critical check failed.');
    const disputed = renderCertificateHtml({
      ...base,
      cert: applyQualityGate(certified, { agrees: false, why: 'HARNESS ERROR: the gate implies CONDITIONAL' }),
      gate: { outcome: 'failed', gateVerdict: 'CONDITIONAL', agrees: false, failedRules: 1 },
    });
    expect(disputed).toContain('data-verdict="NOT_CERTIFIED"');
    expect(disputed).toContain('Validity withdrawn: the verdict cross-check failed');
    expect(disputed).not.toContain('Valid until');
    expect(disputed).toContain(
      '<div class="alert">Allure quality gate implies CONDITIONAL but the policy says CERTIFIED: the verdict is not confirmed.</div>',
    );
  });

  it('heads a partial run with "not a certification" and the stages not run, without a validity', async () => {
    const cert = await readCertification(`${FIXTURES}certify/certification.v2-partial.json`);
    const html = renderCertificateHtml({
      ...(await model()),
      cert,
      trend: [trendPoint(cert)],
      gate: { outcome: 'passed', gateVerdict: 'PASSED_PARTIAL', agrees: true, failedRules: 0 },
    });
    expect(html).toContain(
      '<div class="badge partial" id="verdict" data-verdict="PASSED_PARTIAL">PASSED (PARTIAL RUN)</div>',
    );
    expect(html).toContain('<div class="validity" id="validity">Partial run: not a certification</div>');
    expect(html).toContain(
      '<div class="alert note" id="partial">Partial run: not a certification. Stages not run: contract, security, load, chaos, recovery.</div>',
    );
    expect(html).toMatch(/<tr data-stage="chaos"><td>chaos<\/td><td class="status not-run">not run<\/td>/);
    expect(html).toContain('PASSED <span class="muted">(partial)</span></td>');
  });

  it('lists the policy exceptions and each skipped check with its reason (issue 15 points 4 and 10)', async () => {
    const html = renderCertificateHtml(await model());
    expect(html).toContain(
      '<li><code>policy.stages.load.minPassRate</code> = <code>0.9</code>: Stage load certifies with 90% of its due checks passed: up to 10% may fail.</li>',
    );
    expect(html).toContain(
      '<li><b>security.scanner.zap</b> <span class="muted">(security, not counted (policy.skippable))</span>: ZAP image ghcr.io/zaproxy/zaproxy:stable is not available on this machine (no registry); the scan did not run</li>',
    );
    expect(html).toMatch(/<tr data-stage="security">.*<td class="num">1 not counted<\/td>/);
  });

  it('a healthy full run stays CERTIFIED and its certificate lists the skipped ZAP check with its reason', () => {
    const checks = [
      ...STAGES.map((stage) =>
        checkResultSchema.parse({
          id: `${stage}.main`,
          stage,
          name: `${stage} main`,
          feature: 'f',
          status: 'passed',
          severity: 'normal',
          startedAt: 0,
          finishedAt: 1,
        }),
      ),
      checkResultSchema.parse({
        id: 'security.scanner.zap',
        stage: 'security',
        name: 'ZAP API scan',
        feature: 'scanners',
        status: 'skipped',
        severity: 'normal',
        message: 'ZAP image is not available: no registry',
        startedAt: 0,
        finishedAt: 1,
      }),
    ];
    const cert = certifyChecks({
      checks,
      invalid: [],
      runId: 'healthy',
      policy: { ...defaultPolicy(), skippable: ['security.scanner.zap'] },
      enabledStages: [...STAGES],
      selectedStages: [...STAGES],
      startedAt: new Date('2025-01-10T10:00:00.000Z'),
      finishedAt: new Date('2025-01-10T10:20:00.000Z'),
      seed: 1,
      git: { sha: null, dirty: null },
      reportPath: null,
    });
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
    expect(html).toContain('data-verdict="CERTIFIED"');
    expect(html).toContain('Valid until 2025-02-09');
    expect(html).toContain('<b>security.scanner.zap</b>');
    expect(html).toContain('ZAP image is not available: no registry');
  });

  it('rounds a pass rate just under its minimum down, so it never reads as meeting it', async () => {
    const base = await model();
    const boot = { ...base.cert.stages.boot, passRate: 161 / 166, minPassRate: 0.97 };
    const html = renderCertificateHtml({ ...base, cert: { ...base.cert, stages: { ...base.cert.stages, boot } } });
    expect(html).toContain('96.9% <span class="muted">');
    expect(html).toContain('<div class="fill short"');
  });

  it('escapes text for HTML', () => {
    expect(htmlEscape(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('pdfPageCount', () => {
  it('counts the pages of PDFs Chromium printed', async () => {
    expect(pdfPageCount(await readFile(`${FIXTURES}report/chromium-1-page.pdf`))).toBe(1);
    expect(pdfPageCount(await readFile(`${FIXTURES}report/chromium-2-pages.pdf`))).toBe(2);
    expect(() => pdfPageCount(Buffer.from('<html>'))).toThrow(/not a PDF/);
  });
});

describe('Allure metric samples', () => {
  it('makes one uniquely keyed sample per check metric, grouped by stage, with a direction', () => {
    const check = checkResultSchema.parse({
      id: 'chaos.db-latency',
      stage: 'chaos',
      name: 'Orders survive db latency',
      feature: 'faults',
      status: 'passed',
      severity: 'normal',
      startedAt: 10,
      finishedAt: 20,
      metrics: [
        { name: 'time_to_recover_ms', value: 850, unit: 'ms' },
        { name: 'rps', value: 120, unit: 'req/s' },
        { name: 'ratio', value: 0.5, unit: '' },
      ],
    });
    const samples = allureMetricSamples([check]);
    expect(samples[0]).toEqual({
      id: 'chaos.db-latency:time_to_recover_ms',
      key: 'chaos.db-latency:time_to_recover_ms',
      value: 850,
      start: 10,
      stop: 20,
      title: 'Orders survive db latency: time_to_recover_ms',
      unit: 'ms',
      group: 'chaos',
      groupTitle: 'Stage chaos',
      better: 'lower',
    });
    expect(samples[1]?.better).toBe('higher');
    expect(samples[2]).not.toHaveProperty('better');
    expect(metricDirection({ name: 'lost_writes', unit: 'count' })).toBe('lower');
  });
});

describe('key figures on the certificate', () => {
  const figure = (id: string, value: number, target?: number): Certification['figures'][number] => ({
    id,
    label: id,
    value,
    unit: 'ms',
    ...(target === undefined ? {} : { target: { value: target, op: '<=' as const } }),
    check: `check.${id}`,
    stage: 'boot',
  });

  it('shows value and target, marks a missed target, keeps the slowest startup and any that missed its budget', async () => {
    const base = await model();
    const figures = [
      figure('boot.startup.api', 2000, 60000),
      figure('boot.startup.db', 3637, 60000),
      figure('boot.startup.cache', 1500, 1000),
      figure('boot.startup.web', 1400, 60000),
      figure('recovery.rto', 933, 30000),
      { ...figure('load.knee', 166.667), unit: 'req/s', check: null, stage: 'load' as const },
    ];
    const html = renderCertificateHtml({ ...base, cert: { ...base.cert, figures } });
    expect(html).toContain('<h2>Key figures</h2>');
    expect(html.match(/<tr data-figure="/g)).toHaveLength(4);
    expect(html).toContain(
      '<tr data-figure="boot.startup.db" title="check check.boot.startup.db"><td>boot.startup.db (slowest of 4)</td><td class="num">3637 ms</td><td class="num met">≤ 60000 ms</td></tr>',
    );
    expect(html).toContain('<td class="num missed">≤ 1000 ms</td>');
    expect(html).not.toContain('data-figure="boot.startup.api"');
    expect(html).toContain(
      'title="figure only, no check"><td>load.knee</td><td class="num">167 req/s</td><td class="num">-</td>',
    );
  });

  it('lists at most 14 figures under failures and points at the rest', async () => {
    const base = await model();
    const figures = Array.from({ length: 20 }, (_, i) => figure(`recovery.f${i.toString()}`, i));
    const html = renderCertificateHtml({ ...base, cert: { ...base.cert, figures } });
    expect(html.match(/<tr data-figure="/g)).toHaveLength(14);
    expect(html).toContain('and 6 more in certification.json and summary.md');
  });

  it('has no figures section without figures (an older certification)', async () => {
    expect(renderCertificateHtml(await model())).not.toContain('Key figures');
  });
});

describe('readiness properties, risks, what changed and the trend on the certificate (recorded runs)', () => {
  const recordedModel = recordedCertificateModel;

  it('heads a failing run with its critical properties not proven, most severe first, each with its fix', async () => {
    const html = renderCertificateHtml(await recordedModel(true));
    const risks = html.indexOf('<section class="risks" id="risks">');
    expect(risks).toBeGreaterThan(0);
    expect(risks).toBeLessThan(html.indexOf('<section class="facts">'));
    expect(html).toContain('<h2>Risks: 5 critical properties not proven</h2>');
    const items = [...html.slice(risks).matchAll(/<li data-property="([^"]+)"><b>/g)].map((m) => m[1]);
    expect(items.slice(0, 2)).toEqual(['data-safety.crash-writes', 'operability.truthful-health']);
    expect(html).toContain(
      '<span class="fix">Fix: Acknowledge a write only once it is committed to the database, never from an in-memory buffer</span>',
    );
    expect(html).toContain('<span class="status failed">failed</span> <span class="muted">(blocker)</span>');
  });

  it('lists every property by group with its status and why, under the coverage figure', async () => {
    const html = renderCertificateHtml(await recordedModel(false));
    expect(html).toContain(
      '<p class="coverage" id="property-coverage">26 of 31 proven (83.9%) · 0 failed · 5 not covered</p>',
    );
    expect(html.match(/<li data-property="[^"]+" data-status="/g)).toHaveLength(31);
    expect(html).toMatch(
      /<li data-property="security\.scan" data-status="not-covered" title="Skipped: security\.scanner\.zap: the ZAP image[^"]*"><span class="mark not-covered">○<\/span>Web scanner \(ZAP\) finds no failing issue <span class="muted">\(skipped\)<\/span><\/li>/,
    );
    expect(html).toContain('<h3>Data safety 6/7</h3>');
    expect(html).toContain('<p><b>Risks: none.</b> Every critical readiness property is proven.</p>');
  });

  it('says what changed since the previous CERTIFIED run and draws verdict, score, knee, p95 and RTO as inline SVG', async () => {
    const html = renderCertificateHtml(await recordedModel(true));
    expect(html).toContain('Since CERTIFIED run <code>20261206-073729-8224</code>');
    expect(html).toContain(
      '<span class="worse">Regressed 4:</span> <code>boot.readiness-truth.orders.postgres</code> (failed)',
    );
    expect(html).toContain('<span class="worse">Coverage lost 7:</span>');
    expect(html).toMatch(/<li class="better" data-figure-move="load\.memory-retained\.soak-short\.orders">/);
    expect(html).not.toMatch(/<script|<link|<img|(src|href)="https?:/i);
    const svg = /<div class="trend" id="trend">(<svg[^]*?<\/svg>)/.exec(html)?.[1] ?? '';
    for (const label of ['Score', 'Knee', 'p95', 'RTO']) expect(svg).toContain(`>${label}</text>`);
    expect(svg).toContain('>167 req/s</text>');
    expect(svg).toContain('>22.69 ms</text>');
    // One dot per run per series, coloured by the run's verdict; the defect run has no RTO (no backup drill).
    expect(svg.match(/<circle /g)).toHaveLength(7);
    expect(svg).toMatch(/>RTO<\/text><text x="300" y="88" font-size="8" text-anchor="end" fill="#1d2330">n\/a<\/text>/);
    expect(svg).toContain('fill="#b42318"><title>20261206-081337-0f43: Score 87.9%</title>');
  });

  it('notes a first run: no earlier CERTIFIED run of the config', async () => {
    const base = await recordedModel(false);
    const cert = {
      ...base.cert,
      changes: noBaseline('No earlier CERTIFIED run of config "reference-stack" in the reports folder.'),
    };
    expect(renderCertificateHtml({ ...base, cert })).toContain(
      '<h2>What changed</h2><p class="muted" id="changes">No earlier CERTIFIED run of config &quot;reference-stack&quot; in the reports folder.</p>',
    );
  });
});
