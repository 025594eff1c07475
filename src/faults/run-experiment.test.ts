import { loopbackHandle, recordingContext } from '../../test/support/stage.ts';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/index.ts';
import type { CheckResult } from '../core/check-result.ts';
import { defineExperiment } from './experiment.ts';
import type { Probe } from './experiment.ts';
import { runExperiment } from './run-experiment.ts';

// A real HTTP service on loopback; the stack has no Toxiproxy, so a link fault cannot be injected.
let status = 200;
const server = createServer((_req, res) => {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end('{"status":"ok"}');
});
beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function run(): Promise<CheckResult[]> {
  const root = await mkdtemp(join(tmpdir(), 'run-experiment-'));
  const config = resolveConfig(
    {
      name: 'u',
      services: { api: { image: 'a:1', ports: [8080] } },
      chaos: { target: { service: 'api', port: 8080 }, settleMs: 300, proofWithinMs: 300 },
    },
    join(root, 'readiness.config.ts'),
  );
  const handle = loopbackHandle(root, { api: (server.address() as AddressInfo).port });
  const recorded: CheckResult[] = [];
  const context = recordingContext(config, 'chaos', root, recorded, { handle, seed: 7 });
  const ready: Probe = { kind: 'http', name: 'ready', request: { path: '/health' }, expect: { status: 200 } };
  const experiment = defineExperiment({
    id: 'db-down',
    title: 'The database is down',
    severity: 'critical',
    fault: { kind: 'down', link: 'db' },
    steadyState: [ready],
    during: [{ ...ready, name: 'still answers', samples: 1 }],
    recovery: { withinMs: 500, probes: [ready] },
    remediation: 'Degrade gracefully',
  });
  const chaos = config.chaos;
  if (!chaos) throw new Error('chaos is configured above');
  await runExperiment(context, experiment, { chaos, handleFiles: [], runTag: 't', replay: 'r' });
  await context.teardowns.run();
  return recorded;
}

const statuses = (results: readonly CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r.status]));

describe('runExperiment (a loopback service, no Toxiproxy)', () => {
  it('a fault that is never injected: fault-effect broken, expectations and recovery unknown, never passed', async () => {
    status = 200;
    const results = await run();
    expect(statuses(results)).toEqual({
      'chaos.db-down.steady-state': 'passed',
      'chaos.db-down.fault-effect': 'broken',
      'chaos.db-down.during.still-answers': 'unknown',
      'chaos.db-down.recovery': 'unknown',
    });
    expect(results.find((r) => r.id === 'chaos.db-down.recovery')?.message).toBe(
      'Not measured: the fault was never injected',
    );
  });

  it('a steady state that does not hold records every other planned check unknown, with the reason', async () => {
    status = 503;
    const results = await run();
    expect(statuses(results)).toEqual({
      'chaos.db-down.steady-state': 'failed',
      'chaos.db-down.fault-effect': 'unknown',
      'chaos.db-down.during.still-answers': 'unknown',
      'chaos.db-down.recovery': 'unknown',
    });
    expect(results[1]?.message).toBe(
      'Not run: the steady state did not hold before the fault (failed), so the fault was not injected',
    );
    expect(results[1]?.severity).toBe('critical');
  });
});
