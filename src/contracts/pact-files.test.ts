import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHttpInteraction, parsePactFile, readPactDir } from './pact-files.ts';

const RECORDED = new URL('../../test/fixtures/contracts/pacts/', import.meta.url).pathname;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'readiness-pacts-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readPactDir', () => {
  it('reads the V4 pacts the consumer tests write', async () => {
    const { pacts, problems } = await readPactDir(RECORDED);
    expect(problems).toEqual([]);
    expect(pacts.map((p) => `${p.consumer}->${p.provider}:${p.interactions.length}`)).toEqual([
      'orders->payments:5',
      'web->orders:14',
    ]);
    const web = pacts.find((p) => p.consumer === 'web')!;
    expect(web.specification).toBe('4.0');
    expect(web.interactions.find((i) => i.description === 'a token refresh')).toEqual({
      description: 'a token refresh',
      providerStates: ['a customer has a refresh token'],
      pending: false,
      type: 'Synchronous/HTTP',
    });
  });

  it('a missing folder is no pacts (the stage then reports every provider unknown)', async () => {
    expect(await readPactDir(join(dir, 'nope'))).toEqual({ pacts: [], problems: [] });
  });

  it('reports a malformed or foreign JSON file as a problem instead of skipping it', async () => {
    await writeFile(join(dir, 'broken.json'), '{"consumer": ');
    await writeFile(join(dir, 'other.json'), '{"name": "not a pact"}');
    await writeFile(join(dir, 'notes.txt'), 'ignored');
    const { pacts, problems } = await readPactDir(dir);
    expect(pacts).toEqual([]);
    expect(problems.map((p) => p.problem)).toEqual([
      expect.stringMatching(/^broken\.json is not JSON: /),
      expect.stringMatching(/^other\.json is not a pact file: consumer /),
    ]);
  });
});

describe('parsePactFile', () => {
  it('reads a V2 pact (providerState, no type) as HTTP', () => {
    const pact = parsePactFile(
      'v2.json',
      JSON.stringify({
        consumer: { name: 'a' },
        provider: { name: 'b' },
        interactions: [{ description: 'x', providerState: 'ready' }],
        metadata: { pactSpecification: { version: '2.0.0' } },
      }),
    );
    expect(pact.interactions).toEqual([
      { description: 'x', providerStates: ['ready'], pending: false, type: undefined },
    ]);
    expect(isHttpInteraction(pact.interactions[0]!)).toBe(true);
    expect(isHttpInteraction({ type: 'Asynchronous/Messages' })).toBe(false);
  });
});
