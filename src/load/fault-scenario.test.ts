import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import reference from '../../readiness.config.ts';
import { recordingContext } from '../../test/support/stage.ts';
import { resolveConfig } from '../config/index.ts';
import type { CheckResult } from '../core/check-result.ts';
import { stackHandleSchema } from '../stack/stack-handle.ts';
import { planLoadStage, runLoadStage } from './load-stage.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('a load scenario with a fault phase on a stack routing its links through no Toxiproxy', () => {
  it('records every check of the scenario not applicable, naming the handle file and the link; k6 does not run', async () => {
    const resolved = resolveConfig(reference, join(ROOT, 'readiness.config.ts'));
    const load = resolved.load;
    if (!load) throw new Error('the reference config has a load section');
    const faulted = load.scenarios.filter((s) => s.fault !== undefined);
    expect(faulted.length).toBeGreaterThan(0);
    // A k6 that cannot start: any k6 run would be recorded broken.
    const config = {
      ...resolved,
      load: { ...load, knee: undefined, scenarios: faulted, k6: { ...load.k6, binary: '/nonexistent/k6' } },
    };
    const recordedHandle = stackHandleSchema.parse(
      JSON.parse(await readFile(join(ROOT, 'test/fixtures/chaos/stack-handle.json'), 'utf8')),
    );
    const handle = { ...recordedHandle, toxiproxy: null };
    const runDir = join(await mkdtemp(join(tmpdir(), 'load-na-')), 'run');
    await mkdir(runDir);
    const recorded: CheckResult[] = [];
    await runLoadStage({
      ...recordingContext(config, 'load', runDir, recorded, { handle }),
      targetFile: 'ops/handle.json',
    });
    const scenarioChecks = recorded.filter((c) => c.id !== 'load.capacity.regression');
    const planned = planLoadStage({ config, handle, stage: 'load', runDir, seed: 1 })
      .map((c) => c.id)
      .filter((id) => id !== 'load.capacity.regression');
    expect(scenarioChecks.map((c) => c.id)).toEqual(planned);
    expect(scenarioChecks.every((c) => c.status === 'not-applicable')).toBe(true);
    const [first] = faulted;
    expect(scenarioChecks[0]?.message).toBe(
      `Not applicable: ops/handle.json routes its links through no Toxiproxy (toxiproxy: null), so link faults cannot be injected on this stack (scenario ${first?.id} puts latency on link "${first?.fault?.link}" in its fault phases)`,
    );
  });
});
