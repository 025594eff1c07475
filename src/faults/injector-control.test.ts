import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../core/check-result.ts';
import type { ContainerState } from '../stack/containers.ts';
import { toToxic } from './catalog.ts';
import { CONTAINER_PROOFS, proxyDisabledProof, signalProof, toxicListedProof } from './injector-control.ts';

// The control-plane lines of a recorded full run of the reference stack: each proof, given what Docker
// or Toxiproxy reported in that run, says what the run recorded.
const recorded = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../test/fixtures/certify/figures/full-run.checks.json'), 'utf8'),
) as CheckResult[];
const controlLine = (experiment: string): string => {
  const message = recorded.find((c) => c.id === `chaos.${experiment}.fault-effect`)?.message ?? '';
  return message.split('\n')[0]?.replace(/^control plane: /, '') ?? '';
};
const state = (s: Partial<ContainerState>): ContainerState => ({
  running: true,
  paused: false,
  startedAt: '2026-12-06T06:46:38.775912583Z',
  status: 'running',
  ports: {},
  ...s,
});

describe('the control plane shows the fault in place', () => {
  it('a disabled proxy, as recorded', () => {
    expect(proxyDisabledProof('postgres', false)).toEqual({ ok: true, detail: controlLine('postgres-down') });
    expect(proxyDisabledProof('postgres', true).ok).toBe(false);
  });

  it('a toxic listed as it was added, as recorded; another toxicity or a missing toxic is not', () => {
    const name = 'readiness-0646366473-postgres-latency';
    const spec = toToxic({ kind: 'latency', link: 'postgres', latencyMs: 500, jitterMs: 50 }, name);
    const listed = {
      name,
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 500, jitter: 50 },
    };
    expect(toxicListedProof('postgres', spec, [listed])).toEqual({ ok: true, detail: controlLine('postgres-latency') });
    expect(toxicListedProof('postgres', spec, [{ ...listed, toxicity: 0.5 }]).ok).toBe(false);
    expect(toxicListedProof('postgres', spec, [{ ...listed, attributes: { latency: 50, jitter: 50 } }]).ok).toBe(false);
    expect(toxicListedProof('postgres', spec, [])).toEqual({
      ok: false,
      detail: `toxic ${name} is not listed on postgres (listed: none)`,
    });
  });

  it('a killed or restarted container, as recorded; a paused one', () => {
    expect(CONTAINER_PROOFS.kill('orders', state({ running: false, status: 'exited' }), state({}))).toEqual({
      ok: true,
      detail: controlLine('orders-kill'),
    });
    const restarted = state({ startedAt: '2026-12-06T06:49:48.532275943Z' });
    expect(CONTAINER_PROOFS.restart('postgres', restarted, state({}))).toEqual({
      ok: true,
      detail: controlLine('postgres-restart'),
    });
    // The same start time: the container was not restarted.
    expect(CONTAINER_PROOFS.restart('postgres', state({}), state({})).ok).toBe(false);
    expect(CONTAINER_PROOFS.pause('db', state({ paused: true, status: 'paused' }), state({}))).toEqual({
      ok: true,
      detail: 'db paused=true (status paused)',
    });
    expect(CONTAINER_PROOFS.pause('db', state({}), state({})).ok).toBe(false);
  });

  it('a signal: every signalled process gone and the service runs that process again', () => {
    const fault = { kind: 'signal', service: 'db', process: 'postgres:', signal: 'KILL' } as const;
    expect(signalProof(fault, [41, 42], [57, 58])).toEqual({ ok: true, detail: '"postgres:": pids 41, 42 -> 57, 58' });
    expect(signalProof(fault, [41, 42], [42, 57])).toEqual({
      ok: false,
      detail: '"postgres:": pids 41, 42 -> 42, 57 (still alive: 42)',
    });
    expect(signalProof(fault, [41], []).detail).toBe('"postgres:": pids 41 -> (none yet)');
    expect(signalProof(fault, [], [57])).toEqual({ ok: false, detail: 'no process of db matched "postgres:"' });
  });
});
