// Stack-up time of the reference stack against its slowest single service's readiness.
// Prints figures; never asserts. Usage: node bench/stack-up.ts [runs=3]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionImages } from '../src/cli/provisioning.ts';
import { configRedactor } from '../src/cli/commands/certify.ts';
import { loadConfig } from '../src/config/index.ts';
import { StackProvider, stackImageRefs } from '../src/stack/index.ts';

process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= 'localhost';

const runs = Number(process.argv[2] ?? 3);
const config = await loadConfig('readiness.config.ts');
const images = await provisionImages(config, stackImageRefs(config), {});
const rows: { upMs: number; slowestMs: number; slowest: string; downMs: number }[] = [];
for (let i = 0; i < runs; i += 1) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-stack-'));
  const provider = new StackProvider(config, {
    runId: `bench-${Date.now()}`,
    seed: i,
    logsDir: dir,
    images,
    redact: configRedactor(config),
  });
  const started = performance.now();
  const stack = await provider.start();
  const upMs = performance.now() - started;
  const [slowest, entry] = Object.entries(stack.handle.services).sort((a, b) => b[1].startupMs - a[1].startupMs)[0] ?? [
    'none',
    { startupMs: 0 },
  ];
  const stopStarted = performance.now();
  await stack.stop();
  rows.push({ upMs, slowestMs: entry.startupMs, slowest, downMs: performance.now() - stopStarted });
  await rm(dir, { recursive: true, force: true });
}
console.log('run  stack-up ms  slowest service (its own readiness ms)  ratio  teardown ms');
rows.forEach((r, i) => {
  console.log(
    `${String(i + 1).padEnd(4)} ${r.upMs.toFixed(0).padStart(11)}  ${`${r.slowest} (${r.slowestMs})`.padEnd(38)} ${(r.upMs / r.slowestMs).toFixed(2).padStart(5)}  ${r.downMs.toFixed(0).padStart(11)}`,
  );
});
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const ratio = median(rows.map((r) => r.upMs / r.slowestMs));
console.log(`median ratio stack-up / slowest single service readiness: ${ratio.toFixed(2)} (target <= 1.3)`);
