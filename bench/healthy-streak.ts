// Consecutive healthy `certify` runs of the reference example (FRAGILE unset), one after the other:
// per run its exit code, verdict, wall time and load averages, and every due check that did not pass;
// at the end the flake rate per check (runs where it was failed, broken or unknown, over all runs).
// Run it on a quiet host to show the healthy stack certifies every time; under a CPU hog
// (e.g. `stress-ng --cpu 2` in another shell) to show it is never failed for the host's load.
// Prints figures; never asserts.
// Usage: node bench/healthy-streak.ts [runs=10]
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../src/config/load-config.ts';
import { certifyOnce, loadAverages } from './certify-once.ts';
import { readCheckResults } from '../src/core/results.ts';

const runs = Number(process.argv[2] ?? 10);
const config = await loadConfig();

/** Check id -> the runs it was not passed in, or passed only on a retry (skipped and not-applicable are declared, not counted). */
const notPassed = new Map<string, { count: number; statuses: string[] }>();
const seen = new Map<string, number>();
const exits: (number | null)[] = [];
console.log(`healthy streak: ${runs.toString()} consecutive certify runs; load average before: ${loadAverages()}`);
for (let i = 0; i < runs; i += 1) {
  const before = loadAverages();
  const run = await certifyOnce(config.reportsDir);
  exits.push(run.code);
  const cert = JSON.parse(await readFile(join(run.runDir, 'certification.json'), 'utf8')) as { verdict: string };
  const { checks } = await readCheckResults(join(run.runDir, 'allure-results'));
  // Passed only on a retry counts too: that is a flake the retry hid.
  const bad = checks.filter((c) => c.status === 'failed' || c.status === 'broken' || c.status === 'unknown' || c.flaky);
  for (const c of checks) seen.set(c.id, (seen.get(c.id) ?? 0) + 1);
  for (const c of bad) {
    const entry = notPassed.get(c.id) ?? { count: 0, statuses: [] };
    entry.count += 1;
    entry.statuses.push(`run ${(i + 1).toString()} ${c.flaky ? 'flaky' : c.status}`);
    notPassed.set(c.id, entry);
  }
  console.log(
    `run ${(i + 1).toString().padStart(2)}: exit ${String(run.code)} ${cert.verdict.padEnd(14)} ${((run.finishedAt - run.startedAt) / 1000).toFixed(1)} s, ` +
      `${checks.length.toString()} checks, ${bad.length.toString()} not passed; load before ${before}, after ${loadAverages()}; ${run.runDir}`,
  );
  for (const c of bad)
    console.log(`    ${(c.flaky ? 'flaky' : c.status).padEnd(8)} ${c.id}: ${(c.message ?? '').slice(0, 160)}`);
}
const certified = exits.filter((c) => c === 0).length;
console.log(`\n${certified.toString()}/${runs.toString()} CERTIFIED (exit codes: ${exits.map(String).join(' ')})`);
console.log(
  `checks seen: ${seen.size.toString()}; checks not passed in at least one run: ${notPassed.size.toString()}`,
);
for (const [id, { count, statuses }] of [...notPassed].sort((a, b) => b[1].count - a[1].count))
  console.log(`  flake ${((100 * count) / runs).toFixed(0).padStart(3)}%  ${id}  (${statuses.join(', ')})`);
