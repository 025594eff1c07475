import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  describeMismatch,
  findInteractionResult,
  parseVerifierReport,
  reportOutput,
  stripAnsi,
} from './verifier-report.ts';
import { descriptionFilter, workerResultsSchema } from './worker-protocol.ts';
import type { WorkerResults } from './worker-protocol.ts';

const FIXTURES = new URL('../../test/fixtures/contracts/', import.meta.url);

async function recorded(name: string): Promise<WorkerResults> {
  return workerResultsSchema.parse(JSON.parse(await readFile(new URL(name, FIXTURES), 'utf8')));
}

function reportOf(results: WorkerResults, description: string): string {
  const report = results.runs.find((r) => r.description === description)?.report;
  if (report === undefined) throw new Error(`no run for "${description}" in the fixture`);
  return report;
}

describe('parseVerifierReport on recorded pact-js 17 verifier output', () => {
  it('reads one OK interaction result per filtered run of the healthy stack', async () => {
    const results = await recorded('worker-results.orders.healthy.json');
    expect(results.runs).toHaveLength(14);
    for (const run of results.runs) {
      const report = parseVerifierReport(run.report ?? '');
      expect(report?.result).toBe(true);
      expect(report?.interactionResults).toEqual([
        expect.objectContaining({ consumer: 'web', provider: 'orders', description: run.description, result: 'OK' }),
      ]);
    }
  });

  it("turns the contract-drift mismatch into Pact's own words", async () => {
    const results = await recorded('worker-results.orders.contract-drift.json');
    const report = parseVerifierReport(reportOf(results, 'an order creation'));
    expect(report?.result).toBe(false);
    const result = findInteractionResult(report!, {
      consumer: 'web',
      description: 'an order creation',
      providerStates: ['a customer is signed in'],
    });
    expect(result?.result).toBe('Error');
    expect(describeMismatch(result!.mismatch!)).toEqual([
      'body $: Actual map is missing the following keys: totalCents',
      "header Content-Type: Expected a header 'Content-Type' but was missing",
    ]);
    const output = reportOutput(report!);
    expect(output).toContain('has a matching body (FAILED)');
    expect(output).toContain('Actual map is missing the following keys: totalCents');
    expect(output).not.toContain('\u001b[');
  });

  it('locates a mismatch inside a list ($.items[0]) and keeps status mismatches', async () => {
    const drift = await recorded('worker-results.orders.contract-drift.json');
    const page = parseVerifierReport(reportOf(drift, "a request for the customer's orders, one per page"))!;
    expect(describeMismatch(page.interactionResults[0]!.mismatch!)[0]).toBe(
      'body $.items[0]: Actual map is missing the following keys: totalCents',
    );
    const broken = await recorded('worker-results.orders.state-error.json');
    const own = parseVerifierReport(reportOf(broken, "a request for one of the customer's orders"))!;
    expect(describeMismatch(own.interactionResults[0]!.mismatch!)).toContain('status: expected 200 but was 404');
  });

  it('does not match an interaction by description alone when the states differ and there are several', () => {
    const result = (states: string[]) => ({
      consumer: 'web',
      provider: 'orders',
      description: 'same',
      providerStates: states,
      pending: false,
      result: 'OK' as const,
    });
    const report = {
      result: true,
      interactionResults: [result(['a']), result(['b'])],
      errors: [],
      pendingErrors: [],
      notices: [],
      output: [],
    };
    expect(findInteractionResult(report, { consumer: 'web', description: 'same', providerStates: ['b'] })).toBe(
      report.interactionResults[1],
    );
    expect(findInteractionResult(report, { consumer: 'web', description: 'same', providerStates: ['c'] })).toBe(
      undefined,
    );
  });

  it('returns undefined for text that is not a report (a crash message)', () => {
    expect(parseVerifierReport('Verification was unable to run')).toBeUndefined();
    expect(parseVerifierReport('{"hello":1}')).toBeUndefined();
  });

  it('describes an error-type mismatch (e.g. the provider refused the connection)', () => {
    expect(describeMismatch({ type: 'error', message: 'error sending request: connection refused' })).toEqual([
      'error: error sending request: connection refused',
    ]);
  });

  it('strips colour codes', () => {
    expect(stripAnsi('\u001b[1mweb\u001b[0m (\u001b[32mOK\u001b[0m)')).toBe('web (OK)');
  });
});

describe('descriptionFilter (PACT_DESCRIPTION is a regex search)', () => {
  it('matches exactly the description, special characters included', () => {
    const description = "a request for the customer's orders, one per page (v2) [x]+?";
    const filter = new RegExp(descriptionFilter(description));
    expect(filter.test(description)).toBe(true);
    expect(filter.test(`${description} and more`)).toBe(false);
    expect(new RegExp(descriptionFilter('an order creation')).test('an order creation without a token')).toBe(false);
  });
});
