import type { CheckResultInput } from '../core/check-result.ts';
import type { PlannedCheck } from './suite.ts';

/** A planned check that has no result: recorded `unknown` with the reason, under its planned severity. */
export function unrecordedChecks(
  plan: readonly PlannedCheck[],
  recordedIds: ReadonlySet<string>,
  why: string,
  atMs: number,
): Omit<CheckResultInput, 'stage'>[] {
  const seen = new Set<string>();
  const out: Omit<CheckResultInput, 'stage'>[] = [];
  for (const check of plan) {
    if (recordedIds.has(check.id) || seen.has(check.id)) continue;
    seen.add(check.id);
    out.push({
      id: check.id,
      name: check.name,
      feature: check.feature,
      severity: check.severity,
      status: 'unknown',
      tags: [...(check.tags ?? []), 'not-recorded'],
      message: `Planned but not recorded: ${why}`,
      remediation: `Make the suite reach this check (${why}) and run the stage again`,
      startedAt: atMs,
      finishedAt: atMs,
    });
  }
  return out;
}
