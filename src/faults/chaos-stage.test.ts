import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingContext } from '../../test/support/stage.ts';
import { loadConfig } from '../config/index.ts';
import type { CheckResult } from '../core/check-result.ts';
import { stackHandleSchema } from '../stack/stack-handle.ts';
import { orderExperiments, runChaosStage } from './chaos-stage.ts';
import { planExperiment } from './run-experiment.ts';
import { loadExperiments } from './experiment-files.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('chaos experiments', () => {
  it('orders experiments from the seed: the same seed, the same order', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    expect(orderExperiments(ids, 7, true)).toEqual(orderExperiments(ids, 7, true));
    expect(orderExperiments(ids, 7, true)).not.toEqual(orderExperiments(ids, 8, true));
    expect([...orderExperiments(ids, 7, true)].sort()).toEqual(ids);
    expect(orderExperiments(ids, 7, false)).toEqual(ids);
  });

  it('records every check of a link-fault experiment not applicable on a stack without Toxiproxy, injecting nothing', async () => {
    const config = await loadConfig('readiness.config.ts', ROOT);
    // The handle `readiness up` of the reference stack wrote, as a stack routing its links through no Toxiproxy.
    const recordedHandle = stackHandleSchema.parse(
      JSON.parse(await readFile(join(ROOT, 'test/fixtures/chaos/stack-handle.json'), 'utf8')),
    );
    const handle = { ...recordedHandle, toxiproxy: null };
    const recorded: CheckResult[] = [];
    const context = {
      ...recordingContext(config, 'chaos', await mkdtemp(join(tmpdir(), 'chaos-na-')), recorded, { handle }),
      targetFile: 'ops/staging-handle.json',
    };
    await runChaosStage(context, { only: ['reset-during-writes'] });
    const { experiments } = await loadExperiments(join(ROOT, 'scenarios/chaos'));
    const experiment = experiments.find((e) => e.experiment.id === 'reset-during-writes')?.experiment;
    if (!experiment) throw new Error('the reference experiments have reset-during-writes');
    expect(recorded.map((c) => c.id)).toEqual(planExperiment(experiment).map((c) => c.id));
    expect(recorded.every((c) => c.status === 'not-applicable')).toBe(true);
    expect(recorded[0]?.message).toBe(
      'Not applicable: ops/staging-handle.json routes its links through no Toxiproxy (toxiproxy: null), so link faults cannot be injected on this stack (the fault is on link "postgres")',
    );
  });
});
