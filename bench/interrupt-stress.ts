// Interrupts `readiness certify` at random moments (seeded) and counts what each run left behind.
// Prints figures; never asserts. Usage: node bench/interrupt-stress.ts [runs=20] [seed=1]
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { seededRandom } from '../src/core/seed.ts';
import { LABELS } from '../src/stack/labels.ts';

process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
const ROOT = resolve(import.meta.dirname, '..');
const runs = Number(process.argv[2] ?? 20);
const random = seededRandom(Number(process.argv[3] ?? 1));
const dir = await mkdtemp(join(tmpdir(), 'interrupt-stress-'));
const reports = join(dir, 'reports');
await writeFile(
  join(dir, 'readiness.config.ts'),
  `import base from ${JSON.stringify(join(ROOT, 'readiness.config.ts'))};\nexport default { ...base, reportsDir: ${JSON.stringify(reports)}, suitesDir: ${JSON.stringify(join(ROOT, 'suites'))} };\n`,
);
const docker = (await getContainerRuntimeClient()).container.dockerode;
const rows: {
  afterMs: number;
  signal: string;
  code: number | null;
  exitMs: number;
  leftover: number;
  runId: string;
}[] = [];
for (let i = 0; i < runs; i += 1) {
  const before = new Set(await readdir(reports).catch(() => []));
  // Anywhere from provisioning through stack start, the boot stage and teardown (~8 s warm here).
  const afterMs = Math.round(300 + random() * 9_000);
  const signal = random() < 0.5 ? 'SIGINT' : 'SIGTERM';
  const child = spawn(process.execPath, [join(ROOT, 'src/cli/main.ts'), 'certify'], {
    cwd: dir,
    stdio: 'ignore',
    env: { ...process.env, FRAGILE: '' },
  });
  const started = performance.now();
  let killedAt = 0;
  const timer = setTimeout(() => {
    killedAt = performance.now();
    child.kill(signal);
  }, afterMs);
  const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
  clearTimeout(timer);
  const exitMs = killedAt ? performance.now() - killedAt : 0;
  const runId = (await readdir(reports)).find((n) => !before.has(n) && /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(n)) ?? '?';
  const filters = JSON.stringify({ label: [`${LABELS.runId}=${runId}`] });
  const leftover =
    (await docker.listContainers({ all: true, filters })).length + (await docker.listNetworks({ filters })).length;
  rows.push({ afterMs, signal: killedAt ? signal : 'none (finished first)', code, exitMs, leftover, runId });
  console.log(
    `${String(i + 1).padStart(2)} ${signal.padEnd(7)} at ${String(afterMs).padStart(5)}ms  exit ${String(code).padStart(3)}  teardown ${exitMs.toFixed(0).padStart(5)}ms  leftovers ${leftover}  ${runId}  (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
}
const interrupted = rows.filter((r) => r.exitMs > 0);
console.log(
  `${rows.length} runs, ${interrupted.length} interrupted: leftover containers+networks ${rows.reduce((n, r) => n + r.leftover, 0)} (target 0); exit 130 in ${interrupted.filter((r) => r.code === 130).length}/${interrupted.length}; slowest teardown ${Math.max(0, ...interrupted.map((r) => r.exitMs)).toFixed(0)}ms`,
);
