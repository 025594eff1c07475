import { z } from 'zod';
import { CHECK_STATUSES } from '../core/check-result.ts';
import type { CheckResult, CheckStatus } from '../core/check-result.ts';
import { STAGES } from '../core/stage.ts';
import { DEFAULT_NOISE_BANDS } from '../config/noise-bands.ts';
import type { NoiseBand } from '../config/noise-bands.ts';
import type { Figure } from './figures.ts';
import { STATUS_SEVERITY_ORDER } from './pass-rates.ts';
import { PROPERTY_STATUSES, matchesCheckPattern } from './properties.ts';
import type { PropertyResult } from './properties.ts';

export { DEFAULT_NOISE_BANDS } from '../config/noise-bands.ts';
export type { NoiseBand } from '../config/noise-bands.ts';

const checkChangeSchema = z.strictObject({
  id: z.string().min(1),
  stage: z.enum(STAGES),
  before: z.enum(CHECK_STATUSES),
  after: z.enum(CHECK_STATUSES),
});

const figureMoveSchema = z.strictObject({
  id: z.string().min(1),
  label: z.string().min(1),
  unit: z.string(),
  before: z.number(),
  after: z.number(),
  /** (after - before) / before; null when before is 0. */
  change: z.number().nullable(),
  /** The noise band it moved beyond, as a ratio of the earlier value. */
  band: z.number().nonnegative(),
  direction: z.enum(['worse', 'better']),
});

const propertyLossSchema = z.strictObject({
  id: z.string().min(1),
  title: z.string().min(1),
  before: z.literal('proven'),
  /** null: the property is no longer in the catalogue. */
  after: z.enum(PROPERTY_STATUSES).nullable(),
  reason: z.string().min(1),
});

/** What changed since the previous CERTIFIED run of the same config, in `certification.json`. */
export const changesSchema = z.strictObject({
  /** The run compared with; null when there is none. */
  baseline: z.strictObject({ runId: z.string().min(1), finishedAt: z.iso.datetime() }).nullable(),
  /** Why there is no baseline, or what of it could not be read; null when the comparison is whole. */
  note: z.string().min(1).nullable(),
  /** Checks that passed in the baseline and do not now. */
  regressed: z.array(checkChangeSchema),
  /** Checks that did not pass in the baseline and pass now. */
  recovered: z.array(checkChangeSchema),
  /** Key figures that moved beyond their noise band, either way. */
  figures: z.array(figureMoveSchema),
  /** Properties proven in the baseline and not now (failed, not covered, or gone). */
  lostCoverage: z.array(propertyLossSchema),
});
export type Changes = z.infer<typeof changesSchema>;

/** A run as the comparison reads it. */
export interface ComparedRun {
  readonly runId: string;
  readonly finishedAt: string;
  /** Its checks; null when its results could not be read (then no check is compared). */
  readonly checks: readonly CheckResult[] | null;
  readonly figures: readonly Figure[];
  readonly properties: readonly PropertyResult[];
}

const rank = (status: CheckStatus): number => STATUS_SEVERITY_ORDER.indexOf(status);

function worstById(checks: readonly CheckResult[]): Map<string, CheckResult> {
  const byId = new Map<string, CheckResult>();
  for (const check of checks) {
    const seen = byId.get(check.id);
    if (seen === undefined || rank(check.status) < rank(seen.status)) byId.set(check.id, check);
  }
  return byId;
}

function checkChanges(baseline: readonly CheckResult[], current: readonly CheckResult[]) {
  const before = worstById(baseline);
  const regressed: Changes['regressed'] = [];
  const recovered: Changes['recovered'] = [];
  for (const [id, now] of worstById(current)) {
    const then = before.get(id);
    if (then === undefined || (then.status === 'passed') === (now.status === 'passed')) continue;
    const entry = { id, stage: now.stage, before: then.status, after: now.status };
    (now.status === 'passed' ? recovered : regressed).push(entry);
  }
  const byId = (a: { id: string }, b: { id: string }): number => a.id.localeCompare(b.id);
  return { regressed: regressed.sort(byId), recovered: recovered.sort(byId) };
}

/** The figures that moved beyond their noise band, in the current run's figure order. */
export function figureMoves(
  baseline: readonly Figure[],
  current: readonly Figure[],
  bands: readonly NoiseBand[] = DEFAULT_NOISE_BANDS,
): Changes['figures'] {
  const before = new Map(baseline.map((f) => [f.id, f]));
  return current.flatMap((figure) => {
    const then = before.get(figure.id);
    const band = bands.find((b) => matchesCheckPattern(figure.id, b.figure));
    if (then === undefined || band === undefined || then.unit !== figure.unit) return [];
    const delta = figure.value - then.value;
    const limit = Math.max(band.ratio * Math.abs(then.value), band.minDelta ?? 0);
    if (Math.abs(delta) <= limit) return [];
    const worse = band.worseWhen === 'higher' ? delta > 0 : delta < 0;
    return [
      {
        id: figure.id,
        label: figure.label,
        unit: figure.unit,
        before: then.value,
        after: figure.value,
        change: then.value === 0 ? null : delta / Math.abs(then.value),
        band: band.ratio,
        direction: worse ? 'worse' : 'better',
      },
    ];
  });
}

function lostCoverage(
  baseline: readonly PropertyResult[],
  current: readonly PropertyResult[],
): Changes['lostCoverage'] {
  const now = new Map(current.map((p) => [p.id, p]));
  return baseline.flatMap((then) => {
    if (then.status !== 'proven') return [];
    const after = now.get(then.id);
    if (after?.status === 'proven') return [];
    return [
      {
        id: then.id,
        title: then.title,
        before: 'proven' as const,
        after: after?.status ?? null,
        reason: after?.reason ?? 'No longer in the catalogue (the config omits or replaced it).',
      },
    ];
  });
}

/** What changed from `baseline` (the previous CERTIFIED run of the config) to `current`. Pure. */
export function whatChanged(
  baseline: ComparedRun,
  current: Omit<ComparedRun, 'runId' | 'finishedAt'> & { readonly checks: readonly CheckResult[] },
  bands: readonly NoiseBand[] = DEFAULT_NOISE_BANDS,
): Changes {
  const checks =
    baseline.checks === null ? { regressed: [], recovered: [] } : checkChanges(baseline.checks, current.checks);
  const notes = [
    baseline.checks === null ? `the check results of ${baseline.runId} could not be read: checks not compared` : '',
    baseline.properties.length === 0 ? `${baseline.runId} predates readiness properties: coverage not compared` : '',
  ].filter((n) => n !== '');
  return {
    baseline: { runId: baseline.runId, finishedAt: baseline.finishedAt },
    note: notes.length === 0 ? null : `${notes.join('; ')}.`,
    ...checks,
    figures: figureMoves(baseline.figures, current.figures, bands),
    lostCoverage: lostCoverage(baseline.properties, current.properties),
  };
}

/** The changes of a run that has no previous CERTIFIED run of its config to compare with. */
export function noBaseline(note: string): Changes {
  return { baseline: null, note, regressed: [], recovered: [], figures: [], lostCoverage: [] };
}
