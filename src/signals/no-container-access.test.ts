import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import reference from '../../readiness.config.ts';
import { recordingContext } from '../../test/support/stage.ts';
import { resolveConfig } from '../config/index.ts';
import type { CheckResult } from '../core/check-result.ts';
import { stackHandleSchema } from '../stack/stack-handle.ts';
import { runSignalChecks, signalServices } from './signals-stage.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('error signals on a stack without Docker access (containers: "none")', () => {
  it('are not applicable for every judged service: its logs are not followed', async () => {
    const config = resolveConfig(reference, join(ROOT, 'readiness.config.ts'));
    const recordedHandle = stackHandleSchema.parse(
      JSON.parse(await readFile(join(ROOT, 'test/fixtures/chaos/stack-handle.json'), 'utf8')),
    );
    const handle = { ...recordedHandle, containers: 'none' as const };
    const recorded: CheckResult[] = [];
    await runSignalChecks({
      ...recordingContext(config, 'boot', await mkdtemp(join(tmpdir(), 'signals-na-')), recorded, { handle }),
      targetFile: 'ops/handle.json',
    });
    const services = signalServices(config);
    expect(services.length).toBeGreaterThan(0);
    expect(recorded.map((c) => [c.id, c.status, c.message])).toEqual(
      services.map((service) => [
        `boot.signals.${service}`,
        'not-applicable',
        `Not applicable: ops/handle.json gives the harness no Docker access to its containers (containers: "none"): the logs of ${service} are not followed`,
      ]),
    );
  });
});
