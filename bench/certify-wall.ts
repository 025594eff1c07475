// Where a warm `npm run certify` spends its time: one warm-up run (it warms images and caches and is
// reported only by its total), then measured runs, each broken down per part (start, stack-up, every
// stage, teardown, report) from the run's stage-times.json, against the windows its config makes it
// wait (bench/configured-windows.ts): wall / configured, and the harness's own waiting (wall -
// configured). Prints figures with the load averages; never asserts.
// Usage: node bench/certify-wall.ts [runs=1]
//        node bench/certify-wall.ts --from <run folder>...   (runs already made, e.g. by bench/healthy-streak.ts:
//        no warm-up; a run starts at its certification's startedAt and ends at its newest top-level file)
import { join } from 'node:path';
import { readFile, readdir, stat } from 'node:fs/promises';
import { loadConfig } from '../src/config/load-config.ts';
import { certifyOnce, loadAverages } from './certify-once.ts';
import type { CertifyRun } from './certify-once.ts';
import { stageExperiments } from '../src/faults/experiment-files.ts';
import { STAGE_TIMES_FILE, readStageTimes } from '../src/runner/stage-times.ts';
import { configuredWindows, windowMsOf } from './configured-windows.ts';
import type { ConfiguredWindow } from './configured-windows.ts';

const fromDirs = process.argv[2] === '--from' ? process.argv.slice(3) : undefined;
const runs = fromDirs ? 0 : Number(process.argv[2] ?? 1);
const config = await loadConfig();
// The experiments the chaos stage runs: the hand-written ones and the derived matrix's cells.
const experiments = (await stageExperiments(config)).experiments.map((l) => l.experiment);
const windows = configuredWindows(config, experiments);

const s = (ms: number): string => (ms / 1000).toFixed(1).padStart(7);
const row = (part: string, wallMs: number, configuredMs: number): string => {
  const ratio = configuredMs > 0 ? (wallMs / configuredMs).toFixed(2) : '-';
  return `${part.padEnd(12)} ${s(configuredMs)} ${s(wallMs)} ${ratio.padStart(7)} ${s(wallMs - configuredMs)}`;
};

async function breakdown(run: CertifyRun): Promise<[string, number, number][]> {
  const times = await readStageTimes(join(run.runDir, STAGE_TIMES_FILE));
  const stackUp = times.stackUp;
  const teardown = times.teardown;
  const first = stackUp?.startedAt ?? times.stages[0]?.startedAt ?? run.startedAt;
  const lastStage = times.stages.at(-1)?.finishedAt ?? stackUp?.finishedAt ?? first;
  const parts: [string, number, number][] = [['start', first - run.startedAt, 0]];
  if (stackUp) parts.push(['stack-up', stackUp.finishedAt - stackUp.startedAt, 0]);
  for (const span of times.stages)
    parts.push([span.stage, span.finishedAt - span.startedAt, windowMsOf(windows, span.stage)]);
  if (teardown) parts.push(['teardown', teardown.finishedAt - teardown.startedAt, 0]);
  parts.push(['report', run.finishedAt - (teardown?.finishedAt ?? lastStage), 0]);
  // The host's load over each part, when the run recorded it: max 1-minute load per core, CPU busy share.
  const loads = new Map<string, string>();
  const hostOf = (span: { hostLoad?: { maxLoadPerCore: number; busyRatio?: number | undefined } }): string =>
    span.hostLoad
      ? `  load/core ${span.hostLoad.maxLoadPerCore.toFixed(2)}, CPU busy ${span.hostLoad.busyRatio === undefined ? '-' : `${Math.round(span.hostLoad.busyRatio * 100).toString()}%`}`
      : '';
  if (stackUp) loads.set('stack-up', hostOf(stackUp));
  for (const span of times.stages) loads.set(span.stage, hostOf(span));
  if (teardown) loads.set('teardown', hostOf(teardown));
  console.log(`part         config s  wall s  wall/cfg  harness s (wall - configured)  host`);
  for (const [part, wall, configured] of parts) console.log(`${row(part, wall, configured)}${loads.get(part) ?? ''}`);
  const wall = run.finishedAt - run.startedAt;
  const configured = parts.reduce((n, [, , c]) => n + c, 0);
  console.log(row('total', wall, configured));
  console.log(`  (parts sum to ${s(parts.reduce((n, [, w]) => n + w, 0)).trim()} s; run folder ${run.runDir})`);
  return [...parts, ['total', wall, configured]];
}

/** A run made earlier: from its certification's start to its newest top-level file (the report's last write). */
async function madeRun(runDir: string): Promise<CertifyRun> {
  const cert = JSON.parse(await readFile(join(runDir, 'certification.json'), 'utf8')) as {
    startedAt: string;
    exitCode: number;
  };
  let finishedAt = 0;
  for (const name of await readdir(runDir)) finishedAt = Math.max(finishedAt, (await stat(join(runDir, name))).mtimeMs);
  return { startedAt: Date.parse(cert.startedAt), finishedAt, code: cert.exitCode, runDir };
}

/** The median of each part over several runs (parts in the first run's order). */
function medians(all: readonly [string, number, number][][]): void {
  const median = (xs: number[]): number => {
    const sorted = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  };
  console.log(`\nmedian of ${all.length.toString()} runs`);
  console.log(`part         config s  wall s  wall/cfg  harness s (wall - configured)`);
  for (const [part, , configured] of all[0] ?? []) {
    const walls = all.flatMap((parts) => parts.filter(([p]) => p === part).map(([, w]) => w));
    console.log(row(part, median(walls), configured));
  }
}

const listWindows = (all: readonly ConfiguredWindow[]): void => {
  console.log('configured windows (from the resolved config; bounds are waited at most, not summed):');
  for (const w of all) console.log(`  ${w.stage.padEnd(9)} ${w.kind.padEnd(6)} ${s(w.ms)} s  ${w.label}`);
};

listWindows(windows);
const all: [string, number, number][][] = [];
if (fromDirs) {
  for (const dir of fromDirs) {
    const run = await madeRun(dir);
    console.log(`\n${dir}: ${s(run.finishedAt - run.startedAt).trim()} s (exit ${String(run.code)})`);
    all.push(await breakdown(run));
  }
} else {
  console.log(`load average before warm-up: ${loadAverages()}`);
  const warmup = await certifyOnce(config.reportsDir);
  console.log(
    `warm-up run: ${s(warmup.finishedAt - warmup.startedAt).trim()} s (exit ${String(warmup.code)}); load average ${loadAverages()}`,
  );
  for (let i = 0; i < runs; i += 1) {
    const before = loadAverages();
    const run = await certifyOnce(config.reportsDir);
    console.log(
      `\nrun ${(i + 1).toString()}: ${s(run.finishedAt - run.startedAt).trim()} s (exit ${String(run.code)}); load average before ${before}, after ${loadAverages()}`,
    );
    all.push(await breakdown(run));
  }
}
if (all.length > 1) medians(all);
