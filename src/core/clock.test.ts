import { describe, expect, it } from 'vitest';
import { pollUntil } from './clock.ts';
import type { Clock } from './clock.ts';
import { Teardowns } from './teardown.ts';

/** A clock that advances only when slept on, so polling is tested without real waits. */
function fakeClock(): Clock {
  let t = 0;
  return {
    now: () => t,
    monotonicMs: () => t,
    sleep: (ms) => {
      t += ms;
      return Promise.resolve();
    },
  };
}

describe('pollUntil', () => {
  it('returns the accepted value and the elapsed time', async () => {
    let n = 0;
    const outcome = await pollUntil(
      () => Promise.resolve(++n),
      (v) => v === 3,
      { timeoutMs: 1000, intervalMs: 100, clock: fakeClock() },
    );
    expect(outcome).toMatchObject({ ok: true, value: 3, elapsedMs: 200, attempts: 3 });
  });

  it('gives up at the deadline with the last value and error', async () => {
    let n = 0;
    const outcome = await pollUntil(
      () => (++n % 2 === 0 ? Promise.reject(new Error('boom')) : Promise.resolve(n)),
      () => false,
      { timeoutMs: 500, intervalMs: 100, clock: fakeClock() },
    );
    expect(outcome.ok).toBe(false);
    expect(outcome.elapsedMs).toBe(500);
    if (!outcome.ok) expect(outcome.last).toBe(5);
  });
});

describe('Teardowns', () => {
  it('runs in reverse order, once, collecting errors', async () => {
    const order: string[] = [];
    const t = new Teardowns();
    t.add('a', () => {
      order.push('a');
    });
    t.add('b', () => {
      throw new Error('b broke');
    });
    t.add('c', () =>
      Promise.resolve()
        .then(() => order.push('c'))
        .then(() => undefined),
    );
    const [first, second] = await Promise.all([t.run(), t.run()]);
    expect(order).toEqual(['c', 'a']);
    expect(first.map((e) => e.message)).toEqual(['teardown "b" failed: b broke']);
    expect(second).toBe(first);
    expect(await t.run()).toEqual([]);
  });
});
