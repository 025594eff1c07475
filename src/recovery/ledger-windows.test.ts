import { describe, expect, it } from 'vitest';
import type { LedgerEntry, WriteClass } from '../runner/write-ledger.ts';
import { judgeAroundEvent, judgeRpo, windowOf } from './ledger-windows.ts';

const entry = (seq: number, acknowledgedAtMs?: number): LedgerEntry => ({
  seq,
  key: `k${seq}`,
  fingerprint: `f${seq}`,
  body: {},
  attempts: 1,
  lostResponses: 0,
  statuses: [acknowledgedAtMs === undefined ? 503 : 201],
  ...(acknowledgedAtMs === undefined ? {} : { id: `o${seq}`, acknowledgedAtMs }),
});

describe('ledger around an event', () => {
  it('places writes before, during and after a backup', () => {
    expect(windowOf(entry(1, 5), 10, 20)).toBe('before');
    expect(windowOf(entry(2, 15), 10, 20)).toBe('during');
    expect(windowOf(entry(3, 25), 10, 20)).toBe('after');
    expect(windowOf(entry(4), 10, 20)).toBeUndefined();
  });

  it('counts writes after the backup that are gone as the RPO, not as failures', () => {
    const entries = [entry(1, 5), entry(2, 6), entry(3, 25), entry(4, 26), entry(5)];
    const classes = new Map<number, WriteClass>([
      [1, 'stable'],
      [2, 'stable'],
      [3, 'lost'],
      [4, 'lost'],
      [5, 'unacknowledged'],
    ]);
    const verdict = judgeAroundEvent(entries, classes, 10, 20, 'backup');
    expect(verdict.mustSurviveMissing).toEqual([]);
    expect(verdict.lostAfter).toHaveLength(2);
    expect(verdict.survived).toBe(2);
    expect(verdict.dueBefore).toBe(2);
  });

  it('fails a write acknowledged before a kill that is gone (lossy writes)', () => {
    const entries = [entry(1, 5), entry(2, 9), entry(3, 12)];
    const classes = new Map<number, WriteClass>([
      [1, 'stable'],
      [2, 'lost'],
      [3, 'lost'],
    ]);
    const verdict = judgeAroundEvent(entries, classes, 10, 10, 'kill');
    expect(verdict.mustSurviveMissing).toEqual(['write #2 acknowledged as o2 before the kill is gone']);
    expect(verdict.dueBefore).toBe(2);
  });

  it('keeps unreadable writes apart: no evidence is not a pass', () => {
    const verdict = judgeAroundEvent([entry(1, 5)], new Map([[1, 'unknown']]), 10, 10, 'kill');
    expect(verdict.mustSurviveMissing).toEqual([]);
    expect(verdict.unknownBefore).toHaveLength(1);
    expect(verdict.survived).toBe(0);
  });
});

describe('judgeRpo', () => {
  const verdictOf = (classes: Map<number, WriteClass>) => ({
    counts: { stable: 0, lost: 0, duplicated: 0, unacknowledged: 0, unknown: 0 },
    failures: [],
    lines: [],
    classes,
  });

  it('is unknown without a ledger: no write was made, so nothing proves the backup keeps them', () => {
    const outcome = judgeRpo({ windowMs: 900, writesBeforeBackup: 5 });
    expect(outcome.status).toBe('unknown');
    expect(outcome.message).toContain('No write ledger');
    expect(outcome.metrics).toEqual([{ name: 'rpo_window_ms', value: 900, unit: 'ms' }]);
  });

  it('is unknown when no write was due before the backup', () => {
    const entries = [entry(1, 25)];
    const classes = new Map<number, WriteClass>([[1, 'lost']]);
    const judged = judgeAroundEvent(entries, classes, 10, 20, 'backup');
    expect(
      judgeRpo({ windowMs: 10, writesBeforeBackup: 0, ledger: { verdict: verdictOf(classes), judged } }).status,
    ).toBe('unknown');
  });

  it('passes when every write before the backup survived, counting later losses as the RPO', () => {
    const entries = [entry(1, 5), entry(2, 6), entry(3, 25)];
    const classes = new Map<number, WriteClass>([
      [1, 'stable'],
      [2, 'stable'],
      [3, 'lost'],
    ]);
    const judged = judgeAroundEvent(entries, classes, 10, 20, 'backup');
    const outcome = judgeRpo({ windowMs: 10, writesBeforeBackup: 2, ledger: { verdict: verdictOf(classes), judged } });
    expect(outcome.status).toBe('passed');
    expect(outcome.metrics).toContainEqual({ name: 'rpo_lost_writes', value: 1, unit: 'count' });
  });

  it('fails when a write acknowledged before the backup is gone, and is broken when one cannot be read', () => {
    const entries = [entry(1, 5), entry(2, 6)];
    const lost = new Map<number, WriteClass>([
      [1, 'stable'],
      [2, 'lost'],
    ]);
    const judgedLost = judgeAroundEvent(entries, lost, 10, 20, 'backup');
    expect(
      judgeRpo({ windowMs: 10, writesBeforeBackup: 2, ledger: { verdict: verdictOf(lost), judged: judgedLost } })
        .status,
    ).toBe('failed');
    const unread = new Map<number, WriteClass>([[1, 'stable']]);
    const judgedUnread = judgeAroundEvent(entries, unread, 10, 20, 'backup');
    expect(
      judgeRpo({ windowMs: 10, writesBeforeBackup: 2, ledger: { verdict: verdictOf(unread), judged: judgedUnread } })
        .status,
    ).toBe('broken');
  });
});
