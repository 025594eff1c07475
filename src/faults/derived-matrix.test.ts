import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { configProblems, resolveConfig } from '../config/load-config.ts';
import type { ResolvedConfig } from '../config/load-config.ts';
import { derivedSchema } from '../config/stages/chaos.ts';
import type { ChaosConfig } from '../config/stages/chaos.ts';
import type { Clock } from '../core/clock.ts';
import type { HttpOutcome, HttpRequest } from '../runner/http.ts';
import { planChaosStage } from './chaos-plan.ts';
import { cellOfFault, deriveMatrix } from './derived-matrix.ts';
import type { Topology } from './derived-matrix.ts';
import { truthProbe, workRequests } from './derived-probes.ts';
import type { DerivedRequest } from './derived-probes.ts';
import { parseExperiment } from './experiment.ts';
import type { ChaosApi, ExpectationInput, Experiment, ProbeInput, ProbeOutcome } from './experiment.ts';
import { stageExperiments } from './experiment-files.ts';
import { stackHandleSchema } from '../stack/stack-handle.ts';
import { readFileSync } from 'node:fs';

const ROOT = join(import.meta.dirname, '../..');
const FILE = join(ROOT, 'readiness.config.ts');

const ledger = {
  write: { path: '/items', body: { name: 'w-{{key}}', qty: '{{seq}}' }, idempotencyHeader: 'Idempotency-Key' },
  read: { path: '/items/{id}' },
  list: { path: '/items', query: { limit: '5' } },
  fingerprint: ['name'],
};
/** A shop: an API on a database and a cache, both behind Toxiproxy; only the API has an HTTP health check. */
const shop = {
  name: 'shop',
  stages: ['boot', 'chaos'],
  auth: { principals: { admin: { scheme: 'basic', username: 'admin', password: 'pw' } } },
  services: {
    db: { image: 'postgres:16', ports: [5432] },
    cache: { image: 'redis:7', ports: [6379] },
    api: { image: 'api:1', ports: [8080], health: { kind: 'http', port: 8080, path: '/ready' } },
  },
  links: [
    { service: 'db', port: 5432 },
    { name: 'kv', service: 'cache', port: 6379 },
  ],
};
const shopWith = (chaos: Record<string, unknown>) => ({
  ...shop,
  chaos: { target: { service: 'api', port: 8080 }, as: 'admin', ledger, ...chaos },
});
const topology = (chaos: Record<string, unknown> = {}): Topology => {
  const config = resolveConfig(shopWith(chaos), FILE);
  return { services: config.services, links: config.links, chaos: config.chaos as ChaosConfig };
};
const parsed = (input: unknown): Experiment => {
  const result = parseExperiment(input, 'derived');
  if (result.problems) throw new Error(result.problems.join('\n'));
  return result.experiment;
};

describe('the derived matrix: topology in, experiments out', () => {
  it('puts each link down, slow and resetting and each service killed and paused, each a valid experiment', () => {
    const { experiments, leftOut } = deriveMatrix(topology(), []);
    expect(leftOut).toEqual([]);
    const table = experiments.map(({ key, experiment }) => {
      const e = parsed(experiment);
      return [key, e.id, e.fault, e.during.map((d) => d.name), e.ledger?.phase ?? '-'];
    });
    const answer = 'the services still up answer within 2500ms';
    const truth = 'readiness tells the truth: ready means served within 1000ms';
    expect(table).toEqual([
      ['db:down', 'derived-db-down', { kind: 'down', link: 'db' }, [answer, truth], '-'],
      ['db:slow', 'derived-db-slow', { kind: 'latency', link: 'db', latencyMs: 3000 }, [answer, truth], '-'],
      [
        'db:reset',
        'derived-db-reset',
        { kind: 'reset_peer', link: 'db', toxicity: 0.3, timeoutMs: 0, stream: 'downstream' },
        [answer],
        'during-fault',
      ],
      ['kv:down', 'derived-kv-down', { kind: 'down', link: 'kv' }, [answer, truth], '-'],
      ['kv:slow', 'derived-kv-slow', { kind: 'latency', link: 'kv', latencyMs: 3000 }, [answer, truth], '-'],
      [
        'kv:reset',
        'derived-kv-reset',
        { kind: 'reset_peer', link: 'kv', toxicity: 0.3, timeoutMs: 0, stream: 'downstream' },
        [answer],
        'during-fault',
      ],
      ['db:kill', 'derived-db-kill', { kind: 'container', action: 'kill', service: 'db' }, [answer, truth], '-'],
      ['db:pause', 'derived-db-pause', { kind: 'container', action: 'pause', service: 'db' }, [answer, truth], '-'],
      [
        'cache:kill',
        'derived-cache-kill',
        { kind: 'container', action: 'kill', service: 'cache' },
        [answer, truth],
        '-',
      ],
      [
        'cache:pause',
        'derived-cache-pause',
        { kind: 'container', action: 'pause', service: 'cache' },
        [answer, truth],
        '-',
      ],
      // The target itself down: nothing left to ask (its health and work are its own), but its writes must survive.
      ['api:kill', 'derived-api-kill', { kind: 'container', action: 'kill', service: 'api' }, [], 'around-injection'],
      ['api:pause', 'derived-api-pause', { kind: 'container', action: 'pause', service: 'api' }, [], '-'],
    ]);
  });

  it('probes only what the config declares: HTTP health checks and the ledger (as a read and a write)', () => {
    const { experiments } = deriveMatrix(topology(), []);
    const e = parsed(experiments[0]?.experiment);
    expect(e.steadyState.map((p) => p.name)).toEqual([
      'api health (GET /ready) is served',
      'GET /items is served',
      'POST /items is served',
    ]);
    expect(e.recovery).toMatchObject({ withinMs: 30_000 });
    expect(e.recovery.probes.map((p) => p.name)).toEqual(e.steadyState.map((p) => p.name));
    expect(e.severity).toBe('critical');
    expect(workRequests(resolveConfig(shopWith({}), FILE).chaos?.ledger, true)).toMatchObject([
      { role: 'read', method: 'GET', path: '/items?limit=5', auth: true },
      { role: 'write', method: 'POST', path: '/items', idempotencyHeader: 'Idempotency-Key', good: [200, 201, 202] },
    ]);
    // Lost answers are retried with the same key only when the API takes one.
    const reset = deriveMatrix(topology(), []).experiments.find((x) => x.key === 'db:reset');
    expect(parsed(reset?.experiment).ledger).toMatchObject({
      writes: 20,
      lostResponseRatio: 0.5,
      redrawEachWrite: true,
    });
  });

  it('applies overrides to one cell and leaves out the cells skip names, saying why', () => {
    const { experiments, leftOut } = deriveMatrix(
      topology({
        derived: {
          links: ['slow', 'down'],
          services: ['kill'],
          skip: ['cache:kill'],
          overrides: { 'db:slow': { latencyMs: 8000, failFastMs: 300, severity: 'blocker' } },
        },
      }),
      [],
    );
    expect(experiments.map((e) => e.key)).toEqual(['db:slow', 'db:down', 'kv:slow', 'kv:down', 'db:kill', 'api:kill']);
    expect(leftOut).toEqual([{ key: 'cache:kill', reason: 'skipped (chaos.derived.skip)' }]);
    const slow = parsed(experiments[0]?.experiment);
    expect(slow.fault).toMatchObject({ latencyMs: 8000 });
    expect(slow.severity).toBe('blocker');
    expect(slow.during.map((d) => d.name)).toContain('readiness tells the truth: ready means served within 300ms');
    expect(parsed(experiments[2]?.experiment).fault).toMatchObject({ latencyMs: 3000 });
  });

  it('lets a hand-written experiment on the same link or service and fault replace the cell', () => {
    const handWritten = [
      { id: 'db-outage', fault: { kind: 'down', link: 'db' } },
      { id: 'db-latency', fault: { kind: 'latency', link: 'db', latencyMs: 500 } },
      { id: 'api-crash', fault: { kind: 'container', action: 'kill', service: 'api' } },
      // Faults that stand for no cell replace nothing.
      { id: 'db-hang', fault: { kind: 'timeout', link: 'db', timeoutMs: 0 } },
      { id: 'db-restart', fault: { kind: 'container', action: 'restart', service: 'db' } },
    ] as const;
    const { experiments, leftOut } = deriveMatrix(topology(), handWritten);
    expect(leftOut).toEqual([
      { key: 'db:down', reason: 'replaced by the hand-written experiment db-outage' },
      { key: 'db:slow', reason: 'replaced by the hand-written experiment db-latency' },
      { key: 'api:kill', reason: 'replaced by the hand-written experiment api-crash' },
    ]);
    expect(experiments).toHaveLength(9);
    expect(cellOfFault({ kind: 'reset_peer', link: 'kv' })).toEqual({ kind: 'link', link: 'kv', fault: 'reset' });
  });

  it('derives nothing when switched off, and leaves every cell out (not passed) when there is nothing to probe', () => {
    expect(deriveMatrix(topology({ derived: false }), [])).toEqual({ experiments: [], leftOut: [] });
    const bare = topology({ ledger: undefined });
    const blind: Topology = { ...bare, services: { db: {}, cache: {}, api: {} } };
    const { experiments, leftOut } = deriveMatrix(blind, []);
    expect(experiments).toEqual([]);
    expect(leftOut).toHaveLength(12);
    expect(leftOut[0]?.reason).toMatch(/^nothing to probe: no service declares an HTTP health check/);
    expect(deriveMatrix(blind, []).notApplicable).toBe(leftOut[0]?.reason);
    expect(deriveMatrix(topology(), []).notApplicable).toBeUndefined();
  });

  it('plans a not-applicable chaos.derived check (never a pass) when the matrix has nothing to probe', async () => {
    const bare = shopWith({ experimentsDir: false, ledger: undefined, as: undefined });
    const config = resolveConfig(
      { ...bare, services: { ...bare.services, api: { image: 'api:1', ports: [8080] } } },
      FILE,
    );
    const handle = stackHandleSchema.parse(
      JSON.parse(readFileSync(join(ROOT, 'test/fixtures/chaos/stack-handle.json'), 'utf8')),
    );
    const plan = await planChaosStage({ config, handle, stage: 'chaos', runDir: '/tmp', seed: 1 });
    expect(plan.map((c) => c.id)).toEqual(['chaos.derived']);
    expect((await stageExperiments(config)).derivedNotApplicable).toMatch(/^nothing to probe/);
  });
});

describe('chaos.derived in the config', () => {
  const problems = (chaos: Record<string, unknown>): string[] => configProblems(shopWith(chaos), FILE);

  it('is on by default with its bounds; unknown keys and cells the topology does not have exit 2 naming the key', () => {
    expect(resolveConfig(shopWith({}), FILE).chaos?.derived).toEqual(derivedSchema.parse({}));
    expect(derivedSchema.parse({})).toMatchObject({ answerWithinMs: 2500, failFastMs: 1000, slowLatencyMs: 3000 });
    expect(problems({ derived: { link: ['down'] } })).toEqual([
      'readiness.config.ts: chaos.derived.link is not a known key; remove it or check the spelling',
    ]);
    expect(
      problems({
        derived: {
          links: ['down'],
          skip: ['mysql:down', 'db:slow', 'db:explode'],
          overrides: { 'nope:kill': {}, 'db:down': { timeoutMs: 5 } },
        },
      }),
    ).toEqual([
      'readiness.config.ts: chaos.derived.skip[2] must be a cell <link>:<down|slow|reset> or <service>:<kill|pause> (received "db:explode")',
      'readiness.config.ts: chaos.derived.overrides.db:down.timeoutMs is not a known key; remove it or check the spelling',
      'readiness.config.ts: chaos.derived.skip[0] names no link "mysql" (links: db, kv)',
      'readiness.config.ts: chaos.derived.skip[1] names fault "slow", which chaos.derived.links does not put (down)',
      'readiness.config.ts: chaos.derived.overrides.nope:kill names no service "nope" (services: db, cache, api)',
    ]);
  });

  it('refuses a stage with no experiment at all, and a selection of hand-written experiments without a folder', () => {
    expect(problems({ experimentsDir: false, derived: false })).toEqual([
      'readiness.config.ts: chaos.derived is false and chaos.experimentsDir is false too, so the chaos stage has no experiment; give a folder of experiments or derive the matrix',
    ]);
    expect(problems({ experimentsDir: false, experiments: ['a'] })).toEqual([
      'readiness.config.ts: chaos.experiments selects hand-written experiments, but chaos.experimentsDir is false; remove one of the two',
    ]);
  });
});

describe('the chaos stage with the derived matrix (the reference config)', () => {
  const handle = stackHandleSchema.parse(
    JSON.parse(readFileSync(join(ROOT, 'test/fixtures/chaos/stack-handle.json'), 'utf8')),
  );
  const withDerived = async (chaos: Partial<ChaosConfig>): Promise<ResolvedConfig> => {
    const config = await loadConfig('readiness.config.ts', ROOT);
    return { ...config, chaos: { ...(config.chaos as ChaosConfig), derived: derivedSchema.parse({}), ...chaos } };
  };

  it('plans the hand-written experiments and the cells none of them covers, through the same runner plan', async () => {
    const config = await withDerived({});
    const stage = await stageExperiments(config);
    expect(stage.problems).toEqual([]);
    expect(stage.leftOut.map((c) => `${c.key}: ${c.reason}`)).toEqual([
      'postgres:down: replaced by the hand-written experiment postgres-down',
      'postgres:slow: replaced by the hand-written experiment postgres-latency',
      'postgres:reset: replaced by the hand-written experiment reset-during-writes',
      'redis:down: replaced by the hand-written experiment redis-down',
      'payments:reset: replaced by the hand-written experiment payments-flaky',
      'orders:kill: replaced by the hand-written experiment orders-kill',
    ]);
    const plan = await planChaosStage({ config, handle, stage: 'chaos', runDir: '/tmp', seed: 1 });
    const ids = plan.map((c) => c.id);
    expect(ids).toContain('chaos.postgres-down.recovery');
    expect(ids).not.toContain('chaos.derived-postgres-down.recovery');
    expect(ids.filter((id) => id.startsWith('chaos.derived-payments-slow.'))).toEqual([
      'chaos.derived-payments-slow.steady-state',
      'chaos.derived-payments-slow.fault-effect',
      'chaos.derived-payments-slow.during.the-services-still-up-answer-within-2500ms',
      'chaos.derived-payments-slow.during.readiness-tells-the-truth-ready-means-served-within-1000ms',
      'chaos.derived-payments-slow.recovery',
    ]);
  });

  it('with the folder switched off runs the whole matrix, the reference stack probed only through its config', async () => {
    const config = await withDerived({ experimentsDir: false });
    const stage = await stageExperiments(config);
    expect(stage.leftOut).toEqual([]);
    expect(stage.experiments.map((e) => e.cell)).toEqual([
      'postgres:down',
      'postgres:slow',
      'postgres:reset',
      'redis:down',
      'redis:slow',
      'redis:reset',
      'payments:down',
      'payments:slow',
      'payments:reset',
      ...['postgres', 'redis', 'payments', 'orders', 'orders-b', 'lb'].flatMap((s) => [`${s}:kill`, `${s}:pause`]),
    ]);
    const kill = stage.experiments.find((e) => e.cell === 'orders:kill')?.experiment;
    expect(kill?.ledger).toMatchObject({ phase: 'around-injection' });
    expect(kill?.steadyState.map((p) => p.name)).toEqual([
      'payments health (GET /health/ready) is served',
      'orders health (GET /health/ready) is served',
      'orders-b health (GET /health/ready) is served',
      'lb health (GET /health/ready) is served',
      'GET /v1/orders is served',
      'POST /v1/orders is served',
    ]);
  });
});

/** A clock that advances only when slept on. */
function fakeClock(): Clock {
  let t = 0;
  return {
    now: () => t,
    monotonicMs: () => t,
    sleep: (ms) => {
      t += ms;
      return Promise.resolve();
    },
  };
}

/** A chaos API whose answers come from `answer` (status and latency per request); it records what was sent. */
function fakeApi(answer: (request: HttpRequest, n: number) => { status: number; latencyMs: number }): {
  api: ChaosApi;
  sent: HttpRequest[];
} {
  const sent: HttpRequest[] = [];
  const api: ChaosApi = {
    seed: 1,
    random: () => 0.5,
    uuid: () => '00000000-0000-4000-8000-000000000000',
    request: (request) => {
      sent.push(request);
      const a = answer(request, sent.length);
      const outcome: HttpOutcome = { ...a, body: '', json: undefined, headers: {}, setCookies: [] };
      return Promise.resolve(outcome);
    },
    metric: () => Promise.resolve(undefined),
    fault: { redraw: () => Promise.resolve(), suspend: () => Promise.resolve() },
    clock: fakeClock(),
    signal: new AbortController().signal,
    log: () => undefined,
  };
  return { api, sent };
}

const run = (probe: ProbeInput | ExpectationInput, api: ChaosApi): Promise<ProbeOutcome> => {
  if (probe.kind !== 'fn') throw new Error('not a function probe');
  return probe.run(api);
};

describe('readiness tells the truth (the derived probe)', () => {
  const readiness: DerivedRequest = {
    label: 'api health (GET /ready)',
    role: 'health',
    service: 'api',
    port: 8080,
    method: 'GET',
    path: '/ready',
    headers: {},
    auth: false,
    good: 'any-2xx',
  };
  const work = workRequests(resolveConfig(shopWith({}), FILE).chaos?.ledger, true);
  const bounds = { failFastMs: 1000, answerWithinMs: 2500, settleWithinMs: 5000 };
  const probe = truthProbe('truth', readiness, work, bounds);

  it('fails a service that says ready while its work fails, and says it is not about time', async () => {
    const { api } = fakeApi((r) => ({ status: r.path === '/ready' ? 200 : 500, latencyMs: 5 }));
    const outcome = await run(probe, api);
    expect(outcome.ok).toBe(false);
    expect(outcome.timing).toBe(false);
    expect(outcome.detail).toMatch(/api health \(GET \/ready\) -> 200 in 5ms \(ready\) but GET \/items -> 500 in 5ms/);
  });

  it('passes a service that admits the fault (not ready), and sends its work nothing then', async () => {
    const { api, sent } = fakeApi(() => ({ status: 503, latencyMs: 5 }));
    expect((await run(probe, api)).ok).toBe(true);
    expect(sent.map((r) => r.path)).toEqual(['/ready', '/ready', '/ready']);
  });

  it('gives a breaker time to open: slow writes while ready, then fast ones, pass; always slow fails on time', async () => {
    const opening = fakeApi((r, n) => ({ status: r.path === '/ready' ? 200 : 202, latencyMs: n < 10 ? 1500 : 10 }));
    const opened = await run(probe, opening.api);
    expect(opened.ok, opened.detail).toBe(true);
    // The write carries a fresh idempotency key and the rendered body.
    expect(opening.sent.find((r) => r.method === 'POST')).toMatchObject({
      headers: { 'Idempotency-Key': '00000000-0000-4000-8000-000000000000' },
      body: { name: 'w-00000000-0000-4000-8000-000000000000', qty: 1 },
      auth: true,
    });
    const never = await run(
      probe,
      fakeApi((r) => ({ status: r.path === '/ready' ? 200 : 202, latencyMs: r.method === 'POST' ? 1500 : 10 })).api,
    );
    expect(never).toMatchObject({ ok: false, timing: true });
    expect(never.detail).toMatch(/^not settled within 5000ms .*POST \/items -> 202 in 1500ms, over 1000ms$/);
  });
});
