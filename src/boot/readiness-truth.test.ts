import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopbackHandle, recordingContext } from '../../test/support/stage.ts';
import { resolveConfig } from '../config/index.ts';
import type { CheckResult } from '../core/check-result.ts';
import { runBootChecks } from './boot-checks.ts';

describe('readiness truth on a stack routing its links through no Toxiproxy', () => {
  it('is not applicable, naming the handle file and the link it would cut; nothing is cut', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'boot-na-'));
    const config = resolveConfig(
      {
        name: 'unit',
        services: { api: { image: 'a:1', ports: [8080] }, db: { image: 'd:1', ports: [8080] } },
        links: [{ service: 'db', port: 8080 }],
        boot: { readinessTruth: [{ service: 'api', port: 8080, path: '/ready', link: 'db' }] },
      },
      join(dir, 'readiness.config.ts'),
    );
    // Ports nothing listens on: the health checks record unknown (no health configured) and the truth check sends nothing.
    const handle = loopbackHandle(dir, { api: 1, db: 2 });
    expect(handle.toxiproxy).toBeNull();
    const recorded: CheckResult[] = [];
    await runBootChecks({
      ...recordingContext(config, 'boot', dir, recorded, { handle }),
      targetFile: 'ops/handle.json',
    });
    expect(recorded.find((c) => c.id === 'boot.readiness-truth.api.db')).toMatchObject({
      status: 'not-applicable',
      message:
        'Not applicable: ops/handle.json routes its links through no Toxiproxy (toxiproxy: null), so link faults cannot be injected on this stack (the check cuts link "db")',
    });
  });
});
