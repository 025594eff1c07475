import { describe, expect, it } from 'vitest';
import { loadConfigSchema } from '../src/config/stages/load.ts';
import { recoveryConfigSchema } from '../src/config/stages/recovery.ts';
import { securityConfigSchema } from '../src/config/stages/security.ts';
import { experimentSchema } from '../src/faults/experiment.ts';
import type { ExpectationInput } from '../src/faults/experiment.ts';
import { configuredWindows, windowMsOf } from './configured-windows.ts';

const ready = { kind: 'http', name: 'ready', request: { path: '/health/ready' }, expect: { status: 200 } } as const;

const load = loadConfigSchema.parse({
  script: '/scripts/mix.js',
  target: { service: 'api', port: 8080 },
  scenarios: [
    {
      id: 'phased',
      ratePerSec: 10,
      phases: [
        { name: 'warmup', durationSec: 4 },
        { name: 'steady', durationSec: 15 },
      ],
    },
    {
      id: 'ramp',
      startRatePerSec: 5,
      stages: [
        { target: 50, durationSec: 3 },
        { target: 5, durationSec: 7 },
      ],
    },
    { id: 'soak', ratePerSec: 20, durationSec: 30, maxRetainedMemoryMb: { api: 64 }, settleSec: 10 },
    // Without a memory limit the quiet after the load is not waited.
    { id: 'plain', ratePerSec: 20, durationSec: 6, settleSec: 99 },
  ],
  knee: { fromRatePerSec: 10, toRatePerSec: 100, durationSec: 24 },
});

const experiment = (id: string, during: ExpectationInput[], extra: Record<string, unknown> = {}) =>
  experimentSchema.parse({
    id,
    title: id,
    severity: 'critical',
    fault: { kind: 'down', link: 'db' },
    steadyState: [ready],
    during,
    recovery: { withinMs: 7_000, probes: [ready] },
    remediation: 'fix it',
    ...extra,
  });

describe('configuredWindows', () => {
  it('sums load phases, ramp stages, durations, the settle quiet of memory-judged scenarios and the knee', () => {
    const windows = configuredWindows({ stages: ['load'], load }, []);
    expect(windows.map((w) => [w.label, w.ms])).toEqual([
      ['load.scenarios.phased: warmup 4 s + steady 15 s', 19_000],
      ['load.scenarios.ramp: ramp 3 s + ramp 7 s', 10_000],
      ['load.scenarios.soak: 30 s', 30_000],
      ['load.scenarios.soak.settleSec', 10_000],
      ['load.scenarios.plain: 6 s', 6_000],
      ['load.knee.durationSec', 24_000],
    ]);
    expect(windowMsOf(windows, 'load')).toBe(99_000);
  });

  it('counts sample spacing and load phases of experiments as windows, withinMs as bounds only', () => {
    const sampled = experiment('sampled', [
      { ...ready, name: 'three http samples' },
      { ...ready, name: 'five spaced', samples: 5, intervalMs: 1_000 },
      { ...ready, name: 'eventually', withinMs: 9_000 },
    ]);
    const withLoad = experiment('loaded', [{ ...ready, name: 'one', samples: 1 }], {
      load: { ratePerSec: 5, slo: {}, minPhaseSec: 4 },
    });
    const windows = configuredWindows({ stages: ['chaos'] }, [sampled, withLoad]);
    expect(windows.filter((w) => w.kind === 'window').map((w) => [w.label, w.ms])).toEqual([
      // 3 samples x 200 ms default spacing -> 400 ms; 5 x 1000 ms -> 4000 ms.
      ['experiment sampled: fault window (sample spacing of during)', 4_400],
      ['experiment loaded: load baseline phase (minPhaseSec)', 4_000],
      ['experiment loaded: fault window (load minPhaseSec, sample spacing of during)', 4_000],
      ['experiment loaded: load recovery phase (minPhaseSec)', 4_000],
    ]);
    expect(windows.filter((w) => w.kind === 'bound').map((w) => [w.label, w.ms])).toEqual([
      ['experiment sampled: during "eventually" withinMs', 9_000],
      ['experiment sampled: recovery.withinMs', 7_000],
      ['experiment loaded: recovery.withinMs', 7_000],
    ]);
    expect(windowMsOf(windows, 'chaos')).toBe(16_400);
  });

  it('takes drill traffic of the drills that run, and the rate limit window of security', () => {
    const recovery = recoveryConfigSchema.parse({
      crash: { service: 'api', port: 8080, warmupMs: 3_000, afterMs: 2_000, restartDelayMs: 1_000 },
      rolling: { replicas: ['a', 'b', 'c'], via: { service: 'lb', port: 80 }, betweenMs: 3_000 },
    });
    const security = securityConfigSchema.parse({
      target: { service: 'api', port: 8080 },
      rulesFile: 'rules.tsv',
      auth: { probe: { path: '/v1/me' } },
      rateLimit: { request: { path: '/v1/things' }, limit: 100, windowMs: 10_000 },
      zap: { enabled: false },
    });
    const windows = configuredWindows({ stages: ['security', 'recovery'], recovery, security }, []);
    // Rolling: warmup 2000 (default) + 3 x 3000 + after 2000 (default).
    expect(windowMsOf(windows, 'recovery')).toBe(6_000 + 13_000);
    expect(windowMsOf(windows, 'security')).toBe(10_000);
    const onlyCrash = configuredWindows({ stages: ['recovery'], recovery: { ...recovery, drills: ['crash'] } }, []);
    expect(windowMsOf(onlyCrash, 'recovery')).toBe(6_000);
  });

  it('gives nothing for a stage that is not enabled, or not configured', () => {
    expect(configuredWindows({ stages: ['boot', 'contract'], load }, [])).toEqual([]);
    expect(configuredWindows({ stages: ['load', 'recovery'] }, [])).toEqual([]);
  });
});
