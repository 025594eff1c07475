// The chaos stage with only the matrix derived from the reference stack's links and services (no
// hand-written experiment), once on the healthy stack and once per planted chaos defect, one run at a
// time: caught or not, with the failing check ids and the stage's wall time. Prints figures; asserts nothing.
//   node bench/derived-matrix.ts [--defects healthy,no-timeout,...] [--seed 42] [--keep]
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCheckResults } from '../src/core/results.ts';
import { leftovers, onlyRun, referenceProject, runCli } from '../test/support/harness.ts';

/** The planted defects a chaos experiment is meant to catch (fixtures/stack/README.md). */
const CHAOS_DEFECTS = [
  'no-timeout',
  'no-breaker',
  'no-retry',
  'no-idempotency',
  'no-redis-fallback',
  'no-reconnect',
  'lossy-writes',
] as const;

const { values } = parseArgs({
  options: {
    defects: { type: 'string', default: ['healthy', ...CHAOS_DEFECTS].join(',') },
    seed: { type: 'string', default: '42' },
    keep: { type: 'boolean', default: false },
  },
});
const runs = values.defects.split(',').filter(Boolean);

interface Row {
  readonly run: string;
  readonly exit: number | null;
  readonly verdict: string;
  readonly failed: readonly string[];
  readonly broken: readonly string[];
  /** Broken because the host was saturated while a latency was judged (the failure seen is in the message). */
  readonly saturated: readonly string[];
  readonly unknown: number;
  readonly passed: number;
  readonly seconds: number;
  readonly left: number;
}

const rows: Row[] = [];
for (const run of runs) {
  const fragile = run === 'healthy' ? '' : run;
  // Only the derived matrix: no experiments folder, the matrix at its defaults.
  const project = await referenceProject(
    'derived',
    'chaos: { ...base.chaos, experimentsDir: false, experiments: undefined, derived: {} }',
  );
  const started = performance.now();
  const cli = await runCli(project.dir, ['certify', '--stages', 'chaos', '--seed', values.seed], { FRAGILE: fragile });
  const seconds = Math.round((performance.now() - started) / 1000);
  let row: Row;
  try {
    const runDir = await onlyRun(project.reports);
    const { checks } = await readCheckResults(join(runDir, 'allure-results'));
    const chaos = checks.filter((c) => c.id.startsWith('chaos.'));
    const ids = (status: string) => chaos.filter((c) => c.status === status).map((c) => c.id);
    const saturated = chaos
      .filter((c) => c.status === 'broken' && (c.message ?? '').startsWith('host saturated'))
      .map((c) => c.id);
    row = {
      run,
      exit: cli.code,
      verdict:
        cli.code === 0
          ? 'passed'
          : fragile === ''
            ? 'NOT passed'
            : ids('failed').length > 0
              ? 'caught'
              : saturated.length > 0
                ? 'seen, but broken (host saturated)'
                : 'NOT caught',
      failed: ids('failed'),
      broken: ids('broken'),
      saturated,
      unknown: ids('unknown').length,
      passed: ids('passed').length,
      seconds,
      left: await leftovers(runDir),
    };
    for (const c of chaos.filter((x) => x.status === 'failed' || x.status === 'broken'))
      process.stderr.write(`${run}: ${c.status} ${c.id}: ${(c.message ?? '').split('\n')[0]?.slice(0, 300) ?? ''}\n`);
  } catch (error) {
    row = {
      run,
      exit: cli.code,
      verdict: `no run folder (${error instanceof Error ? error.message : String(error)})`,
      failed: [],
      broken: [],
      saturated: [],
      unknown: 0,
      passed: 0,
      seconds,
      left: -1,
    };
    process.stderr.write(cli.stderr.slice(-2_000));
  }
  rows.push(row);
  process.stdout.write(
    `${row.run}: exit ${row.exit}, ${row.verdict}, ${row.passed} passed, ${row.failed.length} failed, ${row.broken.length} broken, ${row.unknown} unknown, ${row.seconds}s\n`,
  );
  if (!values.keep) await rm(project.dir, { recursive: true, force: true });
}

process.stdout.write(
  '\n| run | exit | result | failed checks | broken: host saturated while judging a latency | other broken | wall time |\n|---|---|---|---|---|---|---|\n',
);
const list = (ids: readonly string[]): string => ids.join(', ') || '-';
for (const r of rows)
  process.stdout.write(
    `| ${r.run} | ${r.exit} | ${r.verdict} | ${list(r.failed)} | ${list(r.saturated)} | ${list(r.broken.filter((id) => !r.saturated.includes(id)))} | ${r.seconds} s |\n`,
  );
const defects = rows.filter((r) => r.run !== 'healthy');
process.stdout.write(
  `\ncaught ${defects.filter((r) => r.verdict === 'caught').length} of ${defects.length} planted chaos defects with the derived matrix only\n`,
);
