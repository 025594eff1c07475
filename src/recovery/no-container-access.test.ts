import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import reference from '../../readiness.config.ts';
import { recordingContext } from '../../test/support/stage.ts';
import { resolveConfig } from '../config/index.ts';
import type { CheckResult } from '../core/check-result.ts';
import { stackHandleSchema } from '../stack/stack-handle.ts';
import { planRecoveryStage, runRecoveryStage } from './recovery-stage.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('the recovery drills on a stack without Docker access (containers: "none")', () => {
  it('records every planned drill check not applicable with the reason; nothing reaches the stack', async () => {
    const config = resolveConfig(reference, join(ROOT, 'readiness.config.ts'));
    const recordedHandle = stackHandleSchema.parse(
      JSON.parse(await readFile(join(ROOT, 'test/fixtures/chaos/stack-handle.json'), 'utf8')),
    );
    const handle = { ...recordedHandle, containers: 'none' as const };
    const runDir = await mkdtemp(join(tmpdir(), 'recovery-na-'));
    const recorded: CheckResult[] = [];
    await runRecoveryStage({
      ...recordingContext(config, 'recovery', runDir, recorded, { handle }),
      targetFile: 'ops/handle.json',
    });
    const planned = planRecoveryStage({ config, handle, stage: 'recovery', runDir, seed: 1 }).map((c) => c.id);
    expect(planned.length).toBeGreaterThan(3);
    expect(recorded.map((c) => c.id)).toEqual(planned);
    expect(recorded.every((c) => c.status === 'not-applicable')).toBe(true);
    expect(recorded[0]?.message).toMatch(
      /^Not applicable: ops\/handle\.json gives the harness no Docker access to its containers \(containers: "none"\): the [a-z-]+ drill acts on the containers$/,
    );
  });
});
