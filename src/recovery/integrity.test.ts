import { describe, expect, it } from 'vitest';
import { compareSnapshots, fillCommand, parseSnapshot, snapshotQuery } from './integrity.ts';

describe('restore integrity', () => {
  const backup = [
    { table: 'orders', rows: 12, checksum: 'aaa' },
    { table: 'order_items', rows: 20, checksum: 'bbb' },
  ];

  it('passes when every table has the same rows and checksum', () => {
    expect(compareSnapshots(backup, [...backup].reverse())).toEqual([]);
  });

  it('fails a table that was truncated between restore and verify', () => {
    const diffs = compareSnapshots(backup, [backup[0]!, { table: 'order_items', rows: 0, checksum: 'd41d8cd9' }]);
    expect(diffs).toEqual([{ table: 'order_items', problem: '0 rows after the restore, 20 in the backup' }]);
  });

  it('fails same counts with changed rows, and a table missing from the restore', () => {
    const diffs = compareSnapshots(backup, [{ table: 'orders', rows: 12, checksum: 'zzz' }]);
    expect(diffs.map((d) => d.table)).toEqual(['orders', 'order_items']);
    expect(diffs[0]?.problem).toMatch(/checksum zzz after the restore, aaa in the backup/);
    expect(diffs[1]?.problem).toMatch(/not snapshotted/);
  });

  it('parses psql -At output and refuses anything else', () => {
    expect(parseSnapshot('orders', '12|0cc175b9c0f1b6a831c399e269772661\n')).toEqual({
      table: 'orders',
      rows: 12,
      checksum: '0cc175b9c0f1b6a831c399e269772661',
    });
    expect(() => parseSnapshot('orders', 'ERROR: relation "orders" does not exist')).toThrow(/count\|checksum/);
    expect(() => parseSnapshot('orders', '1|a\n2|b')).toThrow(/one line/);
  });

  it('builds a stable per-table query, or takes the configured one', () => {
    expect(snapshotQuery('orders').sql).toBe(
      `SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM "orders" t`,
    );
    expect(snapshotQuery({ name: 'audit', query: 'SELECT 1, 2' })).toEqual({ table: 'audit', sql: 'SELECT 1, 2' });
  });

  it('fills command placeholders and refuses an unknown one', () => {
    expect(fillCommand(['pg_dump', '-d', '{database}', '-f', '{file}'], { database: 'app', file: '/tmp/x' })).toEqual([
      'pg_dump',
      '-d',
      'app',
      '-f',
      '/tmp/x',
    ]);
    expect(() => fillCommand(['{dbname}'], { database: 'app' })).toThrow(/unknown placeholder \{dbname\}/);
  });
});
