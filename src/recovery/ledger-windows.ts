import type { Evidence, Metric } from '../core/check-result.ts';
import type { CheckOutcome } from '../runner/suite.ts';
import type { LedgerEntry, LedgerVerdict, WriteClass } from '../runner/write-ledger.ts';

/** Where an acknowledged write falls relative to an event (a backup, a kill). */
type WriteWindow = 'before' | 'during' | 'after';

/** The writes of a drill split by an event and judged: which had to survive and did not, which were lost by design. */
interface WindowVerdict {
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

/** What the RPO of a backup drill is judged on: the window and, when a ledger was kept, its verdict around the backup. */
interface RpoEvidence {
  /** From the start of the backup to the destruction. */
  readonly windowMs: number;
  /** Writes the drill was to acknowledge before the backup. */
  readonly writesBeforeBackup: number;
  readonly ledger?: { readonly verdict: LedgerVerdict; readonly judged: WindowVerdict };
}

/**
 * The RPO verdict: failed when a write acknowledged before the backup is gone; `unknown` without a
 * ledger or without a single write acknowledged before the backup (nothing proves anything survived);
 * `broken` when writes could not be made or read back. Pure.
 */
export function judgeRpo({ windowMs, writesBeforeBackup, ledger }: RpoEvidence): CheckOutcome {
  const base: Metric[] = [{ name: 'rpo_window_ms', value: windowMs, unit: 'ms' }];
  if (!ledger)
    return {
      status: 'unknown',
      message: `No write ledger (recovery.ledger and recovery.target): no write was made and read back, so nothing proves that acknowledged writes survive the restore (RPO window ${windowMs}ms, backup start to destruction)`,
      remediation:
        'Declare recovery.ledger and recovery.target so the drill writes records before and after the backup',
      metrics: base,
    };
  const { verdict, judged } = ledger;
  const metrics: Metric[] = [
    ...base,
    { name: 'rpo_lost_writes', value: judged.lostAfter.length, unit: 'count' },
    { name: 'writes_before_backup_survived', value: judged.survived, unit: 'count' },
  ];
  const evidence: Evidence[] = [
    {
      name: 'write ledger',
      contentType: 'text/plain',
      content: [
        'Acknowledged after the backup and lost (RPO):',
        ...(judged.lostAfter.length ? judged.lostAfter : ['(none)']),
        ...(judged.mustSurviveMissing.length
          ? ['', 'Acknowledged before the backup and missing:', ...judged.mustSurviveMissing]
          : []),
        '',
        ...verdict.lines,
      ].join('\n'),
    },
  ];
  if (judged.mustSurviveMissing.length > 0)
    return {
      status: 'failed',
      message: `${judged.mustSurviveMissing.length} write(s) acknowledged before the backup are missing after the restore: ${judged.mustSurviveMissing.slice(0, 5).join('; ')}`,
      metrics,
      evidence,
    };
  if (writesBeforeBackup === 0)
    return {
      status: 'unknown',
      message: `recovery.backup.writesBeforeBackup is 0: no write acknowledged before the backup, so nothing proves the backup keeps them`,
      remediation: 'Set recovery.backup.writesBeforeBackup to at least 1',
      metrics,
      evidence,
    };
  if (judged.unknownBefore.length > 0 || judged.dueBefore < writesBeforeBackup)
    return {
      status: 'broken',
      message: `Only ${judged.dueBefore} of ${writesBeforeBackup} writes before the backup were acknowledged, ${judged.unknownBefore.length} could not be read back: no evidence for the RPO`,
      metrics,
      evidence,
    };
  return {
    status: 'passed',
    message: `RPO: ${judged.lostAfter.length} acknowledged write(s) lost (made in the ${windowMs}ms between the backup and the destruction); all ${judged.survived} writes before the backup survived`,
    metrics,
    evidence,
  };
}
