import type { Certification } from '../certify/certification.ts';
import { STARTUP_FIGURE, meetsTarget } from '../certify/figures.ts';
import { PROPERTY_GROUP_LABELS, propertyRisks } from '../certify/properties.ts';
import type { PropertyResult } from '../certify/properties.ts';
import { PROPERTY_GROUPS } from '../config/properties.ts';
import { STAGES } from '../core/stage.ts';
import type { TrendPoint } from './runs.ts';
import {
  describeFigureMove,
  figureTargetCell,
  formatFigureValue,
  propertyStatusLabel,
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
const MAX_CRITICAL_UNDER_RISKS = 3;
const MAX_REASONS = 3;
const MAX_EXCEPTIONS = 6;
const MAX_SKIPPED = 6;
const MAX_NOT_COVERED = 6;
const MAX_TEXT = 180;
const MAX_RISKS = 5;
const MAX_CHANGES = 3;
/**
 * Key figures on the page, in the left column under the failures (the rest are in certification.json and
 * summary.md): 18 when that column lists nothing else, 14 when it does (measured with Chromium: the worst
 * case above plus 14 figures stays 2 pages, 16 makes 3).
 */
const MAX_FIGURES = 18;
const MAX_FIGURES_UNDER_FAILURES = 14;
/** With risks and properties above them (measured with Chromium: 5 risks, 3 critical checks, 10 figures stay 2 pages). */
const MAX_FIGURES_UNDER_RISKS = 10;

/** The Allure quality gate's cross-check, as the certificate states it. */
interface CertificateGate {
  readonly outcome: 'passed' | 'failed' | 'error';
  readonly gateVerdict: Certification['verdict'] | null;
  readonly agrees: boolean;
  readonly failedRules: number;
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
.trend svg { width: 100%; height: 38mm; display: block; }
.trend td, .trend th { font-size: 7.8pt; padding: .6mm 1mm; white-space: nowrap; }
.trend code.run { font-size: 7pt; word-break: normal; }
footer { margin-top: 4mm; border-top: 1px solid #c9ced8; padding-top: 2mm; font-size: 7.8pt; color: #4a5366; }
.figures td, .figures th { font-size: 7.6pt; padding: .3mm 1mm; line-height: 1.2; }
.figures td.met { color: #1f7a3d; } .figures td.missed { color: #b42318; font-weight: 600; }
.risks { margin-top: 3mm; padding: .5mm 3mm 1mm; font-size: 8.6pt; line-height: 1.25; border: 1.5px solid #b42318; background: #fdf3f2; }
.risks ul.critical li { margin-bottom: .6mm; } .risks h2 { margin-top: 1mm; color: #7a1a12; } .risks.clear { border-color: #1f7a3d; background: #f0f7f2; }
.risks.clear { color: #1f4d2b; } .risks.clear p { margin: 1.2mm 0; }
.coverage { font-weight: 600; margin: 0 0 1.5mm; }
.props { column-count: 3; column-gap: 5mm; font-size: 7.1pt; line-height: 1.2; }
.props section { break-inside: avoid; margin-bottom: 1.6mm; }
.props h3 { font-size: 7.6pt; margin: 0 0 .4mm; color: #4a5366; text-transform: uppercase; letter-spacing: .04em; }
.props ul { list-style: none; margin: 0; padding: 0; } .props li { padding-left: 3.2mm; text-indent: -3.2mm; margin-bottom: .3mm; }
.mark { font-weight: 700; display: inline-block; width: 3.2mm; text-indent: 0; }
.mark.proven { color: #1f7a3d; } .mark.failed { color: #b42318; } .mark.not-covered { color: #7a8194; }
ul.changes { margin: 0; padding-left: 4.5mm; font-size: 8pt; } ul.changes li { margin-bottom: .6mm; }
.worse { color: #b42318; } .better { color: #1f7a3d; }
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
  const max =
    propertyRisks(cert.properties).length > 0
      ? MAX_FIGURES_UNDER_RISKS
      : crowded
        ? MAX_FIGURES_UNDER_FAILURES
        : MAX_FIGURES;
  const shown = figures.slice(0, max);
  const rows = shown.map((figure) => {
    const target = figureTargetCell(figure);
    const cls = target.met === undefined ? 'num' : target.met ? 'num met' : 'num missed';
    const title = figure.check === null ? 'figure only, no check' : `check ${figure.check}`;
    return `<tr data-figure="${htmlEscape(figure.id)}" title="${htmlEscape(title)}"><td>${htmlEscape(figure.label)}</td><td class="num">${htmlEscape(formatFigureValue(figure.value, figure.unit))}</td><td class="${cls}">${htmlEscape(target.text)}</td></tr>`;
  });
  const more = figures.length - shown.length;
  return `<h2>Key figures</h2><table class="figures" id="key-figures"><thead><tr><th>Figure</th><th class="num">Value</th><th class="num">Target</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more > 0 ? `<p class="muted">and ${more.toString()} more in certification.json and summary.md</p>` : ''}`;
}

const MARK: Readonly<Record<PropertyResult['status'], string>> = { proven: '✓', failed: '✗', 'not-covered': '○' };

/** Critical properties not proven, most severe first, each with its fix: what a release review reads first. */
function risksBlock(cert: Certification): string {
  if (cert.properties.length === 0) return '';
  const risks = propertyRisks(cert.properties);
  if (risks.length === 0)
    return '<section class="risks clear" id="risks"><p><b>Risks: none.</b> Every critical readiness property is proven.</p></section>';
  const shown = risks
    .slice(0, MAX_RISKS)
    .map(
      (p) =>
        `<li data-property="${htmlEscape(p.id)}"><b>${htmlEscape(p.title)}</b> <span class="status ${p.status === 'failed' ? 'failed' : 'skipped'}">${htmlEscape(propertyStatusLabel(p))}</span> <span class="muted">(${p.severity})</span>: ${htmlEscape(clip(p.reason, 80))}` +
        `<br><span class="fix">Fix: ${htmlEscape(clip(p.remediation ?? '', 120))}</span></li>`,
    );
  const count = risks.length.toString();
  return `<section class="risks" id="risks"><h2>Risks: ${count} critical propert${risks.length === 1 ? 'y' : 'ies'} not proven</h2><ul class="critical">${shown.join('')}${moreLine(risks.length - shown.length)}</ul></section>`;
}

/** Every readiness property by group: proven, failed or not covered (with why), and the coverage figure. */
function propertiesBlock(cert: Certification): string {
  const coverage = cert.propertyCoverage;
  if (cert.properties.length === 0 || coverage === null) return '';
  const groups = PROPERTY_GROUPS.flatMap((group) => {
    const members = cert.properties.filter((p) => p.group === group);
    if (members.length === 0) return [];
    const proven = members.filter((p) => p.status === 'proven').length;
    const items = members.map((p) => {
      const why =
        p.status === 'proven'
          ? ''
          : ` <span class="muted">(${htmlEscape(propertyStatusLabel(p).replace(/^not covered: /, ''))})</span>`;
      return `<li data-property="${htmlEscape(p.id)}" data-status="${p.status}" title="${htmlEscape(p.reason)}"><span class="mark ${p.status}">${MARK[p.status]}</span>${htmlEscape(p.title)}${why}</li>`;
    });
    return [
      `<section><h3>${htmlEscape(PROPERTY_GROUP_LABELS[group])} ${proven.toString()}/${members.length.toString()}</h3><ul>${items.join('')}</ul></section>`,
    ];
  });
  const ratio = coverage.ratio === null ? '' : ` (${pct(coverage.ratio)})`;
  return (
    `<h2>Readiness properties</h2><p class="coverage" id="property-coverage">${coverage.proven.toString()} of ${coverage.total.toString()} proven${ratio} · ${coverage.failed.toString()} failed · ${coverage.notCovered.toString()} not covered</p>` +
    `<div class="props" id="properties">${groups.join('')}</div>`
  );
}

/** What changed since the previous CERTIFIED run of the config: checks, figures beyond their noise band, coverage lost. */
function changesBlock(cert: Certification): string {
  const changes = cert.changes;
  if (changes === null) return '';
  if (changes.baseline === null)
    return `<h2>What changed</h2><p class="muted" id="changes">${htmlEscape(changes.note ?? 'No earlier CERTIFIED run to compare with.')}</p>`;
  const list = <T>(items: readonly T[], line: (item: T) => string): string =>
    items.slice(0, MAX_CHANGES).map(line).join('') +
    (items.length > MAX_CHANGES
      ? ` <span class="muted">and ${(items.length - MAX_CHANGES).toString()} more</span>`
      : '');
  const lines: string[] = [];
  if (changes.regressed.length > 0)
    lines.push(
      `<li><span class="worse">Regressed ${changes.regressed.length.toString()}:</span> ${list(changes.regressed, (c) => `<code>${htmlEscape(c.id)}</code> (${c.after}) `)}</li>`,
    );
  if (changes.recovered.length > 0)
    lines.push(
      `<li><span class="better">Recovered ${changes.recovered.length.toString()}:</span> ${list(changes.recovered, (c) => `<code>${htmlEscape(c.id)}</code> `)}</li>`,
    );
  for (const move of changes.figures.slice(0, MAX_CHANGES))
    lines.push(
      `<li class="${move.direction}" data-figure-move="${htmlEscape(move.id)}">${htmlEscape(describeFigureMove(move))}</li>`,
    );
  if (changes.figures.length > MAX_CHANGES)
    lines.push(`<li class="muted">and ${(changes.figures.length - MAX_CHANGES).toString()} more figures moved</li>`);
  if (changes.lostCoverage.length > 0)
    lines.push(
      `<li><span class="worse">Coverage lost ${changes.lostCoverage.length.toString()}:</span> ${list(changes.lostCoverage, (p) => `${htmlEscape(p.title)} (${p.after ?? 'gone'}) `)}</li>`,
    );
  const body =
    lines.length === 0
      ? '<p class="muted">Nothing regressed, no figure moved beyond its noise band, no coverage lost.</p>'
      : `<ul class="changes">${lines.join('')}</ul>`;
  const note = changes.note === null ? '' : `<p class="muted">${htmlEscape(changes.note)}</p>`;
  return `<h2>What changed</h2><div id="changes"><p class="muted">Since CERTIFIED run <code>${htmlEscape(changes.baseline.runId)}</code>:</p>${body}${note}</div>`;
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
  // With risks at the top (their fixes included), the checks behind them take less room.
  const hasRisks = propertyRisks(cert.properties).length > 0;
  const max = hasRisks ? MAX_CRITICAL_UNDER_RISKS : MAX_CRITICAL;
  const text = hasRisks ? 70 : MAX_TEXT;
  const shown = cert.criticalFailures
    .slice(0, max)
    .map(
      (f) =>
        `<li><b>${htmlEscape(f.check)}</b> <span class="muted">(${f.stage})</span> ${htmlEscape(clip(f.name, 90))}: ${htmlEscape(clip(f.message, text))}` +
        `<br><span class="fix">Fix: ${htmlEscape(clip(f.remediation, text))}</span></li>`,
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

interface TrendSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  readonly format: (value: number) => string;
  /** Fixed range (the score's 0..1); else the series' own minimum and maximum. */
  readonly range?: readonly [number, number];
}

/** One row of the trend chart: a line over the runs (gaps where a run has no value), dots coloured by verdict. */
function trendRow(series: TrendSeries, trend: readonly TrendPoint[], top: number, x: (i: number) => number): string {
  const rowHeight = 24;
  const present = series.values.filter((v): v is number => v !== null);
  const label = `<text x="0" y="${(top + 10).toString()}" font-size="8" fill="#4a5366">${htmlEscape(series.label)}</text>`;
  const last = series.values.at(-1);
  const lastText = `<text x="300" y="${(top + 10).toString()}" font-size="8" text-anchor="end" fill="#1d2330">${last === null || last === undefined ? 'n/a' : htmlEscape(series.format(last))}</text>`;
  if (present.length === 0) return `${label}${lastText}`;
  const [low, high] = series.range ?? [Math.min(...present), Math.max(...present)];
  const span = high - low;
  const y = (v: number): number => top + rowHeight - 4 - (span === 0 ? 0.5 : (v - low) / span) * (rowHeight - 8);
  const segments: string[][] = [[]];
  series.values.forEach((v, i) => {
    if (v === null) segments.push([]);
    else segments.at(-1)?.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  });
  const lines = segments
    .filter((seg) => seg.length > 1)
    .map((seg) => `<polyline points="${seg.join(' ')}" fill="none" stroke="#4a5366" stroke-width="1.3"/>`)
    .join('');
  const dots = series.values
    .map((v, i) => {
      const point = trend[i];
      if (v === null || point === undefined) return '';
      return `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.6" fill="${DOT[point.verdict]}"><title>${htmlEscape(`${point.runId}: ${series.label} ${series.format(v)}`)}</title></circle>`;
    })
    .join('');
  const base = `<line x1="48" x2="252" y1="${(top + rowHeight - 2).toString()}" y2="${(top + rowHeight - 2).toString()}" stroke="#eceef2"/>`;
  return `${label}${lastText}${base}${lines}${dots}`;
}

/** The trend over the last runs as inline SVG: score (dots coloured by verdict), capacity knee, baseline p95 and RTO. */
function trendBlock(trend: readonly TrendPoint[]): string {
  if (trend.length === 0) return '';
  const series: TrendSeries[] = [
    { label: 'Score', values: trend.map((p) => p.score), format: pct, range: [0, 1] },
    { label: 'Knee', values: trend.map((p) => p.kneeRps), format: (v) => formatFigureValue(v, 'req/s') },
    { label: 'p95', values: trend.map((p) => p.p95Ms), format: (v) => formatFigureValue(v, 'ms') },
    { label: 'RTO', values: trend.map((p) => p.rtoMs), format: (v) => formatFigureValue(v, 'ms') },
  ];
  const x = (i: number): number => (trend.length === 1 ? 150 : 56 + (i * (244 - 56)) / (trend.length - 1));
  const rows = series.map((s, i) => trendRow(s, trend, i * 26, x)).join('');
  const svg = `<svg viewBox="0 0 300 ${(series.length * 26).toString()}" role="img" aria-label="verdict, score, capacity knee, p95 and RTO over the last ${trend.length.toString()} runs">${rows}</svg>`;
  const tableRows = [...trend]
    .reverse()
    .slice(0, 5)
    .map(
      (p) =>
        `<tr><td>${day(p.finishedAt)}</td><td><code class="run">${htmlEscape(p.runId)}</code></td><td style="color:${DOT[p.verdict]};font-weight:600;white-space:nowrap">${trendLabel(p.verdict)}</td><td class="num">${pct(p.score)}</td></tr>`,
    );
  return `<div class="trend" id="trend">${svg}<table><thead><tr><th>Date</th><th>Run</th><th>Verdict</th><th class="num">Score</th></tr></thead><tbody>${tableRows.join('')}</tbody></table></div>`;
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
${risksBlock(cert)}
<section class="facts">${facts.map(([k, v]) => `<div><b>${htmlEscape(k)}</b>${htmlEscape(v)}</div>`).join('')}</section>
<h2>Stages</h2>
${stageTable(cert)}
${propertiesBlock(cert)}
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
    ${changesBlock(cert)}
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
