import type { Certification } from '../certify/certification.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import type { StageRole } from '../certify/verdict.ts';
import type { Changes } from '../certify/changes.ts';
import { meetsTarget } from '../certify/figures.ts';
import type { Figure, FigureTargetOp } from '../certify/figures.ts';
import { PROPERTY_GROUP_LABELS, propertyRisks } from '../certify/properties.ts';
import type { PropertyResult } from '../certify/properties.ts';
import { PROPERTY_GROUPS } from '../config/properties.ts';

const VERDICT_LABEL: Readonly<Record<Certification['verdict'], string>> = {
  CERTIFIED: 'CERTIFIED',
  CONDITIONAL: 'CONDITIONAL',
  NOT_CERTIFIED: 'NOT CERTIFIED',
  PASSED_PARTIAL: 'PASSED (PARTIAL RUN)',
  FAILED_PARTIAL: 'FAILED (PARTIAL RUN)',
};

/** How a verdict reads to people: NOT_CERTIFIED -> "NOT CERTIFIED", PASSED_PARTIAL -> "PASSED (PARTIAL RUN)". */
export function verdictLabel(verdict: Certification['verdict']): string {
  return VERDICT_LABEL[verdict];
}

/** The headline of a partial run: it is not a certification, and which stages it left out. */
export function partialHeadline(cert: Pick<Certification, 'partial' | 'stagesNotRun'>): string | undefined {
  if (!cert.partial) return undefined;
  return `Partial run: not a certification. Stages not run: ${cert.stagesNotRun.join(', ')}.`;
}

/** A skipped (or otherwise not passed) check as one line: id, whether it counts, and its reason. */
interface SkippedLine {
  readonly stage: Stage;
  readonly check: string;
  /** "not counted (policy.skippable)" or "counts as not passed". */
  readonly counting: string;
  readonly reason: string;
}

/** Every skipped check of the stages that ran, with its reason and whether it counts against its stage. */
export function skippedChecks(cert: Certification): SkippedLine[] {
  return STAGES.filter((stage) => isRunRole(cert.stages[stage].role)).flatMap((stage) =>
    cert.stages[stage].notPassed
      .filter((entry) => entry.status === 'skipped')
      .map((entry) => ({
        stage,
        check: entry.check,
        counting: entry.due ? 'counts as not passed' : 'not counted (policy.skippable)',
        reason: entry.reason,
      })),
  );
}

/** A check the run does not cover, as one line: id, stage, why (declared or not configured), critical or not, reason. */
interface NotCoveredLine {
  readonly stage: Stage;
  readonly check: string;
  /** "not applicable" or "not configured", with ", critical" for a check the policy holds critical. */
  readonly kind: string;
  readonly reason: string;
}

/** Every not-applicable check of the stages that ran, with its reason: not covered is never a silent pass. */
export function notCoveredChecks(cert: Pick<Certification, 'notCovered'>): NotCoveredLine[] {
  return cert.notCovered.map((entry) => ({
    stage: entry.stage,
    check: entry.check,
    kind: `${entry.kind === 'not-configured' ? 'not configured' : 'not applicable'}${entry.critical ? ', critical' : ''}`,
    reason: entry.reason,
  }));
}

const isRunRole = (role: StageRole): boolean => role === 'mandatory' || role === 'optional';

const percent = (ratio: number): string => `${(Math.round(ratio * 1000) / 10).toFixed(1)}%`;
/** Pass rates round down, so a rate just under its minimum never reads as meeting it. */
const passPercent = (ratio: number): string => `${(Math.floor(ratio * 1000 + 1e-6) / 10).toFixed(1)}%`;
const minPercent = (ratio: number): string => `${(Math.round(ratio * 1000) / 10).toString()}%`;

interface StageRow {
  readonly stage: string;
  readonly status: string;
  readonly passRate: string;
  readonly passedOfDue: string;
  readonly skipped: string;
  readonly min: string;
}

/** The skipped column: how many skipped, and how many of those the policy does not count. */
export function skippedCell(entry: Certification['stages'][Stage]): string {
  const skipped = entry.notPassed.filter((check) => check.status === 'skipped');
  if (skipped.length === 0) return '-';
  const notCounted = skipped.filter((check) => !check.due).length;
  if (notCounted === 0) return skipped.length.toString();
  return notCounted === skipped.length
    ? `${skipped.length.toString()} not counted`
    : `${skipped.length.toString()} (${notCounted.toString()} not counted)`;
}

function stageRows(cert: Certification): StageRow[] {
  return STAGES.map((stage) => {
    const entry = cert.stages[stage];
    if (!isRunRole(entry.role)) {
      const status = entry.role === 'not-run' ? 'not run' : 'not enabled';
      return { stage, status, passRate: '-', passedOfDue: '-', skipped: '-', min: '-' };
    }
    return {
      stage,
      status: entry.status,
      passRate: entry.passRate === null ? 'n/a' : passPercent(entry.passRate),
      passedOfDue: `${entry.counts.passed.toString()}/${entry.due.toString()}`,
      skipped: skippedCell(entry),
      min: entry.role === 'optional' ? 'optional' : minPercent(entry.minPassRate),
    };
  });
}

function verdictLine(cert: Certification): string {
  const parts = [
    `Verdict: ${verdictLabel(cert.verdict)}`,
    `exit ${cert.exitCode.toString()}`,
    `score ${percent(cert.score)}`,
  ];
  if (cert.validUntil !== null) parts.push(`valid until ${cert.validUntil.slice(0, 10)}`);
  return parts.join(' | ');
}

const reasonsTitle = (cert: Certification): string =>
  cert.verdict === 'CONDITIONAL' ? 'Conditions' : cert.partial ? 'Why the selected stages did not pass' : 'Reasons';

/** A short plain-text table of stages, the verdict, failed critical checks with their remediation, every reason, policy exceptions, skipped and not covered checks. */
export function formatVerdictTable(cert: Certification): string {
  const header: StageRow = {
    stage: 'Stage',
    status: 'Status',
    passRate: 'Pass rate',
    passedOfDue: 'Passed/Due',
    skipped: 'Skipped',
    min: 'Min',
  };
  const rows = [header, ...stageRows(cert)];
  const width = (key: keyof StageRow): number => Math.max(...rows.map((row) => row[key].length));
  const columns: (keyof StageRow)[] = ['stage', 'status', 'passRate', 'passedOfDue', 'skipped', 'min'];
  const lines = rows.map((row) =>
    columns
      .map((key, i) => (i === columns.length - 1 ? row[key] : row[key].padEnd(width(key))))
      .join('  ')
      .trimEnd(),
  );
  lines.push('', verdictLine(cert));
  const headline = partialHeadline(cert);
  if (headline !== undefined) lines.push(headline);
  if (cert.propertyCoverage !== null && cert.properties.length > 0) {
    const { proven, total, failed, notCovered } = cert.propertyCoverage;
    lines.push(
      `Readiness properties: ${proven.toString()} of ${total.toString()} proven, ${failed.toString()} failed, ${notCovered.toString()} not covered`,
    );
    const risks = propertyRisks(cert.properties);
    if (risks.length > 0) {
      lines.push('', 'Risks (critical properties not proven):');
      for (const risk of risks) {
        lines.push(`  - ${risk.title} (${risk.id}, ${risk.severity}): ${propertyStatusLabel(risk)}`);
        lines.push(`    fix: ${risk.remediation ?? ''}`);
      }
    }
  }
  if (cert.crossCheck.qualityGate === 'disagrees') {
    lines.push(
      `The policy alone says ${verdictLabel(cert.crossCheck.policyVerdict)}; the quality gate did not confirm it.`,
    );
  }
  if (cert.criticalFailures.length > 0) {
    lines.push('', 'Critical checks not passed:');
    for (const failure of cert.criticalFailures) {
      lines.push(`  - [${failure.stage}] ${failure.check} "${failure.name}": ${failure.message}`);
      lines.push(`    fix: ${failure.remediation}`);
    }
  }
  if (cert.reasons.length > 0) {
    lines.push('', `${reasonsTitle(cert)}:`);
    for (const reason of cert.reasons) lines.push(`  - ${reason}`);
  }
  if (cert.policyExceptions.length > 0) {
    lines.push('', 'Policy exceptions:');
    for (const exception of cert.policyExceptions)
      lines.push(`  - ${exception.key} = ${JSON.stringify(exception.value)}: ${exception.text}`);
  }
  const skipped = skippedChecks(cert);
  if (skipped.length > 0) {
    lines.push('', 'Skipped checks:');
    for (const entry of skipped) lines.push(`  - [${entry.stage}] ${entry.check}, ${entry.counting}: ${entry.reason}`);
  }
  const notCovered = notCoveredChecks(cert);
  if (notCovered.length > 0) {
    lines.push('', 'Not covered (never counted as passed):');
    for (const entry of notCovered) lines.push(`  - [${entry.stage}] ${entry.check}, ${entry.kind}: ${entry.reason}`);
  }
  if (cert.invalidResults.length > 0) {
    lines.push('', 'Invalid result files:');
    for (const entry of cert.invalidResults) lines.push(`  - ${entry}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A figure's value with its unit, rounded for reading: a ratio as a percentage, a count bare. */
export function formatFigureValue(value: number, unit: string): string {
  if (unit === 'ratio') return `${(value * 100).toFixed(2).replace(/\.?0+$/, '')}%`;
  const rounded = Math.abs(value) >= 100 ? Math.round(value).toString() : Number(value.toFixed(2)).toString();
  return unit === 'count' || unit === '' ? rounded : `${rounded} ${unit}`;
}

const OP_SIGN: Readonly<Record<FigureTargetOp, string>> = { '<': '<', '<=': '≤', '>=': '≥' };

/** A figure's target as read (`≤ 200 ms`), and whether it is met; '-' without one. */
export function figureTargetCell(figure: Figure): { readonly text: string; readonly met: boolean | undefined } {
  if (!figure.target) return { text: '-', met: undefined };
  return {
    text: `${OP_SIGN[figure.target.op]} ${formatFigureValue(figure.target.value, figure.unit)}`,
    met: meetsTarget(figure),
  };
}

const WHY_LABEL: Readonly<Record<NonNullable<PropertyResult['why']>, string>> = {
  'not-configured': 'not configured',
  'not-applicable': 'not applicable',
  skipped: 'skipped',
  unknown: 'unknown',
  'no-check': 'no check ran',
};

/** A property's status as read: `proven`, `failed`, `broken` (only harness failures), `not covered: skipped`. */
export function propertyStatusLabel(property: Pick<PropertyResult, 'status' | 'why' | 'checks'>): string {
  if (property.status === 'proven') return 'proven';
  if (property.status === 'failed') return property.checks.some((c) => c.status === 'failed') ? 'failed' : 'broken';
  return `not covered: ${property.why === null ? 'no evidence' : WHY_LABEL[property.why]}`;
}

const signedPercent = (ratio: number): string =>
  `${ratio >= 0 ? '+' : '-'}${Math.round(Math.abs(ratio) * 100).toString()}%`;

/** A figure that moved beyond its noise band, as one line: `Capacity knee 166.67 -> 120 req/s (-28%, band ±20%): worse`. */
export function describeFigureMove(move: Changes['figures'][number]): string {
  const change = move.change === null ? 'from 0' : signedPercent(move.change);
  return `${move.label}: ${formatFigureValue(move.before, move.unit)} → ${formatFigureValue(move.after, move.unit)} (${change}, band ±${Math.round(move.band * 100).toString()}%): ${move.direction}`;
}

/** Escapes text for a Markdown table cell or list item: pipes, emphasis, links, line breaks and HTML tags. */
function md(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/[|`*_[\]]/g, (char) => `\\${char}`)
    .replace(/</g, '&lt;')
    .replace(/\r?\n/g, ' ');
}

const VERDICT_ICON: Readonly<Record<Certification['verdict'], string>> = {
  CERTIFIED: '✅',
  CONDITIONAL: '⚠️',
  NOT_CERTIFIED: '❌',
  PASSED_PARTIAL: '☑️',
  FAILED_PARTIAL: '❌',
};

/** A table cell's text up to 200 characters: the whole reason is in certification.json. */
const clipCell = (text: string): string => (text.length > 200 ? `${text.slice(0, 199)}…` : text);

const code = (text: string): string => `\`${text.replace(/`/g, '')}\``;

/** Critical properties not proven, most severe first, each with its fix. */
function risksMarkdown(cert: Certification): string[] {
  if (cert.properties.length === 0) return [];
  const risks = propertyRisks(cert.properties);
  if (risks.length === 0) return ['', '**Risks**: none, every critical readiness property is proven.'];
  const out = [
    '',
    `**Risks: ${risks.length.toString()} critical propert${risks.length === 1 ? 'y' : 'ies'} not proven**`,
    '',
  ];
  for (const risk of risks) {
    out.push(
      `- **${md(risk.title)}** (${code(risk.id)}, ${risk.severity}): ${md(propertyStatusLabel(risk))}: ${md(clipCell(risk.reason))}`,
    );
    out.push(`  - fix: ${md(risk.remediation ?? '')}`);
  }
  return out;
}

/** Every property by group with its status and why, under the coverage figure. */
function propertiesMarkdown(cert: Certification): string[] {
  const coverage = cert.propertyCoverage;
  if (cert.properties.length === 0 || coverage === null) return [];
  const ratio = coverage.ratio === null ? '' : ` (${percent(coverage.ratio)})`;
  const out = [
    '',
    `**Readiness properties**: ${coverage.proven.toString()} of ${coverage.total.toString()} proven${ratio}, ${coverage.failed.toString()} failed, ${coverage.notCovered.toString()} not covered`,
    '',
    '| Group | Property | Status | Why |',
    '| --- | --- | --- | --- |',
  ];
  for (const group of PROPERTY_GROUPS) {
    for (const p of cert.properties.filter((x) => x.group === group)) {
      const mark = p.status === 'proven' ? '✅' : p.status === 'failed' ? '❌' : '⚪';
      out.push(
        `| ${PROPERTY_GROUP_LABELS[group]} | ${md(p.title)} | ${mark} ${md(propertyStatusLabel(p))} | ${md(clipCell(p.reason))} |`,
      );
    }
  }
  return out;
}

/** What changed since the previous CERTIFIED run of the config. */
function changesMarkdown(cert: Certification): string[] {
  const changes = cert.changes;
  if (changes === null) return [];
  if (changes.baseline === null) return ['', `**What changed**: ${md(changes.note ?? 'no earlier CERTIFIED run')}`];
  const out = ['', `**What changed** since CERTIFIED run ${code(changes.baseline.runId)}`, ''];
  for (const c of changes.regressed) out.push(`- regressed: ${code(c.id)} (${c.before} → ${c.after})`);
  for (const c of changes.recovered) out.push(`- recovered: ${code(c.id)} (${c.before} → ${c.after})`);
  for (const move of changes.figures) out.push(`- ${md(describeFigureMove(move))}`);
  for (const p of changes.lostCoverage)
    out.push(`- coverage lost: ${md(p.title)} (${code(p.id)}, proven → ${p.after ?? 'gone'}): ${md(p.reason)}`);
  if (out.length === 3) out.push('- nothing regressed, no figure moved beyond its noise band, no coverage lost');
  if (changes.note !== null) out.push('', md(changes.note));
  return out;
}

/** A Markdown summary of a certification that fits a pull-request comment or a CI step summary. */
export function renderSummaryMarkdown(
  cert: Certification,
  extra: {
    /** One line on the Allure quality gate's cross-check of the verdict. */
    readonly qualityGate?: string;
  } = {},
): string {
  const out: string[] = [];
  out.push(`### ${VERDICT_ICON[cert.verdict]} Readiness: ${verdictLabel(cert.verdict)}`);
  out.push('');
  const facts = [`exit code ${cert.exitCode.toString()}`, `score ${percent(cert.score)}`];
  if (cert.validUntil !== null) facts.push(`valid until ${cert.validUntil.slice(0, 10)}`);
  out.push(facts.join(' · '));
  const headline = partialHeadline(cert);
  if (headline !== undefined) out.push('', `**${md(headline)}**`);
  out.push(...risksMarkdown(cert));
  out.push('');
  out.push('| Stage | Status | Pass rate | Passed/Due | Skipped | Min |');
  out.push('| --- | --- | ---: | ---: | ---: | ---: |');
  for (const row of stageRows(cert)) {
    out.push(`| ${row.stage} | ${row.status} | ${row.passRate} | ${row.passedOfDue} | ${row.skipped} | ${row.min} |`);
  }
  if (cert.criticalFailures.length > 0) {
    out.push('', '**Critical checks not passed**', '');
    for (const failure of cert.criticalFailures) {
      out.push(
        `- **${md(failure.stage)}** \`${failure.check.replace(/`/g, '')}\` ${md(failure.name)}: ${md(failure.message)}`,
      );
      out.push(`  - fix: ${md(failure.remediation)}`);
    }
  }
  if (cert.reasons.length > 0) {
    out.push('', `**${reasonsTitle(cert)}**`, '');
    for (const reason of cert.reasons) out.push(`- ${md(reason)}`);
  }
  if (cert.policyExceptions.length > 0) {
    out.push('', '**Policy exceptions**', '');
    for (const exception of cert.policyExceptions)
      out.push(`- \`${exception.key}\` = ${md(JSON.stringify(exception.value))}: ${md(exception.text)}`);
  }
  const skipped = skippedChecks(cert);
  if (skipped.length > 0) {
    out.push('', '**Skipped checks**', '');
    for (const entry of skipped)
      out.push(`- **${entry.stage}** \`${entry.check.replace(/`/g, '')}\`, ${entry.counting}: ${md(entry.reason)}`);
  }
  const notCovered = notCoveredChecks(cert);
  if (notCovered.length > 0) {
    out.push('', '**Not covered** (never counted as passed)', '');
    for (const entry of notCovered)
      out.push(`- **${entry.stage}** \`${entry.check.replace(/`/g, '')}\`, ${entry.kind}: ${md(entry.reason)}`);
  }
  if (cert.figures.length > 0) {
    out.push('', '**Key figures**', '', '| Figure | Value | Target | Check |', '| --- | ---: | ---: | --- |');
    for (const figure of cert.figures) {
      const target = figureTargetCell(figure);
      const mark = target.met === undefined ? '' : target.met ? ' ✅' : ' ❌';
      const check = figure.check === null ? 'figure only' : `\`${figure.check.replace(/`/g, '')}\``;
      out.push(
        `| ${md(figure.label)} | ${md(formatFigureValue(figure.value, figure.unit))} | ${md(target.text)}${mark} | ${check} |`,
      );
    }
  }
  out.push(...propertiesMarkdown(cert), ...changesMarkdown(cert));
  if (extra.qualityGate !== undefined) out.push('', md(extra.qualityGate));
  out.push('');
  const sha = cert.git.sha === null ? 'not a git checkout' : cert.git.sha.slice(0, 12);
  const dirty = cert.git.dirty === true ? ' (dirty)' : '';
  const report = cert.reportPath === null ? 'no report' : `report: \`${cert.reportPath.replace(/`/g, '')}\``;
  out.push(`<sub>run ${md(cert.runId)} · seed ${cert.seed.toString()} · git ${md(sha)}${dirty} · ${report}</sub>`);
  return `${out.join('\n')}\n`;
}
