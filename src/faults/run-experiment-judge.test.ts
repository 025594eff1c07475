import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../core/check-result.ts';
import { SystemFailureError } from '../core/errors.ts';
import type { LedgerVerdict } from '../runner/write-ledger.ts';
import type { LinkObservation } from './link-probe.ts';
import {
  baselinesUnread,
  judgeContainerLink,
  judgeFaultEffect,
  judgeLedger,
  judgeLoadPhase,
  judgeRecovery,
  judgeSamples,
  judgeSteadyState,
  judgeWithin,
  ledgerStartProblem,
  linkWatch,
  loadPhaseMetrics,
  recoveryUnmeasurable,
  steadyStateRefused,
} from './run-experiment-judge.ts';
import type { LoadOutcome, PolledProbe, ProbeStep } from './run-experiment-judge.ts';
import { experimentParameters } from './run-experiment-state.ts';

// Recorded real check results of a full run of the reference stack: each judge, given what that run
// measured, says what the run recorded.
const recorded = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../test/fixtures/certify/figures/full-run.checks.json'), 'utf8'),
) as CheckResult[];
const recordedCheck = (id: string): CheckResult => {
  const check = recorded.find((c) => c.id === id);
  if (!check) throw new Error(`${id} is not in the recorded run`);
  return check;
};
const links = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../test/fixtures/chaos/link-observations.json'), 'utf8'),
) as Record<string, LinkObservation[]>;

const polled = (ok: boolean, detail: string, elapsedMs = 10): PolledProbe => ({ ok, detail, elapsedMs, metrics: [] });
const step = (name: string, ok: boolean, detail: string): ProbeStep => ({ name, result: polled(ok, detail) });

describe('the steady state before the fault', () => {
  it('passes when every probe held, one line each', () => {
    expect(judgeSteadyState([step('ready', true, 'GET /health/ready -> 200 in 6ms')])).toEqual({
      status: 'passed',
      message: 'ok ready: GET /health/ready -> 200 in 6ms',
    });
  });

  it('fails on the first probe that did not hold, naming it in the remediation', () => {
    const outcome = judgeSteadyState([
      step('ready', true, 'GET /health/ready -> 200 in 6ms'),
      step('list', false, 'GET /v1/orders -> 503 in 4ms'),
    ]);
    expect(outcome).toEqual({
      status: 'failed',
      message: 'Steady state not met before the fault: list: GET /v1/orders -> 503 in 4ms',
      remediation: 'Make the service meet "list" without any fault; the experiment was not run',
    });
  });

  it('fails with the system evidence when the service refuses the identity to act as', () => {
    const outcome = steadyStateRefused(new SystemFailureError('sign-up refused', 'POST /users -> 409'));
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toBe('Steady state not met before the fault: sign-up refused');
    expect(outcome.evidence).toEqual([
      { name: 'system evidence', contentType: 'text/plain', content: 'POST /users -> 409' },
    ]);
  });
});

describe('the proof that the fault took effect', () => {
  it('says what the recorded run said for a proxy disabled, seen on the link and by a probe', () => {
    const check = recordedCheck('chaos.postgres-down.fault-effect');
    const outcome = judgeFaultEffect({
      fault: { kind: 'down', link: 'postgres' },
      control: { ok: true, line: 'proxy postgres enabled=false' },
      link: {
        verdict: 'observed',
        detail:
          'link postgres: every connection failed: closed without an answer after 0B; closed without an answer after 0B',
      },
      effects: [step('readiness turns 503', true, 'GET /health/ready -> 503 in 6ms')],
      injectMs: 5.2,
      detectMs: 13.8,
    });
    expect(outcome).toEqual({ status: check.status, message: check.message, metrics: check.metrics });
  });

  it('adds the link latency shift for a latency toxic, as recorded', () => {
    const check = recordedCheck('chaos.postgres-latency.fault-effect');
    const [control, through, effect] = (check.message ?? '').split('\n');
    const outcome = judgeFaultEffect({
      fault: { kind: 'latency', link: 'postgres', latencyMs: 500, jitterMs: 50 },
      control: { ok: true, line: (control ?? '').replace('control plane: ', '') },
      link: {
        verdict: 'observed',
        detail: (through ?? '').replace('through the link: observed: ', ''),
        shiftMs: 520.3,
      },
      effects: [
        step(
          'readiness (one SELECT 1) slows down by the injected latency',
          true,
          (effect ?? '').replace('seen readiness (one SELECT 1) slows down by the injected latency: ', ''),
        ),
      ],
      injectMs: 4,
      detectMs: 542,
    });
    expect(outcome).toEqual({ status: 'passed', message: check.message, metrics: check.metrics });
  });

  it('takes a restarted container on the control plane alone, as recorded', () => {
    const check = recordedCheck('chaos.postgres-restart.fault-effect');
    const fault = { kind: 'container', service: 'postgres', action: 'restart' } as const;
    const link = judgeContainerLink(fault, 'link postgres', links['baseline'] ?? []);
    const outcome = judgeFaultEffect({
      fault,
      control: { ok: true, line: (check.message ?? '').split('\n')[0]?.replace('control plane: ', '') ?? '' },
      link,
      effects: [],
      injectMs: 626,
      detectMs: 879,
    });
    expect(outcome).toEqual({ status: 'passed', message: check.message, metrics: check.metrics });
  });

  it('is broken, never passed, when the control plane, the link or the system does not show the fault', () => {
    const base = {
      fault: { kind: 'down', link: 'db' },
      control: { ok: true, line: 'proxy db enabled=false' },
      link: { verdict: 'observed', detail: 'link db: every connection failed' },
      effects: [step('readiness turns 503', true, 'GET /health -> 503')],
      injectMs: 5,
      detectMs: 9,
    } as const;
    const why = (seen: Parameters<typeof judgeFaultEffect>[0]) => {
      const outcome = judgeFaultEffect(seen);
      expect(outcome.status).toBe('broken');
      return outcome.message?.split('\n')[0];
    };
    expect(why({ ...base, control: { ok: false, line: 'proxy db enabled=true' } })).toBe(
      'The fault did not take effect: the control plane does not show it',
    );
    expect(why({ ...base, link: { verdict: 'not-observed', detail: 'answered' } })).toBe(
      'The fault did not take effect: the link does not show it (not-observed)',
    );
    // A link fault nothing can watch, with no proof probe: nothing shows it.
    expect(why({ ...base, link: { verdict: 'unobservable', detail: 'no link hello' }, effects: [] })).toBe(
      'The fault did not take effect: the link does not show it (unobservable)',
    );
    const noEffect = judgeFaultEffect({ ...base, effects: [step('readiness turns 503', false, 'GET /health -> 200')] });
    expect(noEffect.message?.split('\n')[0]).toBe('The fault did not take effect: the system shows no effect');
    // No detection time without a detection.
    expect(noEffect.metrics?.map((m) => m.name)).toEqual(['time_to_inject_ms']);
  });

  it('reads the link from outside for a paused or killed container: silence is the fault seen', () => {
    const kill = { kind: 'container', service: 'db', action: 'kill' } as const;
    expect(judgeContainerLink(kill, 'db:5432', links['down'] ?? []).verdict).toBe('observed');
    expect(judgeContainerLink(kill, 'db:5432', links['baseline'] ?? [])).toEqual({
      verdict: 'not-observed',
      detail: 'db:5432: answered 1B in 6ms; answered 1B in 17ms; answered 1B in 3ms',
    });
  });

  it('waits on the link as long as the fault holds a connection', () => {
    expect(linkWatch({ kind: 'down', link: 'db' })).toEqual({ timeoutMs: 1_500 });
    expect(linkWatch({ kind: 'latency', link: 'db', latencyMs: 500, jitterMs: 50 })).toEqual({ timeoutMs: 2_050 });
    expect(linkWatch({ kind: 'reset_peer', link: 'db', timeoutMs: 300 })).toEqual({ timeoutMs: 1_800 });
    expect(linkWatch({ kind: 'slow_close', link: 'db', delayMs: 2_000 })).toEqual({
      timeoutMs: 1_500,
      waitCloseMs: 3_000,
    });
  });

  it('does not inject when the metric baselines could not be read', () => {
    expect(baselinesUnread(['GET /metrics -> 503'])).toMatchObject({
      status: 'broken',
      message: expect.stringMatching(/^The fault was not injected: .*: GET \/metrics -> 503$/) as unknown,
    });
  });

  it('says on every check the seed, the fault, the replay and what the seed does not fix, as recorded', () => {
    const check = recordedCheck('chaos.postgres-latency.fault-effect');
    const seed = Number(check.parameters['seed']);
    const latency = { kind: 'latency', link: 'postgres', latencyMs: 500, jitterMs: 50, stream: 'downstream' } as const;
    expect(experimentParameters(seed, latency, check.parameters['replay'] ?? '')).toEqual(check.parameters);
    const down = recordedCheck('chaos.postgres-down.fault-effect');
    expect(experimentParameters(seed, { kind: 'down', link: 'postgres' }, down.parameters['replay'] ?? '')).toEqual(
      down.parameters,
    );
  });
});

describe('expectations while the fault is in place', () => {
  it('with a deadline: passed with the time it took, failed naming the deadline', () => {
    expect(judgeWithin(2_000, polled(true, 'GET / -> 200', 812.4))).toEqual({
      status: 'passed',
      message: 'GET / -> 200 (after 812ms)',
      metrics: [],
    });
    expect(judgeWithin(2_000, polled(false, 'GET / -> 503'))).toEqual({
      status: 'failed',
      message: 'Not within 2000ms: GET / -> 503',
      metrics: [],
    });
  });

  it('sampled: passes with every sample, as the recorded run said', () => {
    const check = recordedCheck('chaos.postgres-latency.during.at-least-7-of-8-requests-answer-200-within-2-5-s');
    const detail = (check.message ?? '').replace(/^ok /, '');
    expect(judgeSamples([{ ok: true, detail, metrics: check.metrics }])).toEqual({
      status: 'passed',
      message: check.message,
      metrics: check.metrics,
    });
  });

  it('sampled: fails on the first failed sample, lists all, and excuses no status failure by the host load', () => {
    const outcome = judgeSamples([
      { ok: true, detail: 'GET / -> 200 in 5ms' },
      { ok: false, detail: 'GET / -> 500 in 4ms', timing: false },
      { ok: false, detail: 'GET / -> 502 in 4ms', timing: false },
    ]);
    expect(outcome).toEqual({
      status: 'failed',
      message:
        'GET / -> 500 in 4ms\n(all 3 samples: ok GET / -> 200 in 5ms | FAILED GET / -> 500 in 4ms | FAILED GET / -> 502 in 4ms)',
      metrics: [],
      judgesTiming: false,
    });
    // A failure on time (a deadline crossed) may be excused by a saturated host: no judgesTiming: false.
    const late = judgeSamples([{ ok: false, detail: 'no answer within 2000ms' }]);
    expect(late).toEqual({ status: 'failed', message: 'no answer within 2000ms', metrics: [] });
  });

  it('sampled: no sample is no evidence', () => {
    expect(judgeSamples([]).status).toBe('unknown');
  });
});

describe('recovery after the rollback', () => {
  it('says what the recorded run said, with the time to recover', () => {
    const check = recordedCheck('chaos.postgres-down.recovery');
    const steps = (check.message ?? '')
      .split('\n')
      .slice(1)
      .map((line) => {
        const [name, detail] = line.replace(/^ok /, '').split(': ');
        return step(name ?? '', true, detail ?? '');
      });
    expect(judgeRecovery(steps, 5_000, 34)).toEqual({
      status: 'passed',
      message: check.message,
      metrics: check.metrics,
    });
  });

  it('fails on the first probe that did not hold within the deadline', () => {
    expect(judgeRecovery([step('ready', false, 'GET /health -> 503')], 5_000, 5_012)).toEqual({
      status: 'failed',
      message: 'Not recovered within 5000ms after the fault was removed: ready: GET /health -> 503',
    });
  });

  it('is unknown without a fault in place or without a recovery probe', () => {
    expect(recoveryUnmeasurable(false, 2)?.message).toBe('Not measured: the fault was never injected');
    expect(recoveryUnmeasurable(true, 0)?.status).toBe('unknown');
    expect(recoveryUnmeasurable(true, 1)).toBeUndefined();
  });
});

describe('the write ledger', () => {
  const verdict = (counts: Partial<LedgerVerdict['counts']>, failures: string[] = [], lines: string[] = []) => ({
    counts: { stable: 0, lost: 0, duplicated: 0, unacknowledged: 0, unknown: 0, ...counts },
    failures,
    lines,
    classes: new Map(),
  });

  it('says what the recorded run said: every acknowledged write stable', () => {
    const check = recordedCheck('chaos.orders-kill.ledger');
    const outcome = judgeLedger(verdict({ stable: 11, unacknowledged: 1 }, [], ['#1 stable']), 12, 11);
    expect(outcome).toMatchObject({ status: 'passed', message: check.message, metrics: check.metrics });
    expect(outcome.evidence).toEqual([{ name: 'write ledger', contentType: 'text/plain', content: '#1 stable' }]);
  });

  it('fails on a lost or duplicated write, listing at most ten', () => {
    const failures = Array.from({ length: 12 }, (_, i) => `#${i + 1} lost: acknowledged, not listed`);
    const outcome = judgeLedger(verdict({ stable: 8, lost: 12 }, failures), 20, 20);
    expect(outcome.status).toBe('failed');
    expect(outcome.message?.split('\n')).toHaveLength(11);
  });

  it('is unknown without an acknowledged write, with an unknown write or a failed listing', () => {
    expect(judgeLedger(verdict({ unacknowledged: 4 }), 4, 0).status).toBe('unknown');
    expect(judgeLedger(verdict({ stable: 3, unknown: 1 }), 4, 4).status).toBe('unknown');
    expect(judgeLedger(verdict({ stable: 4 }, [], ['listing failed: 503']), 4, 4).status).toBe('unknown');
  });

  it('a ledger that could not start: failed when the system refused its user, broken otherwise', () => {
    expect(ledgerStartProblem(new SystemFailureError('login refused', 'POST /login -> 401')).status).toBe('failed');
    expect(ledgerStartProblem(new Error('no route'))).toEqual({
      status: 'broken',
      message: 'The ledger could not start: no route',
    });
  });
});

describe('load behind the experiment, per phase', () => {
  // The recorded run's k6 figures of redis-down, as its load checks carry them.
  const phases = ['baseline', 'fault', 'recovery'].map((phase) => {
    const check = recordedCheck(`chaos.redis-down.load.${phase}`);
    const seen = /: (\d+) requests at ([\d.]+)\/s: p95 ([\d.]+)ms, p99 ([\d.]+)ms, errors ([\d.]+)%$/.exec(
      check.message ?? '',
    );
    return {
      phase,
      requests: Number(seen?.[1]),
      ratePerSec: Number(seen?.[2]),
      p95Ms: Number(seen?.[3]),
      p99Ms: Number(seen?.[4]),
      errorRate: Number(seen?.[5]) / 100,
      breaches: [],
    };
  });
  const measured: LoadOutcome = { kind: 'measured', phases, csv: 'phase,requests\n' };

  it('says what the recorded run said for each phase, every phase figure attached', () => {
    for (const { phase } of phases) {
      const check = recordedCheck(`chaos.redis-down.load.${phase}`);
      expect(judgeLoadPhase(measured, phase, '')).toMatchObject({
        status: 'passed',
        message: check.message,
        metrics: check.metrics,
        parameters: { phase },
      });
    }
    expect(loadPhaseMetrics(measured)).toHaveLength(12);
  });

  it('fails a phase that crossed its SLO, naming the breach', () => {
    const crossed = { ...measured, phases: [{ ...phases[1], phase: 'fault', breaches: ['p95 612ms >= 500ms'] }] };
    expect(judgeLoadPhase(crossed as LoadOutcome, 'fault', '').message).toMatch(
      /^Crossed in the fault phase: p95 612ms >= 500ms \(50 requests/,
    );
  });

  it('is unknown without a request in the phase, broken without load or when k6 broke', () => {
    expect(judgeLoadPhase(measured, 'after', '').status).toBe('unknown');
    expect(judgeLoadPhase(undefined, 'fault', 'k6 load did not start: no k6')).toEqual({
      status: 'broken',
      message: 'k6 load did not start: no k6',
    });
    expect(judgeLoadPhase({ kind: 'broken', message: 'exit 107', stderrTail: 'panic' }, 'fault', '')).toMatchObject({
      status: 'broken',
      message: 'k6 load broken: exit 107',
    });
    expect(loadPhaseMetrics(undefined)).toEqual([]);
  });
});
