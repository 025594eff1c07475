// Time to the first critical failure, and to the verdict, with and without --fail-fast: `certify` on
// the reference stack with one planted defect per stage. Prints figures; never asserts.
// Usage: node bench/fail-fast.ts [stage ...] [--stages a,b]   (default: every case below, all stages)
// A full run takes many minutes per case: pick a stage, e.g. `node bench/fail-fast.ts boot --stages boot,contract,security`.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { isCritical } from '../src/certify/policy.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { readCheckResults } from '../src/core/results.ts';
import { STAGES } from '../src/core/stage.ts';
import type { Stage } from '../src/core/stage.ts';

/** One planted defect per stage (fixtures/stack/README.md), caught there by a critical check. */
const CASES: readonly { readonly stage: Stage; readonly defect: string }[] = [
  { stage: 'boot', defect: 'lying-health' },
  { stage: 'contract', defect: 'contract-drift' },
  { stage: 'security', defect: 'bola' },
  { stage: 'load', defect: 'slow-list' },
  { stage: 'chaos', defect: 'no-timeout' },
  { stage: 'recovery', defect: 'lossy-writes' },
];

interface Timing {
  readonly exit: number | null;
  readonly wallMs: number;
  /** From the command's start to the end of the first failed critical check; undefined when none failed. */
  readonly firstCriticalMs: number | undefined;
  readonly firstCritical: string | undefined;
  readonly notRun: readonly string[];
}

const args = process.argv.slice(2);
const stagesAt = args.indexOf('--stages');
const stagesArg = stagesAt >= 0 ? args[stagesAt + 1] : undefined;
const picked = args.filter((a, i) => !a.startsWith('--') && i !== stagesAt + 1);
const config = await loadConfig('readiness.config.ts');

async function certify(defect: string, failFast: boolean): Promise<Timing> {
  const cliArgs = [
    'src/cli/main.ts',
    'certify',
    ...(stagesArg ? ['--stages', stagesArg] : []),
    ...(failFast ? ['--fail-fast'] : []),
  ];
  const startedAt = Date.now();
  const child = spawn(process.execPath, cliArgs, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, FRAGILE: defect },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wallMs = Date.now() - startedAt;
  // The terminal reporter's first line: `[  0.1s] run <id> (seed <n>) -> <run folder>`.
  const runDir = /\] run \S+ \(seed \d+\) -> (.+)$/m.exec(stderr)?.[1]?.trim();
  if (!runDir)
    throw new Error(`no run folder in the output of certify (exit ${String(exit)}):\n${stderr.slice(-2000)}`);
  const { checks } = await readCheckResults(join(runDir, 'allure-results'));
  const failed = checks
    .filter((c) => c.status === 'failed' && isCritical(c, config.policy))
    .sort((a, b) => a.finishedAt - b.finishedAt);
  const first = failed[0];
  return {
    exit,
    wallMs,
    firstCriticalMs: first ? first.finishedAt - startedAt : undefined,
    firstCritical: first?.id,
    notRun: STAGES.filter((s) => checks.some((c) => c.id === `${s}.not-run`)),
  };
}

const seconds = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
const rows: string[] = [
  'stage     defect          flag        exit  first critical failure                   at        verdict after  not run',
];
for (const { stage, defect } of CASES.filter((c) => picked.length === 0 || picked.includes(c.stage))) {
  for (const failFast of [false, true]) {
    const t = await certify(defect, failFast);
    const row = [
      stage.padEnd(9),
      defect.padEnd(15),
      (failFast ? '--fail-fast' : '(none)').padEnd(11),
      String(t.exit).padEnd(5),
      (t.firstCritical ?? '-').padEnd(40),
      seconds(t.firstCriticalMs).padEnd(9),
      seconds(t.wallMs).padEnd(14),
      t.notRun.join(',') || '-',
    ].join(' ');
    rows.push(row);
    console.log(row);
  }
}
console.log(`\n${rows.join('\n')}`);
