import type { Certification } from '../certify/certification.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';

/** How a verdict reads to people: NOT_CERTIFIED -> "NOT CERTIFIED". */
export function verdictLabel(verdict: Certification['verdict']): string {
  return verdict.replace('_', ' ');
}

const percent = (ratio: number): string => `${(Math.round(ratio * 1000) / 10).toFixed(1)}%`;
/** Pass rates round down, so a rate just under its minimum never reads as meeting it. */
const passPercent = (ratio: number): string => `${(Math.floor(ratio * 1000 + 1e-6) / 10).toFixed(1)}%`;
const minPercent = (ratio: number): string => `${(Math.round(ratio * 1000) / 10).toString()}%`;

interface StageRow {
  readonly stage: string;
  readonly status: string;
  readonly passRate: string;
  readonly passedOfDue: string;
  readonly min: string;
}

/**
 * How a stage took part in a run: `mandatory` gates the verdict; `optional` ran with `mandatory: false`
 * (reported, not gating); `not-run` was not selected or enabled. certification.json v1 has no field for
 * this: the verdict writes a stage that did not run as `skipped` with no pass rate, while a stage that
 * ran with nothing due is `unknown`, so `skipped` + null marks a stage that did not run.
 */
export function stageRole(entry: Certification['stages'][Stage]): 'mandatory' | 'optional' | 'not-run' {
  if (entry.mandatory) return 'mandatory';
  return entry.status === 'skipped' && entry.passRate === null ? 'not-run' : 'optional';
}

function stageRows(cert: Certification): StageRow[] {
  return STAGES.map((stage) => {
    const entry = cert.stages[stage];
    const role = stageRole(entry);
    if (role === 'not-run') {
      return { stage, status: 'skipped', passRate: '-', passedOfDue: '-', min: 'not run' };
    }
    return {
      stage,
      status: entry.status,
      passRate: entry.passRate === null ? 'n/a' : passPercent(entry.passRate),
      passedOfDue: `${entry.counts.passed.toString()}/${entry.due.toString()}`,
      min: role === 'optional' ? 'optional' : minPercent(entry.minPassRate),
    };
  });
}

function verdictLine(cert: Certification): string {
  const parts = [
    `Verdict: ${verdictLabel(cert.verdict)}`,
    `exit ${cert.exitCode.toString()}`,
    `score ${percent(cert.score)}`,
  ];
  if (cert.partial) parts.push('partial run');
  if (cert.validUntil !== null) parts.push(`valid until ${cert.validUntil.slice(0, 10)}`);
  return parts.join(' | ');
}

/** A short plain-text table of stages, the verdict, failed critical checks with their remediation, and every reason. */
export function formatVerdictTable(cert: Certification): string {
  const header: StageRow = {
    stage: 'Stage',
    status: 'Status',
    passRate: 'Pass rate',
    passedOfDue: 'Passed/Due',
    min: 'Min',
  };
  const rows = [header, ...stageRows(cert)];
  const width = (key: keyof StageRow): number => Math.max(...rows.map((row) => row[key].length));
  const columns: (keyof StageRow)[] = ['stage', 'status', 'passRate', 'passedOfDue', 'min'];
  const lines = rows.map((row) =>
    columns
      .map((key, i) => (i === columns.length - 1 ? row[key] : row[key].padEnd(width(key))))
      .join('  ')
      .trimEnd(),
  );
  lines.push('', verdictLine(cert));
  if (cert.criticalFailures.length > 0) {
    lines.push('', 'Critical checks not passed:');
    for (const failure of cert.criticalFailures) {
      lines.push(`  - [${failure.stage}] ${failure.check} "${failure.name}": ${failure.message}`);
      lines.push(`    fix: ${failure.remediation}`);
    }
  }
  if (cert.reasons.length > 0) {
    lines.push('', cert.verdict === 'CONDITIONAL' ? 'Conditions:' : 'Reasons:');
    for (const reason of cert.reasons) lines.push(`  - ${reason}`);
  }
  if (cert.invalidResults.length > 0) {
    lines.push('', 'Invalid result files:');
    for (const entry of cert.invalidResults) lines.push(`  - ${entry}`);
  }
  return `${lines.join('\n')}\n`;
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
};

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
  if (cert.partial) facts.push('**partial run**');
  if (cert.validUntil !== null) facts.push(`valid until ${cert.validUntil.slice(0, 10)}`);
  out.push(facts.join(' · '));
  out.push('');
  out.push('| Stage | Status | Pass rate | Passed/Due | Min |');
  out.push('| --- | --- | ---: | ---: | ---: |');
  for (const row of stageRows(cert)) {
    out.push(`| ${row.stage} | ${row.status} | ${row.passRate} | ${row.passedOfDue} | ${row.min} |`);
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
    out.push('', cert.verdict === 'CONDITIONAL' ? '**Conditions**' : '**Reasons**', '');
    for (const reason of cert.reasons) out.push(`- ${md(reason)}`);
  }
  if (extra.qualityGate !== undefined) out.push('', md(extra.qualityGate));
  out.push('');
  const sha = cert.git.sha === null ? 'unknown' : cert.git.sha.slice(0, 12);
  const dirty = cert.git.dirty === true ? ' (dirty)' : '';
  const report = cert.reportPath === null ? 'no report' : `report: \`${cert.reportPath.replace(/`/g, '')}\``;
  out.push(`<sub>run ${md(cert.runId)} · seed ${cert.seed.toString()} · git ${md(sha)}${dirty} · ${report}</sub>`);
  return `${out.join('\n')}\n`;
}
