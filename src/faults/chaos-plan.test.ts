import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { stackHandleSchema } from '../stack/stack-handle.ts';
import { planChaosStage } from './chaos-plan.ts';

const ROOT = join(import.meta.dirname, '../..');
// A handle recorded from `readiness up` of the reference stack.
const handle = stackHandleSchema.parse(
  JSON.parse(readFileSync(join(ROOT, 'test/fixtures/chaos/stack-handle.json'), 'utf8')),
);

describe('the chaos plan (the reference experiments)', () => {
  it('declares every check of every experiment before the first one runs, under its severity', async () => {
    const config = await loadConfig('readiness.config.ts', ROOT);
    const plan = await planChaosStage({ config, handle, stage: 'chaos', runDir: '/tmp', seed: 1 });
    const ids = plan.map((c) => c.id);
    expect(ids.filter((id) => id.startsWith('chaos.redis-down.'))).toEqual([
      'chaos.redis-down.steady-state',
      'chaos.redis-down.fault-effect',
      'chaos.redis-down.during.orders-list-keeps-answering-200',
      'chaos.redis-down.during.orders-can-still-be-created',
      'chaos.redis-down.during.the-limiter-decides-in-process',
      'chaos.redis-down.during.readiness-stays-200',
      'chaos.redis-down.recovery',
      'chaos.redis-down.load.baseline',
      'chaos.redis-down.load.fault',
      'chaos.redis-down.load.recovery',
    ]);
    expect(ids.filter((id) => id.startsWith('chaos.orders-kill.'))).toContain('chaos.orders-kill.ledger');
    expect(plan.find((c) => c.id === 'chaos.postgres-latency.recovery')).toMatchObject({
      name: 'Postgres answers 500 ms late: the degraded SLO holds: recovered within 5000ms',
      feature: 'chaos: postgres-latency',
      severity: 'critical',
    });
  });
});
