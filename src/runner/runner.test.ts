import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/index.ts';
import type { CheckResult } from '../core/check-result.ts';
import { checkResultSchema } from '../core/check-result.ts';
import { systemClock } from '../core/clock.ts';
import { createRedactor } from '../core/redact.ts';
import { Teardowns } from '../core/teardown.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { TargetNotAllowedError, assertAllowedTarget } from './blast-radius.ts';
import type { HostLoadSampler } from './host-load.ts';
import { runCheck } from './suite.ts';
import type { CheckOutcome, SuiteContext } from './suite.ts';

const handle: StackHandle = {
  schemaVersion: 1,
  runId: 'r1',
  stack: 's',
  seed: 7,
  createdAt: new Date(0).toISOString(),
  ownerPid: 1,
  network: 'readiness-r1',
  logsDir: '/tmp',
  services: {
    orders: {
      containerId: 'c1',
      containerName: 'readiness-r1-orders',
      image: 'x',
      endpoint: { host: '127.0.0.1', ports: { '8080': 32768 }, alias: 'orders' },
      startupMs: 1,
    },
  },
  toxiproxy: null,
};

describe('assertAllowedTarget', () => {
  it('allows loopback and the run’s own containers', () => {
    for (const target of [
      'http://127.0.0.1:32768/x',
      'http://localhost:1',
      'http://[::1]:80/',
      'http://orders:8080',
      'orders-upstream:5432',
      'http://readiness-r1-orders:8080',
    ]) {
      expect(assertAllowedTarget(target, handle, []).toString()).toBeTruthy();
    }
  });

  it('refuses anything else before a request is sent, unless allowTargets lists it', () => {
    for (const target of [
      'http://10.0.0.5/',
      'https://example.com/api',
      'http://192.168.1.1:8080',
      'http://payments:8081',
      'not a url',
    ]) {
      expect(() => assertAllowedTarget(target, handle, [])).toThrow(TargetNotAllowedError);
    }
    expect(() => assertAllowedTarget('https://example.com/api', handle, [])).toThrow(
      /Refusing to send traffic to https:\/\/example\.com\/api/,
    );
    expect(assertAllowedTarget('https://staging.example.com/api', handle, ['staging.example.com']).hostname).toBe(
      'staging.example.com',
    );
    expect(() => assertAllowedTarget('http://staging.example.com:9999', handle, ['staging.example.com:8443'])).toThrow(
      TargetNotAllowedError,
    );
  });
});

async function contextWith(
  retries: number,
  hostLoad?: HostLoadSampler,
): Promise<{ context: SuiteContext; recorded: CheckResult[] }> {
  const root = await mkdtemp(join(tmpdir(), 'runner-'));
  const config = resolveConfig(
    { name: 'u', services: { a: { image: 'a:1' } }, retries },
    join(root, 'readiness.config.ts'),
  );
  const recorded: CheckResult[] = [];
  const context: SuiteContext = {
    config,
    handle,
    stage: 'boot',
    runDir: root,
    seed: 7,
    clock: systemClock,
    signal: new AbortController().signal,
    reporter: {},
    teardowns: new Teardowns(),
    redact: createRedactor(),
    record: (check) => {
      const parsed = checkResultSchema.parse({ ...check, stage: 'boot' });
      recorded.push(parsed);
      return Promise.resolve(parsed);
    },
    assertTarget: (t) => assertAllowedTarget(t, handle, []),
    ...(hostLoad ? { hostLoad } : {}),
  };
  return { context, recorded };
}

const spec = { id: 'boot.x', name: 'x', feature: 'f', severity: 'normal' as const, remediation: 'fix x' };
const sequence = (...outcomes: (CheckOutcome | Error)[]) => {
  let i = 0;
  return () => {
    const next = outcomes[Math.min(i++, outcomes.length - 1)]!;
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
};

describe('runCheck', () => {
  it('records an exception as broken, never passed', async () => {
    const { context, recorded } = await contextWith(0);
    await runCheck(context, spec, sequence(new Error('socket hang up')));
    expect(recorded[0]).toMatchObject({
      status: 'broken',
      message: 'Harness error: socket hang up',
      remediation: 'fix x',
    });
  });

  it('a pass on a retry is passed but visibly flaky', async () => {
    const { context, recorded } = await contextWith(2);
    await runCheck(
      context,
      spec,
      sequence({ status: 'failed', message: 'p95 250ms' }, { status: 'passed', message: 'p95 150ms' }),
    );
    expect(recorded[0]).toMatchObject({
      status: 'passed',
      flaky: true,
      tags: ['flaky'],
      parameters: { attempts: '2/3' },
    });
    expect(recorded[0]?.message).toBe('FLAKY: passed on attempt 2 of 3 (attempt 1: p95 250ms); p95 150ms');
  });

  it('retries never turn a persistent failure into a pass, and broken is not retried', async () => {
    const { context, recorded } = await contextWith(2);
    let calls = 0;
    await runCheck(context, spec, () => {
      calls += 1;
      return Promise.resolve({ status: 'failed', message: 'still down' });
    });
    expect(calls).toBe(3);
    expect(recorded[0]).toMatchObject({ status: 'failed', flaky: false, parameters: { attempts: '3/3' } });
    await runCheck(context, { ...spec, id: 'boot.y' }, sequence(new Error('no docker'), { status: 'passed' }));
    expect(recorded[1]).toMatchObject({ status: 'broken', flaky: false });
  });
});

/** A host whose 1-minute load average per core stays at `loadPerCore`, with CPU ticks going `busyShare` busy. */
const hostAt = (loadPerCore: number, busyShare = 0.5): HostLoadSampler => {
  let n = 0;
  return {
    sample: () => {
      n += 1;
      const total = n * 1000;
      return { loadPerCore, cores: 2, cpu: { total, busy: total * busyShare, steal: 0 } };
    },
  };
};

describe('runCheck on a saturated host', () => {
  const timing = { ...spec, id: 'chaos.x.during.fast', judgesTiming: true };
  const slow = { status: 'failed', message: '4/8 answered 200 within 2500ms' } as const;

  it('a failed timing check under saturation is broken, with the reason and the host load', async () => {
    const { context, recorded } = await contextWith(0, hostAt(3.6, 0.99));
    await runCheck(context, timing, sequence(slow));
    expect(recorded[0]).toMatchObject({ status: 'broken' });
    expect(recorded[0]?.message).toBe(
      'host saturated during the judgement: CPU 99% busy (threshold 95%): a latency judged on a saturated host says as much about the host; rerun on a quieter host (the failure seen: 4/8 answered 200 within 2500ms)',
    );
    expect(recorded[0]?.metrics).toContainEqual({ name: 'host_load_per_core', value: 3.6, unit: 'ratio' });
    expect(recorded[0]?.metrics).toContainEqual({ name: 'host_cpu_busy_ratio', value: 0.99, unit: 'ratio' });
    expect(recorded[0]?.evidence.map((e) => e.name)).toContain('host load during the check');
  });

  it('a high load average while the CPU was half idle is not saturation: the busy share over the window decides', async () => {
    const { context, recorded } = await contextWith(0, hostAt(3.6, 0.5));
    await runCheck(context, timing, sequence(slow));
    expect(recorded[0]).toMatchObject({ status: 'failed', message: slow.message });
  });

  it('a CPU busy share at the threshold saturates the host as well', async () => {
    const { context, recorded } = await contextWith(0, hostAt(0.4, 0.97));
    await runCheck(context, timing, sequence(slow));
    expect(recorded[0]).toMatchObject({ status: 'broken' });
    expect(recorded[0]?.message).toMatch(/^host saturated during the judgement: CPU 97% busy \(threshold 95%\)/);
  });

  it('judges the final outcome after retries: failed on every attempt under saturation is broken', async () => {
    const { context, recorded } = await contextWith(1, hostAt(3, 0.98));
    let calls = 0;
    await runCheck(context, timing, () => {
      calls += 1;
      return Promise.resolve(slow);
    });
    expect(calls).toBe(2);
    expect(recorded[0]).toMatchObject({ status: 'broken', parameters: { attempts: '2/2' } });
  });

  it('a failed check that does not judge timing stays failed under saturation', async () => {
    const { context, recorded } = await contextWith(0, hostAt(8, 1));
    await runCheck(context, spec, sequence({ status: 'failed', message: '403 where 200 was due' }));
    expect(recorded[0]).toMatchObject({ status: 'failed', message: '403 where 200 was due' });
  });

  it('a failed timing check on a quiet host stays failed, with the host load recorded', async () => {
    const { context, recorded } = await contextWith(0, hostAt(0.3));
    await runCheck(context, timing, sequence(slow));
    expect(recorded[0]).toMatchObject({ status: 'failed', message: slow.message, remediation: 'fix x' });
    expect(recorded[0]?.metrics).toContainEqual({ name: 'host_load_per_core', value: 0.3, unit: 'ratio' });
  });

  it('a passed timing check stays passed under saturation and records the host load', async () => {
    const { context, recorded } = await contextWith(0, hostAt(5));
    await runCheck(context, timing, sequence({ status: 'passed', message: '8/8 within 2500ms' }));
    expect(recorded[0]).toMatchObject({ status: 'passed', message: '8/8 within 2500ms' });
    expect(recorded[0]?.metrics).toContainEqual({ name: 'host_load_per_core', value: 5, unit: 'ratio' });
  });

  it('a broken timing check keeps its own reason', async () => {
    const { context, recorded } = await contextWith(0, hostAt(5));
    await runCheck(context, timing, sequence(new Error('toxiproxy unreachable')));
    expect(recorded[0]).toMatchObject({ status: 'broken', message: 'Harness error: toxiproxy unreachable' });
  });
});

describe('runCheck on a saturated host, a failure the body says is not about time', () => {
  it('stays failed', async () => {
    const { context, recorded } = await contextWith(0, hostAt(6));
    await runCheck(
      context,
      { ...spec, judgesTiming: true },
      sequence({ status: 'failed', message: '503 in 20ms: status 503, expected 200', judgesTiming: false }),
    );
    expect(recorded[0]).toMatchObject({ status: 'failed', message: '503 in 20ms: status 503, expected 200' });
    expect(recorded[0]?.metrics).toContainEqual({ name: 'host_load_per_core', value: 6, unit: 'ratio' });
  });
});
