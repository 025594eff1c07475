import { loopbackHandle, recordingContext } from '../../test/support/stage.ts';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/index.ts';
import type { CheckResult } from '../core/check-result.ts';
import { defineExperiment } from './experiment.ts';
import type { ExperimentInput, ExperimentLoad, LoadDriver, LoadPhase, Probe } from './experiment.ts';
import type { ActiveFault } from './injector.ts';
import { planExperiment } from './run-experiment.ts';
import { recordLoadPhases, startLoad } from './run-experiment-load.ts';
import { checkSteadyState, expectDuringFault, rollBackAndRecover } from './run-experiment-phases.ts';
import { startRun } from './run-experiment-state.ts';
import type { ExperimentRun } from './run-experiment-state.ts';

// Each phase of an experiment on its own, over a real HTTP service on loopback (no Docker, no Toxiproxy).
let status = 200;
const server = createServer((_req, res) => {
  res.statusCode = status;
  res.end('{}');
});
beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  status = 200;
});

const ready: Probe = { kind: 'http', name: 'ready', request: { path: '/health' }, expect: { status: 200 } };

async function phaseRun(
  extra: Partial<ExperimentInput> = {},
  loadDriver?: LoadDriver,
): Promise<{ run: ExperimentRun; recorded: CheckResult[] }> {
  const root = await mkdtemp(join(tmpdir(), 'experiment-phases-'));
  const config = resolveConfig(
    {
      name: 'u',
      services: { api: { image: 'a:1', ports: [8080] } },
      chaos: { target: { service: 'api', port: 8080 }, settleMs: 300, proofWithinMs: 300 },
    },
    join(root, 'readiness.config.ts'),
  );
  const handle = loopbackHandle(root, { api: (server.address() as AddressInfo).port });
  const recorded: CheckResult[] = [];
  // A quiet host: a timing check's failure here is the service's, whatever else the machine runs.
  const context = {
    ...recordingContext(config, 'chaos', root, recorded, { handle, seed: 7 }),
    hostLoad: { sample: () => ({ loadPerCore: 0.1, cores: 2 }) },
  };
  const experiment = defineExperiment({
    id: 'db-down',
    title: 'The database is down',
    severity: 'critical',
    fault: { kind: 'down', link: 'db' },
    steadyState: [ready],
    during: [{ ...ready, name: 'still answers', samples: 2, intervalMs: 1 }],
    recovery: { withinMs: 300, probes: [ready] },
    remediation: 'Degrade gracefully',
    ...extra,
  });
  const chaos = config.chaos;
  if (!chaos) throw new Error('chaos is configured above');
  const options = { chaos, handleFiles: [], runTag: 't', replay: 'readiness drill db-down --seed 7', loadDriver };
  return { run: startRun(context, experiment, options, planExperiment(experiment)), recorded };
}

/** An injected fault as the recovery phase sees it: it counts its rollbacks. */
function injected(): ActiveFault & { rollbacks: number } {
  const fault = {
    fault: { kind: 'down', link: 'db' } as const,
    name: 'f',
    description: 'link db down',
    rollbacks: 0,
    control: () => Promise.resolve({ ok: true, detail: 'proxy db enabled=false' }),
    redraw: () => Promise.resolve(),
    suspend: () => Promise.resolve(),
    rollback: () => {
      fault.rollbacks += 1;
      return Promise.resolve();
    },
    isRolledBack: () => fault.rollbacks > 0,
  };
  return fault;
}

describe('the steady-state phase', () => {
  it('records steady-state passed, with the experiment parameters and its timeline', async () => {
    const { run, recorded } = await phaseRun();
    const result = await checkSteadyState(run);
    expect(result.status).toBe('passed');
    expect(result.message).toMatch(/^ok ready: GET \/health -> 200/);
    expect(result.parameters).toEqual({
      seed: '7',
      fault: 'link db down (proxy disabled)',
      replay: 'readiness drill db-down --seed 7',
    });
    expect(result.evidence.map((e) => e.name)).toContain('experiment timeline');
    expect(recorded.map((r) => r.id)).toEqual(['chaos.db-down.steady-state']);
  });

  it('fails when the service does not meet a probe before the fault', async () => {
    status = 503;
    const { run } = await phaseRun();
    const result = await checkSteadyState(run);
    expect(result.status).toBe('failed');
    expect(result.message).toMatch(/^Steady state not met before the fault: ready: /);
  });
});

describe('the phase during the fault', () => {
  it('records every expectation unknown when the fault did not take effect', async () => {
    const { run, recorded } = await phaseRun();
    await expectDuringFault(run, false);
    expect(recorded.map((r) => [r.id, r.status, r.message])).toEqual([
      ['chaos.db-down.during.still-answers', 'unknown', 'Not measured: the fault did not take effect'],
    ]);
  });

  it('samples each expectation while the fault is in place: every sample must hold', async () => {
    const { run, recorded } = await phaseRun();
    await expectDuringFault(run, true);
    status = 500;
    await expectDuringFault(run, true);
    expect(recorded.map((r) => r.status)).toEqual(['passed', 'failed']);
    expect(recorded[0]?.message?.split('\n')).toHaveLength(2);
    expect(recorded[1]?.message).toMatch(/\(all 2 samples: FAILED .* \| FAILED .*\)$/);
  });
});

describe('the rollback and recovery phase', () => {
  it('rolls the fault back once and records the time to recover', async () => {
    const { run, recorded } = await phaseRun();
    const active = injected();
    run.active = active;
    await rollBackAndRecover(run);
    expect(active.rollbacks).toBe(1);
    expect(recorded[0]?.status).toBe('passed');
    expect(recorded[0]?.metrics.map((m) => m.name)).toContain('time_to_recover_ms');
  });

  it('fails when a recovery probe does not hold within the deadline', async () => {
    status = 503;
    const { run, recorded } = await phaseRun();
    run.active = injected();
    await rollBackAndRecover(run);
    expect(recorded[0]?.status).toBe('failed');
    expect(recorded[0]?.message).toMatch(/^Not recovered within 300ms after the fault was removed: ready: /);
  });

  it('is unknown when no fault was ever in place', async () => {
    const { run, recorded } = await phaseRun();
    await rollBackAndRecover(run);
    expect(recorded[0]?.message).toBe('Not measured: the fault was never injected');
  });
});

describe('the load phases', () => {
  const withLoad = { load: { ratePerSec: 5, minPhaseSec: 1, slo: { fault: { p95Ms: 500 } } } };
  const phases = (breaches: string[]) =>
    (['baseline', 'fault', 'recovery'] as const).map((phase) => ({
      phase,
      requests: 5,
      ratePerSec: 5,
      p95Ms: 12,
      p99Ms: 14,
      errorRate: 0,
      breaches,
    }));

  /** A load driver that keeps the phases marked and the figures k6 would give. */
  function driver(breaches: string[]): { drive: LoadDriver; marks: LoadPhase[]; stops: number[] } {
    const seen = { marks: [] as LoadPhase[], stops: [] as number[] };
    const load: ExperimentLoad = {
      mark: (phase) => seen.marks.push(phase),
      stop: () => {
        seen.stops.push(seen.marks.length);
        return Promise.resolve({ kind: 'measured', phases: phases(breaches), csv: 'phase\n' });
      },
    };
    return { drive: () => Promise.resolve(load), ...seen };
  }

  it('starts load in the baseline phase and records one check per phase SLO', async () => {
    const { drive, marks, stops } = driver(['p95 612ms >= 500ms']);
    const { run, recorded } = await phaseRun(withLoad, drive);
    await startLoad(run);
    expect(marks).toEqual(['baseline']);
    await recordLoadPhases(run);
    expect(stops).toHaveLength(1);
    expect(recorded.map((r) => [r.id, r.status])).toEqual([['chaos.db-down.load.fault', 'failed']]);
    expect(recorded[0]?.message).toMatch(/^Crossed in the fault phase: p95 612ms >= 500ms/);
  });

  it('records the load checks broken with the reason when k6 did not start', async () => {
    const { run, recorded } = await phaseRun(withLoad, () => Promise.reject(new Error('k6 is not installed')));
    await startLoad(run);
    await recordLoadPhases(run);
    expect(recorded.map((r) => [r.status, r.message])).toEqual([
      ['broken', 'k6 load did not start: k6 is not installed'],
    ]);
  });
});
