import type { LedgerEntry, WriteClass } from '../runner/write-ledger.ts';

/** Where an acknowledged write falls relative to an event (a backup, a kill). */
export type WriteWindow = 'before' | 'during' | 'after';

/** The writes of a drill split by an event and judged: which had to survive and did not, which were lost by design. */
export interface WindowVerdict {
  /** Acknowledged before the event and not stable afterwards: each one fails the check. */
  readonly mustSurviveMissing: readonly string[];
  /** Acknowledged after the event (backup) and lost: the data loss the backup schedule allows (RPO). */
  readonly lostAfter: readonly string[];
  /** Acknowledged before the event and read back. */
  readonly survived: number;
  /** Acknowledged before the event: writes that had to survive. */
  readonly dueBefore: number;
  /** Writes whose outcome could not be read (unknown) among those that had to survive: evidence is missing. */
  readonly unknownBefore: readonly string[];
  readonly lines: readonly string[];
}

/** Which side of `[startMs, endMs]` a write's acknowledgement is on; unacknowledged writes have none. */
export function windowOf(entry: LedgerEntry, startMs: number, endMs: number): WriteWindow | undefined {
  if (entry.acknowledgedAtMs === undefined) return undefined;
  if (entry.acknowledgedAtMs < startMs) return 'before';
  if (entry.acknowledgedAtMs > endMs) return 'after';
  return 'during';
}

/**
 * Judges a ledger around an event that spans `[startMs, endMs]` (the backup, or the instant of a
 * kill): every write acknowledged before it must be stable (present, once); writes acknowledged
 * after it and gone are counted as lost by design (the RPO of a restore). Pure.
 */
export function judgeAroundEvent(
  entries: readonly LedgerEntry[],
  classes: ReadonlyMap<number, WriteClass>,
  startMs: number,
  endMs: number,
  event: string,
): WindowVerdict {
  const mustSurviveMissing: string[] = [];
  const lostAfter: string[] = [];
  const unknownBefore: string[] = [];
  const lines: string[] = [];
  let survived = 0;
  let dueBefore = 0;
  for (const entry of entries) {
    const window = windowOf(entry, startMs, endMs);
    const cls = classes.get(entry.seq) ?? 'unknown';
    const at = entry.acknowledgedAtMs === undefined ? 'never acknowledged' : `acknowledged ${window} the ${event}`;
    lines.push(`#${entry.seq} ${entry.id ?? '-'} ${at}: ${cls}`);
    if (window === 'before') {
      dueBefore += 1;
      if (cls === 'stable') survived += 1;
      else if (cls === 'unknown') unknownBefore.push(`write #${entry.seq} (${entry.id ?? '-'}) could not be read back`);
      else
        mustSurviveMissing.push(
          `write #${entry.seq} acknowledged as ${entry.id ?? '-'} before the ${event} is ${cls === 'lost' ? 'gone' : cls}`,
        );
    } else if (window === 'after' && cls === 'lost') {
      lostAfter.push(`write #${entry.seq} acknowledged as ${entry.id ?? '-'} after the ${event} is gone`);
    }
  }
  return { mustSurviveMissing, lostAfter, survived, dueBefore, unknownBefore, lines };
}
