import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FOLLOW_FAILED_MARK } from '../stack/service-logs.ts';
import { judgeServiceLog } from './judge.ts';
import { LogCursor, LogCursors } from './log-cursor.ts';
import { signalRules } from './classify.ts';
import { defaultSignals } from '../config/signals.ts';

const RECORDED = join(import.meta.dirname, '../../test/fixtures/signals/orders-load.log');

describe('LogCursor', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'log-cursor-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns only the whole lines written since the last read, a half-written line the next time', async () => {
    const path = join(dir, 'orders.log');
    const cursor = new LogCursor(path);
    expect(await cursor.readNew()).toBeNull();
    await writeFile(path, 'a 1\nb 2\nc 3');
    expect(await cursor.readNew()).toBe('a 1\nb 2\n');
    expect(await cursor.readNew()).toBe('');
    await appendFile(path, '…\nd 4\n');
    expect(await cursor.readNew()).toBe('c 3…\nd 4\n');
  });

  it('keeps a lost-log mark: every later part starts with it, so the judge stays unknown', async () => {
    const path = join(dir, 'orders.log');
    const recorded = await readFile(RECORDED, 'utf8');
    const lines = recorded.split('\n').filter((l) => l !== '');
    const mark = `${FOLLOW_FAILED_MARK}readiness-orders failed: Error: socket hang up`;
    await writeFile(path, `${lines.slice(0, 5).join('\n')}\n${mark}\n`);
    const cursors = new LogCursors();
    expect(cursors.for(path)).toBe(cursors.for(path));
    await cursors.for(path).readNew();
    await appendFile(path, `${lines.slice(5).join('\n')}\n`);
    const part = await cursors.for(path).readNew();
    expect(part?.startsWith(mark)).toBe(true);
    const verdict = judgeServiceLog(part ?? '', {
      service: 'orders',
      stage: 'load',
      fromMs: 0,
      toMs: Date.parse('2100-01-01T00:00:00Z'),
      faults: [],
      rules: signalRules(defaultSignals()),
      budgets: defaultSignals().budgets,
      evidenceLines: 5,
    });
    expect(verdict.status).toBe('unknown');
  });
});
