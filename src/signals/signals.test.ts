import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SIGNAL_STAGES, defaultSignals } from '../config/signals.ts';
import type { CheckResult } from '../core/check-result.ts';
import { BUILT_IN_SUITES_DIR, findSuites } from '../runner/run-stage.ts';
import { FaultJournal, faultWindows, toxiproxyScope } from '../stack/fault-journal.ts';
import { FOLLOW_FAILED_MARK } from '../stack/service-logs.ts';
import { classifyLine, levelClass, signalRules } from './classify.ts';
import { judgeServiceLog } from './judge.ts';
import type { JudgeInput } from './judge.ts';
import { signalServices, stageStartMs, stackFaultWindows } from './signals-stage.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/signals');
const recorded = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
/** What the service wrote, without Docker's timestamp. */
const payloads = (text: string): string[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.slice(l.indexOf(' ') + 1));

const rules = signalRules(defaultSignals());
const t = (iso: string): number => Date.parse(iso);

describe('classifyLine on recorded logs', () => {
  it('judges pino JSON by its level and 5xx status, never by the words of its message', () => {
    const classes = payloads(recorded('orders-load.log')).map((p) => classifyLine(p, rules));
    expect(classes.filter((c) => c === 'error')).toHaveLength(5);
    expect(classes.filter((c) => c === 'serverError')).toHaveLength(7);
    expect(classes.filter((c) => c === 'fatal')).toHaveLength(0);
    // An info line whose message says "error" is not an error signal.
    expect(classifyLine('{"level":30,"msg":"no error here","errors":0}', rules)).toBeNull();
    expect(
      classifyLine('{"level":40,"errMessage":"postgres is unavailable","msg":"audit write failed"}', rules),
    ).toBeNull();
  });

  it('matches plain-text lines of HAProxy and Postgres with the default patterns', () => {
    const lb = payloads(recorded('lb.log')).map((p) => classifyLine(p, rules));
    expect(lb.filter((c) => c !== null)).toEqual(['fatal', 'fatal']); // the two [ALERT] lines; WARNING is not counted
    const pg = payloads(recorded('postgres.log')).map((p) => classifyLine(p, rules));
    expect(pg).toEqual([null, null, null, 'fatal', 'fatal', 'error', null]);
  });

  it('reads level words, numbers and other level fields; logfmt levels in plain text', () => {
    expect([levelClass(60), levelClass(50), levelClass(40), levelClass('ERROR'), levelClass('Critical')]).toEqual([
      'fatal',
      'error',
      null,
      'error',
      'fatal',
    ]);
    expect(classifyLine('{"severity":"ERROR","message":"x"}', rules)).toBe('error');
    expect(classifyLine('{"log.level":"fatal","message":"x"}', rules)).toBe('fatal');
    expect(classifyLine('{"log":{"level":"error"},"message":"x"}', rules)).toBe('error');
    expect(classifyLine('{"level":"info","http":{"response":{"status_code":502}}}', rules)).toBe('serverError');
    expect(classifyLine('time=2026-12-06T08:00:00Z level=error msg="cache write failed"', rules)).toBe('error');
    expect(classifyLine('time=2026-12-06T08:00:00Z level=info msg="errors: none"', rules)).toBeNull();
  });
});

describe('judgeServiceLog on a recorded load stage', () => {
  const text = recorded('orders-load.log');
  const journal = new FaultJournal();
  const api = 'http://127.0.0.1:32771';
  // From Toxiproxy's log of the same run: the fault phase's toxic.
  journal.noteToxiproxyCall(
    api,
    'POST',
    '/proxies/postgres/toxics',
    { name: 'fault-phase' },
    t('2026-12-06T08:42:35.070Z'),
  );
  journal.noteToxiproxyCall(
    api,
    'DELETE',
    '/proxies/postgres/toxics/fault-phase',
    undefined,
    t('2026-12-06T08:42:50.070Z'),
  );
  const base: JudgeInput = {
    service: 'orders',
    stage: 'load',
    fromMs: t('2026-12-06T08:41:33.944Z'),
    toMs: t('2026-12-06T08:42:57.734Z'),
    faults: faultWindows(journal.changes(), [toxiproxyScope(api)], 10_000),
    rules,
    budgets: { fatal: 0, error: 0, serverError: 0 },
    evidenceLines: 3,
  };

  it('passes when every error line falls in the fault window or its settle time', () => {
    const verdict = judgeServiceLog(text, base);
    expect(verdict.status).toBe('passed');
    expect(verdict.counts).toEqual({ fatal: 0, error: 0, serverError: 0 });
    // The 7 lines before the toxic; those of 08:42:56 are within its 10 s settle time.
    expect(verdict.judgedLines).toBe(7);
    expect(verdict.excludedLines).toBe(79);
    const settled = judgeServiceLog(text, {
      ...base,
      faults: faultWindows(journal.changes(), [toxiproxyScope(api)], 5_000),
    });
    expect([settled.status, settled.judgedLines]).toEqual(['passed', 7 + 6]);
  });

  it('fails with the first offending lines when nothing was injected, and says which budget', () => {
    const verdict = judgeServiceLog(text, { ...base, faults: [] });
    expect(verdict.status).toBe('failed');
    expect(verdict.counts).toEqual({ fatal: 0, error: 5, serverError: 7 });
    expect(verdict.offending).toHaveLength(3);
    expect(verdict.offending[0]).toContain('"level":50');
    expect(verdict.message).toContain('5 error (budget 0)');
    expect(verdict.message).toContain('postgres is unavailable');
  });

  it('holds a count within its budget, and fails only the class over it', () => {
    const verdict = judgeServiceLog(text, { ...base, faults: [], budgets: { fatal: 0, error: 5, serverError: 6 } });
    expect(verdict.status).toBe('failed');
    expect(verdict.offending.every((l) => l.includes('"statusCode":5'))).toBe(true);
    expect(judgeServiceLog(text, { ...base, faults: [], budgets: { fatal: 0, error: 5, serverError: 7 } }).status).toBe(
      'passed',
    );
  });

  it('judges only the stage span, and is unknown when the follower lost the log', () => {
    const outside = judgeServiceLog(text, { ...base, faults: [], toMs: t('2026-12-06T08:42:36.000Z') });
    expect(outside.status).toBe('passed');
    const lost = judgeServiceLog(`${text}${FOLLOW_FAILED_MARK}readiness-orders failed: Error: socket hang up\n`, base);
    expect(lost.status).toBe('unknown');
  });
});

describe('judgeServiceLog on the planted silent-redis-errors defect', () => {
  it('fails the contract stage on the WRONGTYPE lines while every answer was a success', () => {
    const text = recorded('orders-silent-redis-errors.log');
    const verdict = judgeServiceLog(text, {
      service: 'orders',
      stage: 'contract',
      fromMs: t('2026-12-06T09:20:09.940Z'),
      toMs: t('2026-12-06T09:20:12.337Z'),
      faults: [],
      rules,
      budgets: defaultSignals().budgets,
      evidenceLines: 20,
    });
    expect(verdict.status).toBe('failed');
    expect(verdict.counts.serverError).toBe(0);
    expect(verdict.counts.error).toBeGreaterThan(defaultSignals().budgets.error);
    expect(verdict.message).toMatch(/First: .*WRONGTYPE Operation against a key holding the wrong kind of value/);
  });
});

describe('the signals stage', () => {
  it('judges the services the config builds unless signals.services names them', () => {
    const services = {
      postgres: { image: 'postgres:16' },
      orders: { build: { context: '.' } },
      payments: { build: { context: '.' } },
    };
    expect(signalServices({ services, signals: defaultSignals() } as never)).toEqual(['orders', 'payments']);
    expect(signalServices({ services, signals: { ...defaultSignals(), services: ['postgres'] } } as never)).toEqual([
      'postgres',
    ]);
  });

  it("spans a stage from its first check, leaving its own signals checks out, and uses only this run's faults", () => {
    const check = (stage: CheckResult['stage'], feature: string, startedAt: number): CheckResult =>
      ({ stage, feature, startedAt }) as CheckResult;
    const checks = [check('boot', 'health', 500), check('load', 'signals', 100), check('load', 'k6', 300)];
    expect(stageStartMs(checks, 'load')).toBe(300);
    expect(stageStartMs(checks, 'security')).toBeNull();
    const journal = new FaultJournal();
    journal.noteContainerEvent('this-run', 'orders', 'kill', 10);
    journal.noteContainerEvent('other-run', 'orders', 'kill', 20);
    journal.noteToxiproxyCall('http://other:1', 'POST', '/proxies/db', { enabled: false }, 30);
    const windows = stackFaultWindows(journal.changes(), { runId: 'this-run', toxiproxy: null }, 0, 0);
    expect(windows.map((w) => w.startMs)).toEqual([10]);
  });

  it('has a built-in suite in every stage that sorts after the stage suite, so it judges the stage that ran', async () => {
    for (const stage of SIGNAL_STAGES) {
      const files = (await findSuites(BUILT_IN_SUITES_DIR, stage)).map((f) => basename(f));
      expect(files.length, stage).toBeGreaterThan(1);
      expect(files.at(-1), stage).toBe('signals.suite.ts');
    }
    // security sends hostile input on purpose: its own checks judge what the services do with it.
    expect((await findSuites(BUILT_IN_SUITES_DIR, 'security')).map((f) => basename(f))).not.toContain(
      'signals.suite.ts',
    );
  });

  it('leaves out the aftermath of a fault taken off before the stage began: the next stage starts quiet', () => {
    // Boot's readiness-truth probe of a recorded run disabled and enabled the Postgres link at the end
    // of boot; the contract stage began 1.3 s later and must be judged whole, not as settle time.
    const journal = new FaultJournal();
    const api = 'http://127.0.0.1:32801';
    journal.noteToxiproxyCall(api, 'POST', '/proxies/postgres', { enabled: false }, t('2026-12-06T09:20:08.600Z'));
    journal.noteToxiproxyCall(api, 'POST', '/proxies/postgres', { enabled: true }, t('2026-12-06T09:20:08.640Z'));
    journal.noteToxiproxyCall(api, 'POST', '/proxies/redis', { enabled: false }, t('2026-12-06T09:20:08.700Z'));
    const handle = { runId: 'r', toxiproxy: { apiUrl: api } } as never;
    const atBoot = stackFaultWindows(journal.changes(), handle, 10_000, t('2026-12-06T09:20:08.000Z'));
    expect(atBoot.map((w) => w.target)).toEqual(['postgres', 'redis']);
    const atContract = stackFaultWindows(journal.changes(), handle, 10_000, t('2026-12-06T09:20:09.940Z'));
    expect(atContract.map((w) => w.target)).toEqual(['redis']); // still faulted: still left out
  });
});
