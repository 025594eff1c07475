import { appendFileSync } from 'node:fs';
import type { Reporter } from '../../core/reporter.ts';

/** `::error`/`::warning` workflow commands escape %, CR and LF (GitHub's documented encoding). */
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** On GitHub Actions: an annotation per failed/broken check, a notice per not-applicable one, the verdict appended to the job summary. */
export function githubReporter(write: (line: string) => void, stepSummaryFile: string | undefined): Reporter {
  return {
    onCheckResult: (result) => {
      if (result.status === 'not-applicable') {
        // Not covered is visible, never a silent pass; a notice, since it does not block.
        write(
          `::notice title=${escapeProperty(`${result.stage}: ${result.id}`)}::${escapeData(result.message ?? result.name)}`,
        );
        return;
      }
      if (result.status !== 'failed' && result.status !== 'broken') return;
      const level = result.status === 'failed' ? 'error' : 'warning';
      const body = [result.message, result.remediation ? `fix: ${result.remediation}` : undefined]
        .filter(Boolean)
        .join('\n');
      write(`::${level} title=${escapeProperty(`${result.stage}: ${result.id}`)}::${escapeData(body || result.name)}`);
    },
    onRunEnd: (summary) => {
      if (stepSummaryFile && summary.summaryMarkdown) appendFileSync(stepSummaryFile, `${summary.summaryMarkdown}\n`);
    },
  };
}

/** Calls every reporter's hook in turn. */
export function composeReporters(...reporters: readonly Reporter[]): Reporter {
  return {
    onInfo: (message) => reporters.forEach((r) => r.onInfo?.(message)),
    onStageStart: (stage) => reporters.forEach((r) => r.onStageStart?.(stage)),
    onCheckResult: (result) => reporters.forEach((r) => r.onCheckResult?.(result)),
    onStageEnd: (stage, results) => reporters.forEach((r) => r.onStageEnd?.(stage, results)),
    onRunEnd: (summary) => reporters.forEach((r) => r.onRunEnd?.(summary)),
  };
}
