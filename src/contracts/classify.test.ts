import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { classifyInteraction } from './classify.ts';
import type { ClassifyContext, InteractionRef } from './classify.ts';
import { readPactDir } from './pact-files.ts';
import type { PactFile } from './pact-files.ts';
import { workerResultsSchema } from './worker-protocol.ts';
import type { WorkerResults } from './worker-protocol.ts';

const FIXTURES = new URL('../../test/fixtures/contracts/', import.meta.url);
// The pacts the recorded results were verified from (copies, so consumer tests rewriting
// contracts/pacts in parallel cannot race these tests).
const PACTS = new URL('../../test/fixtures/contracts/pacts/', import.meta.url).pathname;

async function recorded(name: string): Promise<WorkerResults> {
  return workerResultsSchema.parse(JSON.parse(await readFile(new URL(name, FIXTURES), 'utf8')));
}

async function pact(provider: string): Promise<PactFile> {
  const { pacts } = await readPactDir(PACTS);
  const found = pacts.find((p) => p.provider === provider);
  if (!found) throw new Error(`no recorded pact for ${provider}`);
  return found;
}

/** Classifies every interaction of a committed pact against recorded worker results. */
function classifyAll(p: PactFile, results: WorkerResults | undefined, extra: Partial<ClassifyContext> = {}) {
  return p.interactions.map((interaction) => {
    const ref: InteractionRef = { consumer: p.consumer, provider: p.provider, ...interaction };
    return {
      description: interaction.description,
      ...classifyInteraction(ref, {
        configuredStates: new Set(interaction.providerStates),
        pendingConsumers: new Set(),
        results,
        run: results?.runs.find((r) => r.description === interaction.description),
        workerProblem: undefined,
        configPath: `contract.providers.${p.provider}`,
        ...extra,
      }),
    };
  });
}

describe('classifyInteraction on recorded verifier results', () => {
  it('healthy stack: all 14 web -> orders and all 5 orders -> payments interactions pass', async () => {
    const orders = classifyAll(await pact('orders'), await recorded('worker-results.orders.healthy.json'));
    expect(orders).toHaveLength(14);
    expect(orders.filter((v) => v.status !== 'passed')).toEqual([]);
    const payments = classifyAll(await pact('payments'), await recorded('worker-results.payments.healthy.json'));
    expect(payments.map((v) => v.status)).toEqual(['passed', 'passed', 'passed', 'passed', 'passed']);
    expect(payments[0]?.evidence.map((e) => e.name)).toEqual(['pact verifier output', 'provider states']);
  });

  it('contract-drift: exactly the four interactions that return an order fail, naming totalCents', async () => {
    const verdicts = classifyAll(await pact('orders'), await recorded('worker-results.orders.contract-drift.json'));
    const failed = verdicts.filter((v) => v.status === 'failed');
    expect(failed.map((v) => v.description).sort()).toEqual([
      'a replayed order creation with the same Idempotency-Key',
      "a request for one of the customer's orders",
      "a request for the customer's orders, one per page",
      'an order creation',
    ]);
    const creation = failed.find((v) => v.description === 'an order creation')!;
    expect(creation.message).toBe(
      'web -> orders "an order creation" does not match: body $: Actual map is missing the following keys: totalCents; ' +
        "header Content-Type: Expected a header 'Content-Type' but was missing",
    );
    expect(creation.evidence.find((e) => e.name === 'pact verifier output')?.content).toContain(
      'has a matching body (FAILED)',
    );
    expect(creation.evidence.find((e) => e.name === 'pact mismatches')?.content).toContain(
      'missing the following keys: totalCents',
    );
    expect(verdicts.filter((v) => v.status === 'passed')).toHaveLength(10);
  });

  it('a failed provider-state setup is broken, even where the verifier said OK', async () => {
    const verdicts = classifyAll(await pact('orders'), await recorded('worker-results.orders.state-error.json'));
    const audit = verdicts.find((v) => v.description === "a customer's request for the audit log")!;
    expect(audit.status).toBe('broken');
    expect(audit.brokenBy).toBe('state');
    expect(audit.message).toContain(
      'provider state "a customer is signed in" setup failed: exec psql in postgres exited 1',
    );
    const own = verdicts.find((v) => v.description === "a request for one of the customer's orders")!;
    expect(own.status).toBe('broken');
    expect(own.message).toContain('POST /v1/orders on orders answered 400, expected 201');
    expect(verdicts.filter((v) => v.status === 'broken')).toHaveLength(5);
    expect(verdicts.filter((v) => v.status === 'passed')).toHaveLength(9);
  });

  it('a provider state without a configured action is broken before anything runs', async () => {
    const verdicts = classifyAll(await pact('orders'), await recorded('worker-results.orders.healthy.json'), {
      configuredStates: new Set(['a customer is signed in']),
    });
    const refresh = verdicts.find((v) => v.description === 'a token refresh')!;
    expect(refresh.status).toBe('broken');
    expect(refresh.message).toContain(
      'provider state "a customer has a refresh token" has no action in contract.providers.orders.states',
    );
  });

  it('no results (worker killed, timed out) is broken with the reason, never passed', async () => {
    const verdicts = classifyAll(await pact('payments'), undefined, {
      workerProblem: 'the verifier did not finish within contract.timeoutMs=1000ms',
    });
    expect(new Set(verdicts.map((v) => v.status))).toEqual(new Set(['broken']));
    expect(verdicts[0]?.message).toContain('contract.timeoutMs=1000ms');
  });

  it('a run missing from partial results is broken', async () => {
    const results = await recorded('worker-results.payments.healthy.json');
    const partial = { ...results, finished: false, runs: results.runs.slice(0, 2) };
    const verdicts = classifyAll(await pact('payments'), partial, { workerProblem: 'interrupted' });
    expect(verdicts.map((v) => v.status)).toEqual(['passed', 'passed', 'broken', 'broken', 'broken']);
  });

  it('failed setup steps make every interaction broken', async () => {
    const results = await recorded('worker-results.orders.healthy.json');
    const verdicts = classifyAll(await pact('orders'), {
      ...results,
      setup: { ok: false, error: 'POST /v1/users on orders answered 500', log: [] },
    });
    expect(verdicts.every((v) => v.status === 'broken' && v.brokenBy === 'setup')).toBe(true);
  });

  it('a pending consumer: a mismatch is skipped (not gating, not passed); a match still passes', async () => {
    const verdicts = classifyAll(await pact('orders'), await recorded('worker-results.orders.contract-drift.json'), {
      pendingConsumers: new Set(['web']),
    });
    const creation = verdicts.find((v) => v.description === 'an order creation')!;
    expect(creation.status).toBe('skipped');
    expect(creation.pending).toBe(true);
    expect(creation.message).toContain('pending pact');
    expect(verdicts.find((v) => v.description === 'a login with valid credentials')?.status).toBe('passed');
  });

  it("the request filter's principal is in the evidence", async () => {
    const results = await recorded('worker-results.orders.healthy.json');
    const runs = results.runs.map((r) =>
      r.description === 'an order creation'
        ? { ...r, filterLog: ['as customer: login: POST /v1/auth/login -> 200'] }
        : r,
    );
    const creation = classifyAll(await pact('orders'), { ...results, runs }).find(
      (v) => v.description === 'an order creation',
    )!;
    expect(creation.status).toBe('passed');
    expect(creation.evidence.find((e) => e.name === 'provider states')?.content).toContain(
      'request filter: as customer: login: POST /v1/auth/login -> 200',
    );
  });

  it('a request-filter problem of the harness (a login answer without the token field) is broken', async () => {
    const results = await recorded('worker-results.orders.healthy.json');
    const runs = results.runs.map((r) =>
      r.description === 'an order creation'
        ? {
            ...r,
            filterErrors: [
              'fresh credentials for "customer": login of customer: the answer (200) has no string at "jwt"',
            ],
          }
        : r,
    );
    const verdicts = classifyAll(await pact('orders'), { ...results, runs });
    const creation = verdicts.find((v) => v.description === 'an order creation')!;
    expect(creation.status).toBe('broken');
    expect(creation.brokenBy).toBe('credentials');
  });

  it('a login the system refuses (request filter, provider state or setup) is failed, with its answer as evidence', async () => {
    const results = await recorded('worker-results.orders.healthy.json');
    const answer = 'POST /v1/auth/login -> 401\n{"error":"invalid credentials"}';
    const runs = results.runs.map((r) =>
      r.description === 'an order creation'
        ? {
            ...r,
            refused: [{ message: 'login of customer was refused: POST /v1/auth/login -> 401', evidence: answer }],
          }
        : r.description === 'a login with valid credentials'
          ? {
              ...r,
              states: r.states.map((e) => ({
                ...e,
                ok: false,
                error: 'login of customer was refused',
                refused: answer,
              })),
            }
          : r,
    );
    const verdicts = classifyAll(await pact('orders'), { ...results, runs });
    for (const description of ['an order creation', 'a login with valid credentials']) {
      const verdict = verdicts.find((v) => v.description === description)!;
      expect(verdict.status).toBe('failed');
      expect(verdict.message).toContain('the system refused a credential');
      expect(verdict.evidence.find((e) => e.name === 'system evidence')?.content).toBe(answer);
    }
    const setup = classifyAll(await pact('orders'), {
      ...results,
      setup: { ok: false, error: 'sign-up refused', log: [], refused: 'POST /v1/users -> 503' },
    });
    expect(new Set(setup.map((v) => v.status))).toEqual(new Set(['failed']));
  });
});
