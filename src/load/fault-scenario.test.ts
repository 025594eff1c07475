import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
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

describe('the load stage on a stack something else started', () => {
  it('without Toxiproxy, a scenario with a fault phase has every check not applicable, naming the handle file and the link; k6 does not run', async () => {
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

  it('on a stack without Docker access (containers: "none"), the memory checks of a scenario are not applicable', async () => {
    const resolved = resolveConfig(reference, join(ROOT, 'readiness.config.ts'));
    const load = resolved.load;
    if (!load) throw new Error('the reference config has a load section');
    const withMemory = load.scenarios.filter((s) => Object.keys(s.maxRetainedMemoryMb).length > 0 && !s.fault);
    expect(withMemory.length).toBeGreaterThan(0);
    const dir = await mkdtemp(join(tmpdir(), 'load-no-docker-'));
    // A stand-in k6: writes a recorded summary and its samples where it is told, and exits 0.
    const k6 = join(dir, 'k6');
    await writeFile(
      k6,
      [
        '#!/bin/sh',
        'while [ $# -gt 0 ]; do',
        '  case "$1" in',
        `    --summary-export) cp ${join(ROOT, 'test/fixtures/load/baseline.summary.json')} "$2"; shift;;`,
        `    --out) cp ${join(ROOT, 'test/fixtures/load/tagged.samples.ndjson')} "\${2#json=}"; shift;;`,
        '  esac',
        '  shift',
        'done',
        '',
      ].join('\n'),
    );
    await chmod(k6, 0o755);
    const config = {
      ...resolved,
      // No principals: nothing logs in to a stack that is not there.
      load: { ...load, knee: undefined, principals: [], scenarios: withMemory, k6: { ...load.k6, binary: k6 } },
    };
    const recordedHandle = stackHandleSchema.parse(
      JSON.parse(await readFile(join(ROOT, 'test/fixtures/chaos/stack-handle.json'), 'utf8')),
    );
    const handle = { ...recordedHandle, containers: 'none' as const };
    const runDir = join(dir, 'run');
    await mkdir(runDir);
    const recorded: CheckResult[] = [];
    await runLoadStage({
      ...recordingContext(config, 'load', runDir, recorded, { handle }),
      targetFile: 'ops/handle.json',
    });
    const memory = recorded.filter((c) => c.id.includes('.memory-'));
    expect(memory.map((c) => c.id)).toEqual(
      withMemory.flatMap((s) => Object.keys(s.maxRetainedMemoryMb).map((svc) => `load.${s.id}.memory-retained.${svc}`)),
    );
    for (const check of memory)
      expect(check).toMatchObject({
        status: 'not-applicable',
        message:
          'Not applicable: ops/handle.json gives the harness no Docker access to its containers (containers: "none"): no Docker stats of the service\'s memory',
      });
    // The thresholds were judged on the k6 run: no Docker was needed for them.
    expect(
      recorded.some((c) => c.id.startsWith(`load.${withMemory[0]?.id ?? ''}.`) && !c.id.includes('.memory-')),
    ).toBe(true);
  });
});
