import type { CheckResult } from '../core/check-result.ts';
import { assertNever, STAGES } from '../core/stage.ts';

/** The file name of a run's JUnit report, inside the run folder. */
export const JUNIT_FILE = 'junit.xml';

// XML 1.0 forbids most control characters even as references; drop them.
// eslint-disable-next-line no-control-regex -- the point is to match control characters
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Escapes text for an XML attribute or element body. */
export function xmlEscape(text: string): string {
  return text
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

function outcome(check: CheckResult): string {
  const message = check.message?.trim() ?? '';
  const body = [message, check.remediation ? `Remediation: ${check.remediation}` : '']
    .filter((line) => line !== '')
    .join('\n');
  switch (check.status) {
    case 'passed':
      return '';
    case 'failed':
      return `\n      <failure message="${xmlEscape(message || 'failed without a message')}" type="failed">${xmlEscape(body)}</failure>`;
    case 'broken':
      return `\n      <error message="${xmlEscape(message || 'broken without a message')}" type="broken">${xmlEscape(body)}</error>`;
    case 'skipped':
      return `\n      <skipped message="${xmlEscape(`skipped: ${message || 'no reason given'}`)}"/>`;
    case 'unknown':
      // JUnit has no "no evidence" outcome; skipped with an explicit message is the closest that never reads as passed.
      return `\n      <skipped message="${xmlEscape(`unknown (no evidence, never counts as passed): ${message || 'no message'}`)}"/>`;
    case 'not-applicable':
      // Declared not applicable (or not configured) with a reason: never a pass, so a skipped test case.
      return `\n      <skipped message="${xmlEscape(`not applicable: ${message || 'no reason given'}`)}"/>`;
    default:
      return assertNever(check.status, 'check status');
  }
}

interface JunitOptions {
  /** The `<testsuites name>`: the stack and run id. */
  readonly name: string;
  /** ISO timestamp of the run's start. */
  readonly timestamp: string;
}

/**
 * A JUnit XML report: one `<testsuite>` per stage that has checks, one `<testcase>` per check
 * (classname = stage.feature); failed -> `<failure>`, broken -> `<error>`, skipped, unknown and not-applicable -> `<skipped>`.
 */
export function renderJunitXml(checks: readonly CheckResult[], options: JunitOptions): string {
  const suites: string[] = [];
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0, timeMs: 0 };
  for (const stage of STAGES) {
    const own = checks.filter((check) => check.stage === stage);
    if (own.length === 0) continue;
    const failures = own.filter((c) => c.status === 'failed').length;
    const errors = own.filter((c) => c.status === 'broken').length;
    const skipped = own.filter(
      (c) => c.status === 'skipped' || c.status === 'unknown' || c.status === 'not-applicable',
    ).length;
    const timeMs = own.reduce((sum, c) => sum + Math.max(0, c.finishedAt - c.startedAt), 0);
    totals.tests += own.length;
    totals.failures += failures;
    totals.errors += errors;
    totals.skipped += skipped;
    totals.timeMs += timeMs;
    const cases = own.map((check) => {
      const properties = [
        `        <property name="id" value="${xmlEscape(check.id)}"/>`,
        `        <property name="severity" value="${xmlEscape(check.severity)}"/>`,
        `        <property name="status" value="${check.status}"/>`,
        ...check.metrics.map(
          (m) =>
            `        <property name="metric.${xmlEscape(m.name)}" value="${xmlEscape(`${m.value} ${m.unit}`.trim())}"/>`,
        ),
      ];
      return (
        `    <testcase name="${xmlEscape(`${check.id}: ${check.name}`)}" classname="${xmlEscape(`${stage}.${check.feature}`)}" time="${seconds(check.finishedAt - check.startedAt)}">` +
        `\n      <properties>\n${properties.join('\n')}\n      </properties>${outcome(check)}\n    </testcase>`
      );
    });
    suites.push(
      `  <testsuite name="${stage}" tests="${own.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(timeMs)}" timestamp="${xmlEscape(options.timestamp)}">\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(options.name)}" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" skipped="${totals.skipped}" time="${seconds(totals.timeMs)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
