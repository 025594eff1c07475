import type { Certification } from '../certify/certification.ts';
import { STARTUP_FIGURE, meetsTarget } from '../certify/figures.ts';
import { STAGES } from '../core/stage.ts';
import type { TrendPoint } from './runs.ts';
import {
  figureTargetCell,
  formatFigureValue,
  notCoveredChecks,
  partialHeadline,
  skippedCell,
  skippedChecks,
  verdictLabel,
} from './summary.ts';

/** The certificate's file names, inside the run folder. */
export const CERTIFICATE_HTML_FILE = 'certificate.html';
export const CERTIFICATE_PDF_FILE = 'certificate.pdf';

/** How many failed critical checks and reasons the page lists before pointing at certification.json. */
const MAX_CRITICAL = 5;
const MAX_REASONS = 3;
const MAX_EXCEPTIONS = 6;
const MAX_SKIPPED = 6;
const MAX_NOT_COVERED = 6;
const MAX_TEXT = 180;
/**
 * Key figures on the page, in the left column under the failures (the rest are in certification.json and
 * summary.md): 18 when that column lists nothing else, 14 when it does (measured with Chromium: the worst
 * case above plus 14 figures stays 2 pages, 16 makes 3).
 */
const MAX_FIGURES = 18;
const MAX_FIGURES_UNDER_FAILURES = 14;

/** The Allure quality gate's cross-check, as the certificate states it. */
export interface CertificateGate {
  readonly outcome: 'passed' | 'failed' | 'error';
  readonly gateVerdict: Certification['verdict'] | null;
  readonly agrees: boolean;
  readonly failedRules: number;
}

/** What changed since the previous run of the same reports folder. */
export interface CertificateChanges {
  readonly previousRunId: string;
  readonly regressed: number;
  readonly fixed: number;
  readonly added: number;
  readonly stillFailing: number;
}

export interface CertificateModel {
  readonly cert: Certification;
  /** The stack's name from the config. */
  readonly stackName: string;
  /** Oldest first, this run last. */
  readonly trend: readonly TrendPoint[];
  /** SHA-256 of `evidence.sha256`, the manifest of every artifact but the certificate. */
  readonly evidenceSha256: string;
  readonly gate: CertificateGate | null;
  readonly changes: CertificateChanges | null;
  /** Tool name -> version (node, allure, readiness, chromium...). */
  readonly tools: Readonly<Record<string, string>>;
  /** Config image ref -> what ran. */
  readonly images: Readonly<Record<string, string>>;
}

/** Escapes text for HTML element content and attribute values. */
export function htmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const clip = (text: string, max = MAX_TEXT): string => {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
};
const pct = (ratio: number): string => `${(Math.round(ratio * 1000) / 10).toFixed(1)}%`;
/** Pass rates round down, so a rate just under its minimum never reads as meeting it. */
const passPct = (ratio: number): string => `${(Math.floor(ratio * 1000 + 1e-6) / 10).toFixed(1)}%`;
const minPct = (ratio: number): string => `${(Math.round(ratio * 1000) / 10).toString()}%`;
const day = (iso: string): string => iso.slice(0, 10);
const minute = (iso: string): string => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

const VERDICT_CLASS: Readonly<Record<Certification['verdict'], string>> = {
  CERTIFIED: 'ok',
  CONDITIONAL: 'warn',
  NOT_CERTIFIED: 'bad',
  PASSED_PARTIAL: 'partial',
  FAILED_PARTIAL: 'bad',
};

const STYLE = `
@page { size: A4; margin: 11mm 12mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; font: 9.5pt/1.32 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #1d2330; }
main { max-width: 186mm; margin: 0 auto; padding: 4mm 0; }
header { display: flex; justify-content: space-between; align-items: flex-start; border-bottom: 2px solid #1d2330; padding-bottom: 3mm; }
h1 { font-size: 17pt; margin: 0; letter-spacing: .02em; }
h2 { font-size: 10.5pt; margin: 4.5mm 0 1.5mm; text-transform: uppercase; letter-spacing: .06em; color: #4a5366; }
.sub { color: #4a5366; margin-top: 1mm; }
.verdict { text-align: right; }
.badge { display: inline-block; font-size: 17pt; font-weight: 700; padding: 2mm 5mm; border-radius: 2mm; color: #fff; }
.badge.ok { background: #1f7a3d; } .badge.warn { background: #b36b00; } .badge.bad { background: #b42318; } .badge.partial { background: #4a5366; }
.validity { margin-top: 1.5mm; font-weight: 600; }
.alert.note { border-color: #4a5366; background: #eef0f4; color: #1d2330; }
.alert { margin-top: 3mm; padding: 2mm 3mm; border: 1.5px solid #b42318; background: #fdecea; color: #7a1a12; font-weight: 600; }
.facts { display: grid; grid-template-columns: repeat(4, 1fr); gap: 1mm 4mm; margin-top: 3mm; }
.facts div { font-size: 8.5pt; } .facts b { display: block; font-size: 7.5pt; color: #4a5366; font-weight: 600; text-transform: uppercase; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-size: 8pt; color: #4a5366; font-weight: 600; border-bottom: 1px solid #c9ced8; padding: 1mm 1.5mm; }
td { padding: 1.1mm 1.5mm; border-bottom: 1px solid #eceef2; vertical-align: middle; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.status { font-weight: 600; } .status.passed { color: #1f7a3d; } .status.failed { color: #b42318; }
.status.broken { color: #8e2c8a; } .status.unknown { color: #0d6e8a; } .status.skipped, .status.not-run { color: #7a8194; }
.bar { position: relative; height: 3.2mm; background: #eceef2; border-radius: 1mm; min-width: 45mm; }
.fill { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 1mm; }
.fill.ok { background: #2e9c55; } .fill.short { background: #d97706; } .fill.low { background: #d92d20; }
.min { position: absolute; top: -0.8mm; bottom: -0.8mm; width: 0.5mm; background: #1d2330; }
ul.critical { margin: 0; padding-left: 4.5mm; } ul.critical li { margin-bottom: 1.2mm; }
.fix { color: #1f4d8f; } .muted { color: #7a8194; }
.two { display: grid; grid-template-columns: 1.15fr 1fr; gap: 6mm; }
.trend svg { width: 100%; height: 24mm; display: block; }
.trend td, .trend th { font-size: 7.8pt; padding: .6mm 1mm; white-space: nowrap; }
.trend code.run { font-size: 7pt; word-break: normal; }
footer { margin-top: 4mm; border-top: 1px solid #c9ced8; padding-top: 2mm; font-size: 7.8pt; color: #4a5366; }
.figures td, .figures th { font-size: 7.6pt; padding: .3mm 1mm; line-height: 1.2; }
.figures td.met { color: #1f7a3d; } .figures td.missed { color: #b42318; font-weight: 600; }
code { font: 7.8pt "DejaVu Sans Mono", monospace; word-break: break-all; color: #1d2330; }
`;

/**
 * The figures the page shows: every one but the startup times, of which the slowest and any that missed
 * its budget (all of them are in certification.json and summary.md).
 */
function pageFigures(figures: Certification['figures']): Certification['figures'] {
  const startup = figures.filter((f) => f.id.startsWith(`${STARTUP_FIGURE}.`));
  const slowest = startup.reduce<(typeof startup)[number] | undefined>(
    (a, b) => (a === undefined || b.value > a.value ? b : a),
    undefined,
  );
  if (slowest === undefined || startup.length === 1) return figures;
  return figures.flatMap((f) => {
    if (f === slowest) return [{ ...f, label: `${f.label} (slowest of ${startup.length.toString()})` }];
    return startup.includes(f) && meetsTarget(f) !== false ? [] : [f];
  });
}

/** Key figures: value and target (met or missed), one compact row each; the check id is the row's title. */
function figuresBlock(cert: Certification): string {
  if (cert.figures.length === 0) return '';
  const figures = pageFigures(cert.figures);
  const crowded = cert.criticalFailures.length + cert.reasons.length + cert.notCovered.length > 0;
  const shown = figures.slice(0, crowded ? MAX_FIGURES_UNDER_FAILURES : MAX_FIGURES);
  const rows = shown.map((figure) => {
    const target = figureTargetCell(figure);
    const cls = target.met === undefined ? 'num' : target.met ? 'num met' : 'num missed';
    const title = figure.check === null ? 'figure only, no check' : `check ${figure.check}`;
    return `<tr data-figure="${htmlEscape(figure.id)}" title="${htmlEscape(title)}"><td>${htmlEscape(figure.label)}</td><td class="num">${htmlEscape(formatFigureValue(figure.value, figure.unit))}</td><td class="${cls}">${htmlEscape(target.text)}</td></tr>`;
  });
  const more = figures.length - shown.length;
  return `<h2>Key figures</h2><table class="figures" id="key-figures"><thead><tr><th>Figure</th><th class="num">Value</th><th class="num">Target</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more > 0 ? `<p class="muted">and ${more.toString()} more in certification.json and summary.md</p>` : ''}`;
}

function stageTable(cert: Certification): string {
  const rows = STAGES.map((stage) => {
    const entry = cert.stages[stage];
    if (entry.role === 'not-run' || entry.role === 'not-enabled') {
      const label = entry.role === 'not-run' ? 'not run' : 'not enabled';
      return `<tr data-stage="${stage}"><td>${stage}</td><td class="status not-run">${label}</td><td><div class="bar"></div></td><td class="num">-</td><td class="num">-</td><td class="num">-</td></tr>`;
    }
    const rate = entry.passRate;
    const cls = rate === null ? 'low' : rate + 1e-9 >= entry.minPassRate ? 'ok' : 'short';
    const fill = rate === null ? '' : `<div class="fill ${cls}" style="width:${(rate * 100).toFixed(1)}%"></div>`;
    const marker = `<div class="min" style="left:calc(${(entry.minPassRate * 100).toFixed(1)}% - 0.25mm)" title="minimum ${minPct(entry.minPassRate)}"></div>`;
    return (
      `<tr data-stage="${stage}"><td>${stage}</td><td class="status ${entry.status}">${entry.status}</td>` +
      `<td><div class="bar" role="img" aria-label="${stage} pass rate ${rate === null ? 'none' : passPct(rate)}">${fill}${marker}</div></td>` +
      `<td class="num">${rate === null ? 'n/a' : passPct(rate)} <span class="muted">(${entry.counts.passed.toString()}/${entry.due.toString()})</span></td>` +
      `<td class="num">${htmlEscape(skippedCell(entry))}</td>` +
      `<td class="num">${entry.role === 'optional' ? 'optional' : minPct(entry.minPassRate)}</td></tr>`
    );
  });
  return `<table id="stage-table"><thead><tr><th>Stage</th><th>Status</th><th>Pass rate</th><th class="num">Passed/due</th><th class="num">Skipped</th><th class="num">Minimum</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const moreLine = (more: number): string =>
  more > 0 ? `<li class="muted">and ${more.toString()} more in certification.json</li>` : '';

/** Every skipped check of the stages that ran, with its reason: a skipped check is never a silent pass. */
function skippedList(cert: Certification): string {
  const skipped = skippedChecks(cert);
  if (skipped.length === 0) return '';
  const shown = skipped
    .slice(0, MAX_SKIPPED)
    .map(
      (entry) =>
        `<li><b>${htmlEscape(entry.check)}</b> <span class="muted">(${entry.stage}, ${htmlEscape(entry.counting)})</span>: ${htmlEscape(clip(entry.reason, 120))}</li>`,
    );
  return `<h2>Skipped checks</h2><ul class="critical" id="skipped-checks">${shown.join('')}${moreLine(skipped.length - shown.length)}</ul>`;
}

/** Every not-applicable check (declared with a reason, or its family not configured): not covered is never a pass. */
function notCoveredList(cert: Certification): string {
  const notCovered = notCoveredChecks(cert);
  if (notCovered.length === 0) return '';
  const shown = notCovered
    .slice(0, MAX_NOT_COVERED)
    .map(
      (entry) =>
        `<li><b>${htmlEscape(entry.check)}</b> <span class="muted">(${entry.stage}, ${htmlEscape(entry.kind)})</span>: ${htmlEscape(clip(entry.reason, 120))}</li>`,
    );
  return `<h2>Not covered</h2><ul class="critical" id="not-covered">${shown.join('')}${moreLine(notCovered.length - shown.length)}</ul>`;
}

/** The policy's weakenings: each one lets the verdict pass on less evidence than the strictest policy. */
function exceptionsList(cert: Certification): string {
  if (cert.policyExceptions.length === 0) return '';
  const shown = cert.policyExceptions
    .slice(0, MAX_EXCEPTIONS)
    .map(
      (exception) =>
        `<li><code>${htmlEscape(exception.key)}</code> = <code>${htmlEscape(JSON.stringify(exception.value))}</code>: ${htmlEscape(clip(exception.text, 120))}</li>`,
    );
  return `<h2>Policy exceptions</h2><ul class="critical" id="policy-exceptions">${shown.join('')}${moreLine(cert.policyExceptions.length - shown.length)}</ul>`;
}

function criticalList(cert: Certification): string {
  if (cert.criticalFailures.length === 0) return '<p class="muted">No critical check failed.</p>';
  const shown = cert.criticalFailures
    .slice(0, MAX_CRITICAL)
    .map(
      (f) =>
        `<li><b>${htmlEscape(f.check)}</b> <span class="muted">(${f.stage})</span> ${htmlEscape(clip(f.name, 90))}: ${htmlEscape(clip(f.message))}` +
        `<br><span class="fix">Fix: ${htmlEscape(clip(f.remediation))}</span></li>`,
    );
  const more = cert.criticalFailures.length - shown.length;
  const tailNote = more > 0 ? `<li class="muted">and ${more.toString()} more in certification.json</li>` : '';
  return `<ul class="critical" id="critical-failures">${shown.join('')}${tailNote}</ul>`;
}

function reasonsList(cert: Certification): string {
  if (cert.reasons.length === 0) return '';
  const title =
    cert.verdict === 'CONDITIONAL'
      ? 'Conditions'
      : cert.partial
        ? 'Why the selected stages did not pass'
        : 'Why not certified';
  // The ids of every check not passed are in the report; the page keeps the sentence.
  const shown = cert.reasons
    .slice(0, MAX_REASONS)
    .map((r) => `<li>${htmlEscape(clip(r.replace(/; not passed: .*$/s, '.')))}</li>`);
  const more = cert.reasons.length - shown.length;
  return `<h2>${title}</h2><ul class="critical">${shown.join('')}${more > 0 ? `<li class="muted">and ${more.toString()} more in certification.json</li>` : ''}</ul>`;
}

const DOT: Readonly<Record<Certification['verdict'], string>> = {
  CERTIFIED: '#1f7a3d',
  CONDITIONAL: '#b36b00',
  NOT_CERTIFIED: '#b42318',
  PASSED_PARTIAL: '#4a5366',
  FAILED_PARTIAL: '#b42318',
};

/** The trend's narrow verdict column: a partial run's verdict as PASSED/FAILED with a muted "(partial)". */
function trendLabel(verdict: Certification['verdict']): string {
  if (verdict === 'PASSED_PARTIAL') return 'PASSED <span class="muted">(partial)</span>';
  if (verdict === 'FAILED_PARTIAL') return 'FAILED <span class="muted">(partial)</span>';
  return verdictLabel(verdict);
}

function trendBlock(trend: readonly TrendPoint[]): string {
  if (trend.length === 0) return '';
  const width = 300;
  const height = 80;
  const pad = 8;
  const x = (i: number): number =>
    trend.length === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (trend.length - 1);
  const y = (score: number): number => height - pad - score * (height - 2 * pad);
  const line = trend.map((p, i) => `${x(i).toFixed(1)},${y(p.score).toFixed(1)}`).join(' ');
  const dots = trend
    .map((p, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(p.score).toFixed(1)}" r="3.2" fill="${DOT[p.verdict]}"/>`)
    .join('');
  const svg =
    `<svg viewBox="0 0 ${width.toString()} ${height.toString()}" preserveAspectRatio="none" role="img" aria-label="score over the last ${trend.length.toString()} runs">` +
    `<line x1="0" x2="${width.toString()}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" stroke="#c9ced8" stroke-dasharray="3 3"/>` +
    `<line x1="0" x2="${width.toString()}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#c9ced8"/>` +
    `<polyline points="${line}" fill="none" stroke="#4a5366" stroke-width="1.5"/>${dots}</svg>`;
  const rows = [...trend]
    .reverse()
    .slice(0, 6)
    .map(
      (p) =>
        `<tr><td>${day(p.finishedAt)}</td><td><code class="run">${htmlEscape(p.runId)}</code></td><td style="color:${DOT[p.verdict]};font-weight:600;white-space:nowrap">${trendLabel(p.verdict)}</td><td class="num">${pct(p.score)}</td></tr>`,
    );
  return `<div class="trend" id="trend">${svg}<table><thead><tr><th>Date</th><th>Run</th><th>Verdict</th><th class="num">Score</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function gateLine(gate: CertificateGate | null, cert: Certification): string {
  if (gate === null) return 'Allure quality gate: not evaluated.';
  if (gate.outcome === 'error') return 'Allure quality gate: could not be evaluated (see quality-gate.json).';
  const verdict = gate.gateVerdict === null ? 'none' : verdictLabel(gate.gateVerdict);
  return gate.agrees
    ? `Allure quality gate: ${gate.outcome} (${gate.failedRules.toString()} rule(s) failed), implying ${verdict}: agrees with the verdict.`
    : `Allure quality gate implies ${verdict} but the policy says ${verdictLabel(cert.crossCheck.policyVerdict)}: the verdict is not confirmed.`;
}

/** The one-page certificate for leadership: plain HTML and CSS, readable without JavaScript and printable to A4. */
export function renderCertificateHtml(model: CertificateModel): string {
  const { cert } = model;
  const cls = VERDICT_CLASS[cert.verdict];
  const confirmed = model.gate?.agrees === true;
  const headline = partialHeadline(cert);
  const validity =
    headline !== undefined
      ? 'Partial run: not a certification'
      : cert.crossCheck.qualityGate === 'disagrees'
        ? 'Validity withdrawn: the verdict cross-check failed'
        : cert.validUntil === null
          ? 'No validity: not certified'
          : confirmed
            ? `Valid until ${day(cert.validUntil)}`
            : 'Validity withheld: the verdict cross-check failed';
  const alerts: string[] = [];
  if (!confirmed) alerts.push(`<div class="alert">${htmlEscape(gateLine(model.gate, cert))}</div>`);
  if (headline !== undefined) alerts.push(`<div class="alert note" id="partial">${htmlEscape(headline)}</div>`);
  const sha = cert.git.sha ?? 'not a git checkout';
  const facts: [string, string][] = [
    ['Run', cert.runId],
    ['Finished', minute(cert.finishedAt)],
    ['Seed', cert.seed.toString()],
    ['Git SHA', `${sha.slice(0, 12)}${cert.git.dirty === true ? ' (dirty)' : ''}`],
    ['Score (informative)', pct(cert.score)],
    ['Exit code', cert.exitCode.toString()],
    ['Started', minute(cert.startedAt)],
    [
      'Tools',
      Object.entries(model.tools)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '-',
    ],
  ];
  const changes = model.changes
    ? `<p class="muted" id="changes">Since run <code>${htmlEscape(model.changes.previousRunId)}</code>: ${model.changes.regressed.toString()} regressed, ${model.changes.fixed.toString()} fixed, ${model.changes.added.toString()} new, ${model.changes.stillFailing.toString()} still not passing.</p>`
    : '';
  const images = Object.entries(model.images);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${htmlEscape(`Readiness certificate: ${model.stackName}: ${verdictLabel(cert.verdict)}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
  <div>
    <h1>Readiness certificate</h1>
    <div class="sub">${htmlEscape(model.stackName)} · run <code>${htmlEscape(cert.runId)}</code></div>
  </div>
  <div class="verdict">
    <div class="badge ${cls}" id="verdict" data-verdict="${cert.verdict}">${verdictLabel(cert.verdict)}</div>
    <div class="validity" id="validity">${htmlEscape(validity)}</div>
  </div>
</header>
${alerts.join('\n')}
<section class="facts">${facts.map(([k, v]) => `<div><b>${htmlEscape(k)}</b>${htmlEscape(v)}</div>`).join('')}</section>
<h2>Stages</h2>
${stageTable(cert)}
<div class="two">
  <section>
    <h2>Critical checks not passed</h2>
    ${criticalList(cert)}
    ${reasonsList(cert)}
    ${notCoveredList(cert)}
    ${figuresBlock(cert)}
  </section>
  <section>
    <h2>Trend: last ${model.trend.length.toString()} run(s)</h2>
    ${trendBlock(model.trend)}
    ${changes}
    ${exceptionsList(cert)}
    ${skippedList(cert)}
  </section>
</div>
<footer>
  <div>The verdict is decided by rules, not by the score: every mandatory stage must meet its minimum pass rate, every critical check must pass, and only <i>passed</i> counts as passed (skipped, unknown and not covered never do). ${htmlEscape(gateLine(model.gate, cert))}</div>
  <div style="margin-top:1.5mm">Evidence manifest (SHA-256 of <code>evidence.sha256</code>): <code id="evidence-hash">${model.evidenceSha256}</code><br>Verify: <code>cd reports/${htmlEscape(cert.runId)} &amp;&amp; sha256sum -c manifest.sha256 &amp;&amp; sha256sum evidence.sha256</code> · full SHA <code>${htmlEscape(sha)}</code></div>
  ${images.length > 0 ? `<div style="margin-top:1.5mm">Images: ${images.map(([ref, used]) => `<code>${htmlEscape(ref === used ? ref : `${ref} → ${used}`)}</code>`).join(', ')}</div>` : ''}
</footer>
</main>
</body>
</html>
`;
}
