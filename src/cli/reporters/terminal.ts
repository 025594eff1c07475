import type { CheckResult } from '../../core/check-result.ts';
import type { Reporter } from '../../core/reporter.ts';
import type { Stage } from '../../core/stage.ts';

const COLORS = {
  passed: 32,
  failed: 31,
  broken: 35,
  skipped: 33,
  unknown: 36,
  'not-applicable': 90,
} as const satisfies Record<CheckResult['status'], number>;

/** Live progress on stderr: colours only on a TTY without NO_COLOR; plain lines in CI. */
export function terminalReporter(
  stream: NodeJS.WriteStream = process.stderr,
  options: { json?: boolean } = {},
): Reporter {
  const color = stream.isTTY && !process.env['NO_COLOR'] && !options.json;
  const paint = (code: number, text: string): string => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const started = performance.now();
  const stamp = (): string => `[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s]`;
  const line = (text: string): void => {
    stream.write(`${stamp()} ${text}\n`);
  };
  const stageStarts = new Map<Stage, number>();
  return {
    onInfo: (message) => line(message),
    onStageStart: (stage) => {
      stageStarts.set(stage, performance.now());
      line(paint(1, `stage ${stage}`));
    },
    onCheckResult: (result: CheckResult) => {
      const ms = result.finishedAt - result.startedAt;
      const label = result.status === 'not-applicable' ? 'N/A' : result.status.toUpperCase();
      const status = paint(COLORS[result.status], label.padEnd(7));
      line(
        `  ${status} ${result.id} (${ms}ms)${result.status === 'passed' || !result.message ? '' : `\n           ${result.message.split('\n')[0] ?? ''}`}`,
      );
    },
    onStageEnd: (stage, results) => {
      const passed = results.filter((r) => r.status === 'passed').length;
      const notApplicable = results.filter((r) => r.status === 'not-applicable').length;
      const ms = performance.now() - (stageStarts.get(stage) ?? started);
      const na = notApplicable > 0 ? ` (${notApplicable} not applicable)` : '';
      line(`stage ${stage}: ${passed}/${results.length - notApplicable} passed${na} in ${(ms / 1000).toFixed(1)}s`);
    },
  };
}
