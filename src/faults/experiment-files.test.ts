import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/index.ts';
import { stackHandleSchema } from '../stack/stack-handle.ts';
import { loadConfig } from '../config/index.ts';
import type { ChaosConfig } from '../config/stages/chaos.ts';
import { derivedSchema } from '../config/stages/chaos.ts';
import { faultLink } from './catalog.ts';
import { planChaosStage } from './chaos-plan.ts';
import { experimentProblems, loadExperiments, scopeOfHandle, stageExperiments } from './experiment-files.ts';

const ROOT = join(import.meta.dirname, '../..');
// A handle recorded from `readiness up` of the reference stack.
const handle = stackHandleSchema.parse(
  JSON.parse(readFileSync(join(ROOT, 'test/fixtures/chaos/stack-handle.json'), 'utf8')),
);

const BAD = 'test/fixtures/chaos/experiments-bad';

describe('chaos experiments', () => {
  it('loads every reference experiment without a problem, and skips _helpers', async () => {
    const { experiments, problems } = await loadExperiments(join(ROOT, 'scenarios/chaos'), {
      scope: scopeOfHandle(handle),
    });
    expect(problems).toEqual([]);
    expect(experiments.map((e) => e.experiment.id).sort()).toEqual([
      'orders-kill',
      'payments-flaky',
      'payments-unresponsive',
      'postgres-down',
      'postgres-latency',
      'postgres-restart',
      'postgres-unresponsive',
      'redis-down',
      'reset-during-writes',
    ]);
  });

  it('validates every file by the schema: one line per problem naming the file and the dotted key', async () => {
    const { experiments, problems } = await loadExperiments(join(ROOT, BAD), {
      scope: scopeOfHandle(handle),
      shownFrom: ROOT,
    });
    expect(problems).toEqual([
      `${BAD}/empty-steady-state.ts: steadyState must list at least one probe (what holds before anything is injected) (received [])`,
      `${BAD}/no-default.ts: has no default export; write export default defineExperiment({ ... })`,
      `${BAD}/same-check-id.ts: during[1].samples must be >= 1 (received 0)`,
      `${BAD}/same-check-id.ts: during[1].name gives the same check id (during.orders-up) as during[0]; name each expectation differently`,
      `${BAD}/unknown-fault-kind.ts: fault.kind must be one of "latency", "down", "timeout", "reset_peer", "bandwidth", "slicer", "limit_data", "slow_close", "container", "signal" (received "lag")`,
      `${BAD}/unknown-fault-kind.ts: steadyState[0].run must be a function (api) => Promise<{ ok, detail }>`,
      `${BAD}/unknown-key.ts: recovery.timeoutMs is not a known key; remove it or check the spelling`,
      `${BAD}/unknown-link.ts: id "unknown-link" is already used by ${BAD}/duplicate-id.ts`,
      `${BAD}/unknown-link.ts: fault.link names unknown link "mysql" (links: postgres, redis, payments)`,
      `${BAD}/unknown-link.ts: steadyState[0].request.service names unknown service "cache" (services: ${Object.keys(handle.services).join(', ')})`,
      `${BAD}/wrong-type.ts: fault.latencyMs must be a number (received "500")`,
    ]);
    // Only the files that validated are experiments.
    expect(experiments.map((e) => e.experiment.id)).toEqual(['unknown-link', 'unknown-link']);
  });

  it('names a folder that does not exist', async () => {
    const { experiments, problems } = await loadExperiments(join(ROOT, 'scenarios/nope'), { shownFrom: ROOT });
    expect(experiments).toEqual([]);
    expect(problems).toEqual(['scenarios/nope: does not exist']);
  });

  it('a probe that sends credentials (auth: true) needs chaos.as, named before anything starts', async () => {
    const config = resolveConfig(
      {
        name: 'u',
        services: { orders: { image: 'o:1', ports: [8080] } },
        chaos: { target: { service: 'orders', port: 8080 }, experimentsDir: join(ROOT, 'scenarios/chaos') },
      },
      join(ROOT, 'readiness.config.ts'),
    );
    const { problems } = await experimentProblems(config, ROOT);
    expect(problems.filter((p) => p.includes('chaos.as'))).toContain(
      "scenarios/chaos/postgres-down.ts: during[0].request.auth needs chaos.as in readiness.config.ts (who the experiment acts as: a principal of auth.principals, or 'disposable'; see docs/auth.md)",
    );
  });

  it('refuses a probe header template it cannot render when the file loads', async () => {
    const { parseExperiment } = await import('./experiment.ts');
    const probe = { kind: 'http', name: 'up', request: { path: '/', headers: { 'X-Trace': '{{trace}}' } }, expect: {} };
    const parsed = parseExperiment(
      {
        id: 'x',
        title: 'x',
        severity: 'normal',
        fault: { kind: 'down', link: 'db' },
        steadyState: [probe],
        during: [],
        recovery: { withinMs: 1_000, probes: [] },
        remediation: 'r',
      },
      'x.ts',
    );
    expect(parsed.problems?.join('\n')).toMatch(
      /x\.ts: steadyState\[0\]\.request\.headers\.X-Trace unknown template placeholder \{\{trace\}\}/,
    );
  });

  it('on a stack routing its links through no Toxiproxy, link-fault experiments and derived link cells are not applicable, naming the handle file', async () => {
    const reference = await loadConfig('readiness.config.ts', ROOT);
    const config = { ...reference, chaos: { ...(reference.chaos as ChaosConfig), derived: derivedSchema.parse({}) } };
    const target = { ...handle, toxiproxy: null };
    const scope = scopeOfHandle(target, { links: config.links, targetFile: 'ops/staging-handle.json' });
    const stage = await stageExperiments(config, { scope });
    // The config's links stay nameable: no experiment is refused for naming one.
    expect(stage.problems).toEqual([]);
    const reason = (id: string) => stage.experiments.find((e) => e.experiment.id === id)?.notApplicable;
    expect(reason('reset-during-writes')).toBe(
      'ops/staging-handle.json routes its links through no Toxiproxy (toxiproxy: null), so link faults cannot be injected on this stack (the fault is on link "postgres")',
    );
    expect(reason('derived-payments-slow')).toMatch(/^ops\/staging-handle\.json routes its links through no Toxiproxy/);
    // Container faults still run.
    expect(reason('orders-kill')).toBeUndefined();
    expect(stage.experiments.filter((e) => e.experiment.fault.kind === 'container').length).toBeGreaterThan(1);
    expect(
      stage.experiments
        .filter((e) => e.notApplicable === undefined)
        .every((e) => e.experiment.fault.kind === 'container'),
    ).toBe(true);
    // Their checks are still planned (then recorded not applicable), never left out.
    const plan = await planChaosStage({ config, handle: target, stage: 'chaos', runDir: '/tmp', seed: 1 });
    expect(plan.map((c) => c.id)).toContain('chaos.reset-during-writes.recovery');
  });

  it('a stack with a Toxiproxy scopes its proxies: nothing is marked not applicable', async () => {
    const reference = await loadConfig('readiness.config.ts', ROOT);
    const stage = await stageExperiments(reference, { scope: scopeOfHandle(handle, { links: reference.links }) });
    expect(stage.problems).toEqual([]);
    expect(stage.experiments.filter((e) => e.notApplicable !== undefined)).toEqual([]);
  });

  it('on a stack without Docker access (containers: "none"), container and signal faults are not applicable; link faults still run', async () => {
    const reference = await loadConfig('readiness.config.ts', ROOT);
    const target = { ...handle, containers: 'none' as const };
    const scope = scopeOfHandle(target, { links: reference.links, targetFile: 'ops/handle.json' });
    const stage = await stageExperiments(reference, { scope });
    expect(stage.problems).toEqual([]);
    const reason = (id: string) => stage.experiments.find((e) => e.experiment.id === id)?.notApplicable;
    expect(reason('orders-kill')).toBe(
      'ops/handle.json gives the harness no Docker access to its containers (containers: "none") (the fault is on the container of "orders")',
    );
    expect(reason('reset-during-writes')).toBeUndefined();
    for (const { experiment, notApplicable } of stage.experiments)
      expect(notApplicable !== undefined, experiment.id).toBe(faultLink(experiment.fault) === undefined);
  });
});
