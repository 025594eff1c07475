import { describe, expect, it } from 'vitest';
import { orderExperiments } from './chaos-stage.ts';

describe('chaos experiments', () => {
  it('orders experiments from the seed: the same seed, the same order', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    expect(orderExperiments(ids, 7, true)).toEqual(orderExperiments(ids, 7, true));
    expect(orderExperiments(ids, 7, true)).not.toEqual(orderExperiments(ids, 8, true));
    expect([...orderExperiments(ids, 7, true)].sort()).toEqual(ids);
    expect(orderExperiments(ids, 7, false)).toEqual(ids);
  });
});
