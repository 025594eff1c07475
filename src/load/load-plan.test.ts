import { describe, expect, it } from 'vitest';
import reference from '../../readiness.config.ts';
import { resolveConfig } from '../config/index.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { planLoadStage } from './load-stage.ts';
import { thresholdChecks } from './scenario-judge.ts';

const handle = { services: {} } as unknown as StackHandle;
const config = resolveConfig(reference, '/repo/readiness.config.ts');
const context = { config, handle, stage: 'load', runDir: '/tmp', seed: 1 } as const;

describe('planLoadStage', () => {
  it('plans exactly the threshold checks the stage records, every configured memory check, and no knee check without a floor', () => {
    const load = config.load;
    if (!load) throw new Error('the reference config has a load section');
    const plan = planLoadStage(context);
    const ids = plan.map((p) => p.id);
    const empty = { thresholds: [], metrics: {}, testRunDurationMs: undefined };
    const recorded = load.scenarios.flatMap((scenario) => thresholdChecks(load, scenario, empty, []).map((c) => c.id));
    expect(recorded.length).toBeGreaterThan(10);
    expect(ids.filter((id) => recorded.includes(id))).toEqual(recorded);
    expect(ids).toContain('load.soak-short.memory-retained.orders');
    expect(ids).not.toContain('load.knee');
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('plans the knee as a critical check when it has a floor', () => {
    const load = config.load;
    if (!load?.knee) throw new Error('the reference config measures a knee');
    const withFloor = { ...config, load: { ...load, knee: { ...load.knee, floorRatePerSec: 50 } } };
    const knee = planLoadStage({ ...context, config: withFloor }).find((p) => p.id === 'load.knee');
    expect(knee?.severity).toBe('critical');
  });
});
