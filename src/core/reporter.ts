import type { CheckResult } from './check-result.ts';
import type { Stage } from './stage.ts';

/** Progress hooks; only src/cli turns them into terminal output. All optional. */
export interface Reporter {
  onInfo?(message: string): void;
  onStageStart?(stage: Stage): void;
  onCheckResult?(result: CheckResult): void;
  onStageEnd?(stage: Stage, results: readonly CheckResult[]): void;
  onRunEnd?(summary: {
    readonly verdict: string;
    readonly exitCode: number;
    readonly runDir?: string;
    readonly summaryMarkdown?: string;
  }): void;
}
