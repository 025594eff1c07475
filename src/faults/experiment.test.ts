import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { HttpRequest } from '../runner/http.ts';
import type { LedgerWritePlan } from '../runner/write-ledger.ts';
import type { Fault } from './catalog.ts';
import { defineExperiment, faultSchema, parseExperiment } from './experiment.ts';
import type { Experiment, ExperimentInput, Probe } from './experiment.ts';

const FILE = 'scenarios/chaos/postgres-latency.ts';
const up = { kind: 'http', name: 'up', request: { path: '/health/live' }, expect: {} } as const;

/** A valid experiment as a file writes it; each test breaks one thing. */
const valid = (): Record<string, unknown> => ({
  id: 'postgres-latency',
  title: 'Postgres answers late',
  severity: 'critical',
  fault: { kind: 'latency', link: 'postgres', latencyMs: 500, jitterMs: 50, stream: 'downstream' },
  steadyState: [up],
  during: [{ ...up, name: 'still up', samples: 3, remediation: 'Keep serving' }],
  recovery: { withinMs: 5_000, probes: [up] },
  remediation: 'Keep serving on a slow database',
});

const problemsOf = (raw: unknown): readonly string[] => parseExperiment(raw, FILE).problems ?? [];

describe('experiment schema', () => {
  it('accepts a valid experiment and returns it as the runner gets it', () => {
    const parsed = parseExperiment(valid(), FILE);
    expect(parsed.problems).toBeUndefined();
    expect(parsed.experiment?.fault).toEqual({
      kind: 'latency',
      link: 'postgres',
      latencyMs: 500,
      jitterMs: 50,
      stream: 'downstream',
    });
  });

  it('names the file and the dotted key of a wrong type, with the received value', () => {
    const raw = { ...valid(), fault: { kind: 'latency', link: 'postgres', latencyMs: '500' } };
    expect(problemsOf(raw)).toEqual([`${FILE}: fault.latencyMs must be a number (received "500")`]);
  });

  it('rejects unknown keys at every level, one line each', () => {
    const raw = {
      ...valid(),
      retries: 2,
      recovery: { withinMs: 5_000, timeoutMs: 1, probes: [{ ...up, expect: { stauts: 200 } }] },
    };
    expect(problemsOf(raw)).toEqual([
      `${FILE}: recovery.probes[0].expect.stauts is not a known key; remove it or check the spelling`,
      `${FILE}: recovery.timeoutMs is not a known key; remove it or check the spelling`,
      `${FILE}: retries is not a known key; remove it or check the spelling`,
    ]);
  });

  it('rejects a key that belongs to another fault kind (strict variants)', () => {
    const raw = { ...valid(), fault: { kind: 'container', action: 'pause', service: 'payments', toxicity: 0.5 } };
    expect(problemsOf(raw)).toEqual([`${FILE}: fault.toxicity is not a known key; remove it or check the spelling`]);
  });

  it('makes an empty steady state a config error', () => {
    expect(problemsOf({ ...valid(), steadyState: [] })).toEqual([
      `${FILE}: steadyState must list at least one probe (what holds before anything is injected) (received [])`,
    ]);
  });

  it('requires a recovery probe and every required key', () => {
    const { remediation: _, ...raw } = valid();
    expect(problemsOf({ ...raw, recovery: { withinMs: 0, probes: [] } })).toEqual([
      `${FILE}: recovery.withinMs must be > 0 (received 0)`,
      `${FILE}: recovery.probes must list at least one probe (what shows the system recovered) (received [])`,
      `${FILE}: remediation is required (a string)`,
    ]);
  });

  it('lists the fault kinds of the catalog for an unknown kind', () => {
    expect(problemsOf({ ...valid(), fault: { kind: 'lag', link: 'postgres' } })).toEqual([
      `${FILE}: fault.kind must be one of "latency", "down", "timeout", "reset_peer", "bandwidth", "slicer", "limit_data", "slow_close", "container", "signal" (received "lag")`,
    ]);
  });

  it('checks the numbers Toxiproxy takes: toxicity a share, attributes integers', () => {
    const raw = { ...valid(), fault: { kind: 'bandwidth', link: 'payments', rateKBps: 1.5, toxicity: 2 } };
    expect(problemsOf(raw)).toEqual([
      `${FILE}: fault.toxicity must be <= 1 (received 2); use a ratio such as 0.95`,
      `${FILE}: fault.rateKBps must be an integer (received 1.5)`,
    ]);
    expect(problemsOf({ ...valid(), fault: { kind: 'reset_peer', link: 'p', toxicity: 0 } })).toEqual([
      `${FILE}: fault.toxicity must be > 0 (a share of connections, at most 1) (received 0)`,
    ]);
  });

  it('accepts every fault of the catalog', () => {
    const faults = [
      { kind: 'latency', link: 'l', latencyMs: 1 },
      { kind: 'down', link: 'l' },
      { kind: 'timeout', link: 'l', timeoutMs: 0 },
      { kind: 'reset_peer', link: 'l', toxicity: 0.3, stream: 'upstream' },
      { kind: 'bandwidth', link: 'l', rateKBps: 10 },
      { kind: 'slicer', link: 'l', averageSizeBytes: 10, sizeVariationBytes: 2, delayUs: 5 },
      { kind: 'limit_data', link: 'l', bytes: 0 },
      { kind: 'slow_close', link: 'l', delayMs: 100 },
      { kind: 'container', action: 'restart', service: 's' },
      { kind: 'signal', service: 's', process: 'postgres: app', signal: 'KILL' },
    ];
    for (const fault of faults) expect(problemsOf({ ...valid(), fault }), fault.kind).toEqual([]);
  });

  it('requires a function for a function probe', () => {
    const raw = { ...valid(), steadyState: [{ kind: 'fn', name: 'works', run: 'yes' }] };
    expect(problemsOf(raw)).toEqual([
      `${FILE}: steadyState[0].run must be a function (api) => Promise<{ ok, detail }>`,
    ]);
    const fn = { kind: 'fn', name: 'works', run: () => Promise.resolve({ ok: true, detail: 'ok' }) };
    expect(problemsOf({ ...valid(), steadyState: [fn] })).toEqual([]);
  });

  it('refuses two expectations that would record one check id', () => {
    const raw = {
      ...valid(),
      during: [
        { ...up, name: 'Orders up' },
        { ...up, name: 'orders up!' },
      ],
    };
    expect(problemsOf(raw)).toEqual([
      `${FILE}: during[1].name gives the same check id (during.orders-up) as during[0]; name each expectation differently`,
    ]);
  });

  it('validates load and ledger plans', () => {
    const raw = {
      ...valid(),
      load: { ratePerSec: 10, slo: { fault: { p95Ms: 2_000 }, during: {} } },
      ledger: { writes: 20, phase: 'sometimes', lostResponseRatio: 0.5 },
    };
    expect(problemsOf(raw)).toEqual([
      `${FILE}: ledger.phase must be one of "around-injection", "during-fault" (received "sometimes")`,
      `${FILE}: load.slo.during is not a known key; remove it or check the spelling`,
    ]);
  });

  it('says what a non-object default export is', () => {
    expect(problemsOf('postgres-latency')).toEqual([`${FILE}: (root) must be an object (received "postgres-latency")`]);
  });

  it('derives the types from the schema: the fault is the catalog, probes fit the runner', () => {
    expectTypeOf<z.output<typeof faultSchema>>().toExtend<Fault>();
    expectTypeOf<Fault>().toExtend<z.output<typeof faultSchema>>();
    expectTypeOf<Experiment['ledger'] & object>().toExtend<LedgerWritePlan>();
    expectTypeOf<Extract<Probe, { kind: 'http' }>['request']>().toExtend<HttpRequest>();
    expectTypeOf(defineExperiment).parameter(0).toEqualTypeOf<ExperimentInput>();
  });
});
