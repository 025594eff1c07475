import { describe, expect, it } from 'vitest';
import { parseExperiment } from './experiment.ts';
import { planExperiment } from './run-experiment.ts';

const up = { kind: 'http', name: 'up', request: { path: '/health/live' }, expect: {} } as const;
const probe = (name: string, extra: Record<string, unknown> = {}) => ({ ...up, name, ...extra });

const experiment = parseExperiment(
  {
    id: 'payments-slow',
    title: 'Payments answers late',
    severity: 'critical',
    fault: { kind: 'latency', link: 'payments', latencyMs: 3000 },
    steadyState: [up],
    during: [
      probe('status only'),
      probe('within a deadline', { withinMs: 5000 }),
      { ...up, name: 'fast answers', expect: { status: 202, maxLatencyMs: 200 } },
      {
        kind: 'fn',
        name: 'timed by a function',
        judgesTiming: true,
        run: () => Promise.resolve({ ok: true, detail: '' }),
      },
      { ...up, name: 'said not timing', withinMs: 5000, judgesTiming: false },
    ],
    recovery: { withinMs: 5000, probes: [up] },
    ledger: { writes: 4, phase: 'during-fault' },
    load: {
      ratePerSec: 5,
      slo: { baseline: { p95Ms: 300 }, fault: { maxErrorRate: 0.1 }, recovery: { p99Ms: 800, maxErrorRate: 0.01 } },
    },
    remediation: 'Time out calls to payments',
  },
  'scenarios/chaos/payments-slow.ts',
);

describe('the chaos checks that judge timing', () => {
  it('are the time-bound expectations, the recovery deadline and the latency SLOs of load phases', () => {
    expect(experiment.problems).toBeUndefined();
    const plan = planExperiment(experiment.experiment!);
    const timing = Object.fromEntries(
      plan.map((c) => [c.id.replace('chaos.payments-slow.', ''), c.judgesTiming ?? false]),
    );
    expect(timing).toEqual({
      'steady-state': false,
      'fault-effect': false,
      'during.status-only': false,
      'during.within-a-deadline': true,
      'during.fast-answers': true,
      'during.timed-by-a-function': true,
      'during.said-not-timing': false,
      recovery: true,
      ledger: false,
      'load.baseline': true,
      'load.fault': false,
      'load.recovery': true,
    });
  });
});
