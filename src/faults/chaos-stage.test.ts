import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stackHandleSchema } from '../stack/stack-handle.ts';
import { loadExperiments, orderExperiments } from './chaos-stage.ts';

const ROOT = join(import.meta.dirname, '../..');
// A handle recorded from `readiness up` of the reference stack.
const handle = stackHandleSchema.parse(
  JSON.parse(readFileSync(join(ROOT, 'test/fixtures/chaos/stack-handle.json'), 'utf8')),
);

describe('chaos experiments', () => {
  it('loads every reference experiment without a problem, and skips _helpers', async () => {
    const { experiments, problems } = await loadExperiments(join(ROOT, 'scenarios/chaos'), handle);
    expect(problems).toEqual([]);
    expect(experiments.map((e) => e.experiment.id).sort()).toEqual([
      'orders-kill',
      'payments-flaky',
      'payments-unresponsive',
      'postgres-down',
      'postgres-latency',
      'postgres-restart',
      'postgres-unresponsive',
      'redis-down',
      'reset-during-writes',
    ]);
  });

  it('reports experiments that name links or services the stack does not have', async () => {
    const { problems } = await loadExperiments(join(ROOT, 'test/fixtures/chaos/experiments-bad'), handle);
    expect(problems).toEqual([
      'unknown-link.ts (unknown-link): fault toxicity must be in (0, 1] (received 2)',
      'unknown-link.ts (unknown-link): fault names unknown link "mysql" (links: postgres, redis, payments)',
    ]);
  });

  it('orders experiments from the seed: the same seed, the same order', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    expect(orderExperiments(ids, 7, true)).toEqual(orderExperiments(ids, 7, true));
    expect(orderExperiments(ids, 7, true)).not.toEqual(orderExperiments(ids, 8, true));
    expect([...orderExperiments(ids, 7, true)].sort()).toEqual(ids);
    expect(orderExperiments(ids, 7, false)).toEqual(ids);
  });
});
