import { describe, expect, it } from 'vitest';
import { FaultJournal, dockerScope, faultWindows, inFaultWindow, toxiproxyScope } from './fault-journal.ts';

const API = 'http://127.0.0.1:32771';
const t = (iso: string): number => Date.parse(iso);

describe('FaultJournal from Toxiproxy calls', () => {
  it('opens a window when a toxic is added and closes it when the last one is removed', () => {
    const journal = new FaultJournal();
    // The load stage's fault phase of a recorded run: toxic added 08:42:35.070, removed 08:42:50.070.
    journal.noteToxiproxyCall(API, 'POST', '/proxies', { name: 'postgres' }, t('2026-12-06T08:40:21.000Z'));
    journal.noteToxiproxyCall(
      API,
      'POST',
      '/proxies/postgres/toxics',
      { name: 'readiness-load-fault-phase', type: 'latency' },
      t('2026-12-06T08:42:35.070Z'),
    );
    journal.noteToxiproxyCall(
      API,
      'DELETE',
      '/proxies/postgres/toxics/readiness-load-fault-phase',
      undefined,
      t('2026-12-06T08:42:50.070Z'),
    );
    const windows = faultWindows(journal.changes(), [toxiproxyScope(API)], 5_000);
    expect(windows).toEqual([
      {
        target: 'postgres',
        startMs: t('2026-12-06T08:42:35.070Z'),
        faultEndMs: t('2026-12-06T08:42:50.070Z'),
        endMs: t('2026-12-06T08:42:55.070Z'),
        detail: 'toxic readiness-load-fault-phase added, toxic readiness-load-fault-phase removed',
      },
    ]);
    expect(inFaultWindow(windows, t('2026-12-06T08:42:54.000Z'))).toBeDefined();
    expect(inFaultWindow(windows, t('2026-12-06T08:42:56.000Z'))).toBeUndefined();
  });

  it('keeps a proxy faulted while another toxic or a disable is still on, and a redraw does not close it', () => {
    const journal = new FaultJournal();
    const call = (method: string, path: string, body: unknown, at: number): void => {
      journal.noteToxiproxyCall(API, method, path, body, at);
    };
    call('POST', '/proxies/payments/toxics', { name: 'a' }, 1_000);
    call('DELETE', '/proxies/payments/toxics/a', undefined, 1_100); // redraw: removed ...
    call('POST', '/proxies/payments/toxics', { name: 'a' }, 1_101); // ... and added again
    call('POST', '/proxies/payments', { enabled: false }, 1_200);
    call('DELETE', '/proxies/payments/toxics/a', undefined, 1_300);
    call('POST', '/proxies/payments', { enabled: true }, 1_400);
    const windows = faultWindows(journal.changes(), [toxiproxyScope(API)], 0);
    expect(windows.map((w) => [w.target, w.startMs, w.endMs])).toEqual([
      ['payments', 1_000, 1_100],
      ['payments', 1_101, 1_400],
    ]);
  });

  it('closes every proxy on /reset, ignores reads and a toxic update, and leaves a never-closed window open', () => {
    const journal = new FaultJournal();
    journal.noteToxiproxyCall(API, 'POST', '/proxies/redis', { enabled: false }, 10);
    journal.noteToxiproxyCall(API, 'POST', '/proxies/postgres/toxics', { name: 'slow' }, 20);
    journal.noteToxiproxyCall(API, 'POST', '/proxies/postgres/toxics/slow', { toxicity: 0.5 }, 25);
    journal.noteToxiproxyCall(API, 'POST', '/reset', undefined, 30);
    journal.noteToxiproxyCall(API, 'POST', '/proxies/postgres', { enabled: false }, 40);
    const windows = faultWindows(journal.changes(), [toxiproxyScope(API)], 0);
    expect(windows.map((w) => [w.target, w.startMs, w.endMs])).toEqual([
      ['redis', 10, 30],
      ['postgres', 20, 30],
      ['postgres', 40, null],
    ]);
    expect(inFaultWindow(windows, 1_000_000)?.target).toBe('postgres');
  });
});

describe('FaultJournal from Docker events', () => {
  it('opens at kill, stop or pause and closes at start or unpause; a crash (die alone) is no fault', () => {
    const journal = new FaultJournal();
    // docker restart: kill, die, start, restart
    for (const [action, at] of [
      ['start', 0],
      ['kill', 100],
      ['die', 110],
      ['start', 400],
      ['restart', 401],
      ['pause', 1_000],
      ['unpause', 1_500],
      ['die', 2_000],
    ] as const)
      journal.noteContainerEvent('run-1', 'orders', action, at);
    journal.noteContainerEvent('run-2', 'orders', 'kill', 5_000);
    const windows = faultWindows(journal.changes(), [dockerScope('run-1')], 50);
    expect(windows.map((w) => [w.target, w.startMs, w.endMs, w.detail])).toEqual([
      ['orders', 100, 450, 'docker kill, docker start'],
      ['orders', 1_000, 1_550, 'docker pause, docker unpause'],
    ]);
  });
});
