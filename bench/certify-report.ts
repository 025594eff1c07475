// Certify + report on synthetic check results (1,000 and 10,000 by default): how long the whole
// end of a run takes (read results, Allure report + quality gate, certification, summary, JUnit,
// certificate html + pdf, manifests), and how it grows: per step, the ratio per size step (x10 sizes:
// a ratio above 10 grows worse than linearly). Prints figures; asserts nothing.
//   node bench/certify-report.ts [--sizes 1000,10000] [--keep]
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CheckResultInput } from '../src/core/check-result.ts';
import { createRedactor } from '../src/core/redact.ts';
import { writeCheckResult } from '../src/core/results.ts';
import { STAGES } from '../src/core/stage.ts';
import { seededRandom } from '../src/core/seed.ts';
import type { PolicyConfig } from '../src/config/schema.ts';
import { findChromium } from '../src/provision/chromium.ts';
import { writeRunArtifacts } from '../src/report/run-artifacts.ts';

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '1000,10000' }, keep: { type: 'boolean', default: false } },
});
const sizes = values.sizes.split(',').map(Number);

const POLICY: PolicyConfig = {
  stages: Object.fromEntries(STAGES.map((s) => [s, { minPassRate: 0.97, weight: 1 }])),
  critical: { severities: ['blocker', 'critical'], ids: [] },
  skippable: ['security.zap*'],
  conditionalMargin: 0.1,
  validityDays: 30,
  conditionalExitCode: 4,
  strict: false,
};

/** N checks spread over the stages: ~2% failed, ~0.5% broken, ~1% skippable skipped, 3% with metrics. */
async function synthesize(resultsDir: string, n: number, seed: number): Promise<void> {
  const random = seededRandom(seed);
  const redact = createRedactor([]);
  const batch: Promise<unknown>[] = [];
  for (let i = 0; i < n; i += 1) {
    const stage = STAGES[i % STAGES.length] ?? 'boot';
    const roll = random();
    const isSkipped = stage === 'security' && roll > 0.99;
    const status: CheckResultInput['status'] = isSkipped
      ? 'skipped'
      : roll < 0.02
        ? 'failed'
        : roll < 0.025
          ? 'broken'
          : 'passed';
    const started = 1_700_000_000_000 + i * 10;
    batch.push(
      writeCheckResult(
        resultsDir,
        {
          id: `${stage}.${isSkipped ? 'zap' : 'check'}.c${i.toString()}`,
          stage,
          name: `Synthetic ${stage} check ${i.toString()}`,
          feature: `feature-${(i % 12).toString()}`,
          status,
          severity: i % 50 === 0 ? 'critical' : 'normal',
          ...(status === 'passed' ? {} : { message: `synthetic ${status} outcome of check ${i.toString()}` }),
          ...(status === 'failed' ? { remediation: 'Fix the synthetic defect' } : {}),
          startedAt: started,
          finishedAt: started + 5 + Math.floor(random() * 200),
          metrics: i % 33 === 0 ? [{ name: 'p95_ms', value: Math.round(random() * 500), unit: 'ms' }] : [],
        },
        redact,
      ),
    );
    if (batch.length >= 200) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
}

interface Figure {
  n: number;
  run: string;
  totalMs: number;
  timings: Readonly<Record<string, number>>;
  verdict: string;
  agrees: boolean;
}

const chromium = await findChromium();
if (chromium === undefined) console.log('chromium not found: the PDF step is skipped (apt-get install -y chromium)');
const figures: Figure[] = [];
for (const n of sizes) {
  const reportsDir = await mkdtemp(join(tmpdir(), `readiness-bench-${n.toString()}-`));
  try {
    // Two runs per size: the first starts the history, the second reads it (trend, changes, Allure history).
    for (const [index, runId] of ['20990101-000000-0001', '20990101-000100-0002'].entries()) {
      const runDir = join(reportsDir, runId);
      const resultsDir = join(runDir, 'allure-results');
      await mkdir(resultsDir, { recursive: true });
      const synthStarted = performance.now();
      await synthesize(resultsDir, n, 42 + index);
      const synthMs = Math.round(performance.now() - synthStarted);
      const started = performance.now();
      const artifacts = await writeRunArtifacts({
        runDir,
        resultsDir,
        reportsDir,
        runId,
        stackName: 'bench',
        policy: POLICY,
        enabledStages: [...STAGES],
        selectedStages: [...STAGES],
        startedAt: new Date('2099-01-01T00:00:00Z'),
        finishedAt: new Date('2099-01-01T00:01:00Z'),
        seed: 42,
        git: { sha: '0123456789abcdef0123456789abcdef01234567', dirty: false },
        environment: { stack: 'bench' },
        executor: { name: 'readiness bench', type: 'local' },
        images: {},
        chromium: chromium === undefined ? { missing: 'chromium not installed' } : { path: chromium },
        redact: createRedactor([]),
        cwd: process.cwd(),
      });
      const totalMs = Math.round(performance.now() - started);
      figures.push({
        n,
        run: index === 0 ? 'first' : 'next',
        totalMs,
        timings: artifacts.timings,
        verdict: artifacts.cert.verdict,
        agrees: artifacts.gate.agrees,
      });
      console.log(
        `n=${n.toString()} ${index === 0 ? 'first' : 'next '} run: ${totalMs.toString()} ms certify+report ` +
          `(${(totalMs / n).toFixed(2)} ms/check; results synthesized in ${synthMs.toString()} ms) ` +
          `verdict ${artifacts.cert.verdict}, gate ${artifacts.gate.outcome} ${artifacts.gate.agrees ? 'agrees' : 'DISAGREES'}`,
      );
      console.log(
        `  steps: ${Object.entries(artifacts.timings)
          .map(([step, ms]) => `${step} ${ms.toString()}`)
          .join(', ')}`,
      );
      if (artifacts.warnings.length > 0) console.log(`  warnings: ${artifacts.warnings.join(' | ')}`);
    }
  } finally {
    if (values.keep) console.log(`kept ${reportsDir}`);
    else await rm(reportsDir, { recursive: true, force: true });
  }
}

const base = figures.find((f) => f.n === sizes[0] && f.run === 'next');
if (base !== undefined) {
  console.log('\nsize      run    total ms   ms/check   x of smallest (next run)');
  for (const f of figures) {
    const growth = f.run === 'next' ? (f.totalMs / base.totalMs).toFixed(2) : '';
    console.log(
      `${f.n.toString().padEnd(9)} ${f.run.padEnd(6)} ${f.totalMs.toString().padStart(8)}   ${(f.totalMs / f.n).toFixed(3).padStart(8)}   ${growth}`,
    );
  }
  // Per step, the next run at each size and its ratio to the size before (10x sizes: <= 10 is linear or better).
  const next = figures.filter((f) => f.run === 'next');
  const steps = [...new Set(next.flatMap((f) => Object.keys(f.timings)))];
  console.log(`\nstep (next run, ms)           ${next.map((f) => f.n.toString().padStart(16)).join('')}`);
  for (const step of steps) {
    const cells = next.map((f, i) => {
      const ms = f.timings[step] ?? 0;
      const before = i > 0 ? next[i - 1]?.timings[step] : undefined;
      const ratio = before !== undefined && before > 0 ? ` (x${(ms / before).toFixed(1)})` : '';
      return `${ms.toString()}${ratio}`.padStart(16);
    });
    console.log(`${step.padEnd(30)}${cells.join('')}`);
  }
  const thousand = figures.filter((f) => f.n === 1000);
  if (thousand.length > 0) {
    const worst = Math.max(...thousand.map((f) => f.totalMs));
    console.log(
      `\ntarget: 1,000 checks in <= 5000 ms -> worst ${worst.toString()} ms (${worst <= 5000 ? 'met' : 'NOT met'})`,
    );
  }
}
