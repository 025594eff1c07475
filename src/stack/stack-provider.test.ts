import { describe, expect, it } from 'vitest';
import { StackStartError } from '../core/errors.ts';
import { judgeHealth, planProxies, startFailure, startOrder, teardownErrors } from './stack-provider.ts';

describe('judgeHealth', () => {
  it('passes a healthy answer from a container that still runs', () => {
    expect(judgeHealth(true, undefined, false)).toEqual({ kind: 'healthy' });
  });

  it('judges a stopped container by its exit, even when its check answered healthy', () => {
    expect(judgeHealth(true, 0, false)).toEqual({ kind: 'exited', exitCode: 0 });
    expect(judgeHealth(false, 137, true)).toEqual({ kind: 'exited', exitCode: 137 });
  });

  it('calls an unhealthy answer after an abort an interruption, and otherwise unhealthy', () => {
    expect(judgeHealth(false, undefined, true)).toEqual({ kind: 'interrupted' });
    expect(judgeHealth(false, undefined, false)).toEqual({ kind: 'unhealthy' });
  });
});

describe('planProxies', () => {
  it('names a proxy after its link or service, listening on the port and forwarding to <service>-upstream', () => {
    expect(
      planProxies([
        { service: 'db', port: 5432 },
        { service: 'cache', port: 6379, name: 'cache-link' },
      ] as Parameters<typeof planProxies>[0]),
    ).toEqual([
      { name: 'db', service: 'db', port: 5432, listen: '0.0.0.0:5432', upstream: 'db-upstream:5432' },
      { name: 'cache-link', service: 'cache', port: 6379, listen: '0.0.0.0:6379', upstream: 'cache-upstream:6379' },
    ]);
  });

  it('plans nothing without links', () => {
    expect(planProxies([])).toEqual([]);
  });
});

describe('startFailure', () => {
  it("throws the caller's abort reason when the caller aborted", () => {
    const outer = new AbortController();
    const reason = new Error('SIGINT');
    outer.abort(reason);
    expect(startFailure('shop', new Error('network gone'), outer.signal)).toBe(reason);
  });

  it('keeps the error when the abort reason is not an Error', () => {
    const outer = new AbortController();
    outer.abort('stop');
    const error = new Error('network gone');
    expect(startFailure('shop', error, outer.signal)).toBe(error);
  });

  it('passes a start error as is and wraps anything else, naming the stack', () => {
    const startError = new StackStartError('Toxiproxy did not answer');
    expect(startFailure('shop', startError, undefined)).toBe(startError);
    const wrapped = startFailure('shop', new Error('docker socket refused'), undefined);
    expect(wrapped).toBeInstanceOf(StackStartError);
    expect((wrapped as Error).message).toBe('Stack "shop" failed to start: docker socket refused');
    expect((wrapped as Error).cause).toBeInstanceOf(Error);
  });
});

describe('teardownErrors', () => {
  it('drops failures for containers already gone and keeps the others', () => {
    const other = new Error('permission denied');
    expect(
      teardownErrors([
        { status: 'fulfilled', value: undefined },
        { status: 'rejected', reason: new Error('(HTTP code 404) no such container') },
        { status: 'rejected', reason: new Error('(HTTP code 304) container already stopped - not modified') },
        { status: 'rejected', reason: other },
      ]),
    ).toEqual([other]);
  });
});

describe('startOrder', () => {
  it('puts each service after its dependencies', () => {
    const order = startOrder({
      api: { dependsOn: ['db', 'cache'] },
      db: { dependsOn: [] },
      cache: { dependsOn: ['db'] },
    } as unknown as Parameters<typeof startOrder>[0]);
    expect(order).toEqual(['db', 'cache', 'api']);
  });
});
