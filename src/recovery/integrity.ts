import type { RecoveryBackupConfig } from '../config/stages/recovery.ts';

/** Row count and checksum of one table at one moment. */
export interface TableSnapshot {
  readonly table: string;
  readonly rows: number;
  readonly checksum: string;
}

/** What differs between two snapshots of the same tables; empty when they match. */
interface SnapshotDiff {
  readonly table: string;
  readonly problem: string;
}

/** Fills `{name}` placeholders of a command's arguments; an unknown placeholder throws (never runs a literal `{x}`). */
export function fillCommand(argv: readonly string[], vars: Readonly<Record<string, string>>): string[] {
  return argv.map((arg) =>
    arg.replace(/\{([a-z]+)\}/g, (whole, key: string) => {
      const value = vars[key];
      if (value === undefined)
        throw new Error(
          `command ${JSON.stringify(argv)}: unknown placeholder ${whole} (known: ${Object.keys(vars).join(', ')})`,
        );
      return value;
    }),
  );
}

/**
 * The snapshot query of a table: its configured query, or the row count and the md5 of every
 * row's text in a stable order (so two databases with the same rows agree, whatever their layout).
 */
export function snapshotQuery(table: RecoveryBackupConfig['tables'][number]): { table: string; sql: string } {
  if (typeof table !== 'string' && table.query !== undefined) return { table: table.name, sql: table.query };
  const name = typeof table === 'string' ? table : table.name;
  return {
    table: name,
    sql: `SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM "${name}" t`,
  };
}

/** Parses psql `-At` output of a snapshot query: one line `count|checksum`. */
export function parseSnapshot(table: string, output: string): TableSnapshot {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const line = lines.at(-1) ?? '';
  const match = /^(\d+)\|(\S+)$/.exec(line);
  if (!match || lines.length !== 1)
    throw new Error(
      `snapshot of "${table}": expected one line "count|checksum", got ${JSON.stringify(output.slice(0, 200))}`,
    );
  return { table, rows: Number(match[1]), checksum: match[2] ?? '' };
}

/** Compares a restored database's snapshots with the backup's, table by table. Pure. */
export function compareSnapshots(expected: readonly TableSnapshot[], actual: readonly TableSnapshot[]): SnapshotDiff[] {
  const diffs: SnapshotDiff[] = [];
  const byTable = new Map(actual.map((s) => [s.table, s]));
  for (const want of expected) {
    const got = byTable.get(want.table);
    if (!got) {
      diffs.push({ table: want.table, problem: 'not snapshotted after the restore' });
      continue;
    }
    if (got.rows !== want.rows)
      diffs.push({ table: want.table, problem: `${got.rows} rows after the restore, ${want.rows} in the backup` });
    else if (got.checksum !== want.checksum)
      diffs.push({
        table: want.table,
        problem: `same ${got.rows} rows but checksum ${got.checksum} after the restore, ${want.checksum} in the backup (rows changed)`,
      });
  }
  return diffs;
}

/** One table per line: `orders  42 rows  md5 ...`. */
export function formatSnapshots(snapshots: readonly TableSnapshot[]): string {
  const width = Math.max(5, ...snapshots.map((s) => s.table.length));
  return snapshots.map((s) => `${s.table.padEnd(width)}  ${String(s.rows).padStart(8)} rows  ${s.checksum}`).join('\n');
}
