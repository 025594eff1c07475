import { describe, expect, it } from 'vitest';
import { ledgerSchema } from '../config/stages/chaos.ts';
import { ConfigError } from '../core/errors.ts';
import type { HttpOutcome } from './http.ts';
import { WriteLedger, classifyLedger, fingerprintOf } from './write-ledger.ts';
import type { LedgerEntry, LedgerIo } from './write-ledger.ts';

const FP = ['items.0.sku', 'items.0.qty'];
const entry = (seq: number, id?: string): LedgerEntry => {
  const body = { items: [{ sku: 'TEA', qty: seq }] };
  return {
    seq,
    key: `key-${seq}`,
    fingerprint: fingerprintOf(body, FP),
    body,
    attempts: 1,
    lostResponses: 0,
    statuses: [id ? 201 : 503],
    ...(id ? { id, acknowledgedAtMs: 1 } : {}),
  };
};
const listed = (...pairs: [string, number][]) => pairs.map(([id, qty]) => ({ id, items: [{ sku: 'TEA', qty }] }));
const options = { fingerprint: FP, idField: 'id', keysSent: true };

describe('write ledger classification', () => {
  it('stable: acknowledged, read back, listed once', () => {
    const v = classifyLedger(
      [entry(1, 'a'), entry(2, 'b')],
      new Map([
        ['a', 'present'],
        ['b', 'present'],
      ]),
      listed(['a', 1], ['b', 2]),
      options,
    );
    expect(v.counts).toMatchObject({ stable: 2, lost: 0, duplicated: 0 });
    expect(v.failures).toEqual([]);
  });

  it('lost: acknowledged but gone after recovery fails', () => {
    const v = classifyLedger(
      [entry(1, 'a'), entry(2, 'b')],
      new Map([
        ['a', 'present'],
        ['b', 'missing'],
      ]),
      listed(['a', 1]),
      options,
    );
    expect(v.counts.lost).toBe(1);
    expect(v.failures).toEqual(['write #2 was acknowledged as b and is gone']);
    // Per-write classes, by sequence number: what recovery's window judgement reads.
    expect(v.classes).toEqual(
      new Map([
        [1, 'stable'],
        [2, 'lost'],
      ]),
    );
  });

  it('duplicated: two records for one key fails when keys were sent, is only reported otherwise', () => {
    const reads = new Map([['a', 'present' as const]]);
    const dup = listed(['a', 1], ['a2', 1]);
    const withKeys = classifyLedger([entry(1, 'a')], reads, dup, options);
    expect(withKeys.counts.duplicated).toBe(1);
    expect(withKeys.failures[0]).toMatch(/exists 2 times \(a, a2\) although every attempt sent idempotency key key-1/);
    expect(classifyLedger([entry(1, 'a')], reads, dup, { ...options, keysSent: false }).failures).toEqual([]);
  });

  it('unacknowledged writes are indeterminate, not failures; unreadable ones are unknown', () => {
    const v = classifyLedger([entry(1), entry(2, 'b')], new Map([['b', 'unknown']]), undefined, options);
    expect(v.counts).toMatchObject({ unacknowledged: 1, unknown: 1 });
    expect(v.failures).toEqual([]);
    expect(v.lines.at(-1)).toBe('listing failed: duplicates could not be counted');
  });
});

describe('write ledger listing', () => {
  /** A service that stores categories and lists them as a bare JSON array (no wrapper object). */
  function bareArrayService() {
    const records: { id: number; title: string }[] = [];
    const io: LedgerIo = {
      request: (request) => {
        const ok = (status: number, json: unknown): Promise<HttpOutcome> =>
          Promise.resolve({ status, latencyMs: 1, headers: {}, setCookies: [], body: JSON.stringify(json), json });
        if (request.method === 'POST') {
          const record = { id: records.length + 1, title: (request.body as { title: string }).title };
          records.push(record);
          return ok(201, record);
        }
        if (request.path.startsWith('/v1/categories?')) return ok(200, records);
        const id = Number(/\/v1\/categories\/(\d+)\//.exec(request.path)?.[1]);
        return records.some((r) => r.id === id) ? ok(200, []) : ok(404, { error_message: 'not found' });
      },
      sendAndLose: () => Promise.resolve({ answered: false, detail: 'not used' }),
      random: () => 0.5,
      sleep: () => Promise.resolve(),
      now: () => 1,
      signal: new AbortController().signal,
    };
    return io;
  }
  const config = (itemsField: string) =>
    ledgerSchema.parse({
      write: { path: '/v1/categories', body: { title: 'ledger {{seq}}' }, acknowledged: [201] },
      read: { path: '/v1/categories/{id}/feeds' },
      list: { path: '/v1/categories', itemsField },
      fingerprint: ['title'],
    });

  it("itemsField '': a listing answered as a bare array is searched for copies", async () => {
    const ledger = new WriteLedger(config(''), {}, bareArrayService());
    await ledger.write();
    await ledger.write();
    const verdict = await ledger.verify();
    expect(verdict.counts).toMatchObject({ stable: 2, lost: 0, duplicated: 0, unknown: 0 });
    // Each write found once in the listing (copies counted), not "listing failed".
    expect(verdict.lines).toHaveLength(2);
    for (const line of verdict.lines) expect(line).toMatch(/listed 1x$/);
  });
});

describe('write ledger templates', () => {
  const config = ledgerSchema.parse({
    write: { path: '/items', body: { qty: '{{seq}}' }, headers: { 'X-Seq': '{{sq}}' } },
    read: { path: '/items/{id}', headers: { 'X-Id': '{{id | base64}}' } },
    list: { path: '/items', headers: { 'X-Page': '{{page}}' } },
    fingerprint: ['qty'],
  });
  const io = {
    request: () => Promise.reject(new Error('not sent')),
    sendAndLose: () => Promise.reject(new Error('not sent')),
    random: () => 0.5,
    sleep: () => Promise.resolve(),
    now: () => 0,
    signal: new AbortController().signal,
  };

  it('refuses a header template that does not render before any write, naming each key', () => {
    expect(() => new WriteLedger(config, {}, io, 'chaos.ledger')).toThrow(ConfigError);
    try {
      new WriteLedger(config, {}, io, 'chaos.ledger');
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'chaos.ledger.write.headers.X-Seq: unknown template placeholder {{sq}} (known: seq, key, uuid, pick)',
        'chaos.ledger.list.headers.X-Page: unknown template placeholder {{page}} (known: , uuid, pick)',
      ]);
    }
  });
});
