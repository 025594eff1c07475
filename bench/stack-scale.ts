// Stack-up of synthetic stacks of 1, 10 and 30 small HTTP services (node:24-slim, an inline server,
// an HTTP health check): stack-up against the slowest single service's own readiness, and how the
// cost grows with the number of services. Prints figures; never asserts.
//   node bench/stack-scale.ts [--sizes 1,10,30]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { provisionImages } from '../src/cli/provisioning.ts';
import { configRedactor } from '../src/cli/commands/certify.ts';
import { loadConfig } from '../src/config/index.ts';
import { StackProvider, stackImageRefs } from '../src/stack/index.ts';

process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= 'localhost';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1,10,30' } } });
const sizes = values.sizes.split(',').map(Number);
const SERVER = "require('http').createServer((q, s) => s.end('ok')).listen(8080)";

async function configOf(services: number, dir: string): Promise<string> {
  const entries = Array.from({ length: services }, (_, i): [string, unknown] => [
    `svc-${String(i + 1).padStart(2, '0')}`,
    {
      image: 'node:24-slim',
      command: ['node', '-e', SERVER],
      ports: [8080],
      health: { kind: 'http', port: 8080, path: '/', timeoutMs: 120_000 },
    },
  ]);
  const file = join(dir, 'readiness.config.ts');
  await writeFile(
    file,
    `import { defineConfig } from ${JSON.stringify(resolve('src/index.ts'))};\nexport default defineConfig(${JSON.stringify(
      {
        name: `bench-scale-${services}`,
        services: Object.fromEntries(entries),
        deadlines: { stackStartMs: 600_000 },
      },
    )});\n`,
  );
  return file;
}

const rows: { services: number; upMs: number; slowestMs: number; downMs: number }[] = [];
for (const services of sizes) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-scale-'));
  const config = await loadConfig(await configOf(services, dir));
  const images = await provisionImages(config, stackImageRefs(config), {});
  const provider = new StackProvider(config, {
    runId: `bench-scale-${Date.now()}`,
    seed: services,
    logsDir: join(dir, 'logs'),
    images,
    redact: configRedactor(config),
  });
  const started = performance.now();
  const stack = await provider.start();
  const upMs = performance.now() - started;
  const slowestMs = Math.max(...Object.values(stack.handle.services).map((s) => s.startupMs));
  const stopStarted = performance.now();
  await stack.stop();
  rows.push({ services, upMs, slowestMs, downMs: performance.now() - stopStarted });
  await rm(dir, { recursive: true, force: true });
}
console.log('services  stack-up ms  slowest single ms  ratio  per service ms  teardown ms');
for (const r of rows) {
  console.log(
    `${String(r.services).padStart(8)}  ${r.upMs.toFixed(0).padStart(11)}  ${String(Math.round(r.slowestMs)).padStart(17)}  ${(r.upMs / r.slowestMs).toFixed(2).padStart(5)}  ${(r.upMs / r.services).toFixed(0).padStart(14)}  ${r.downMs.toFixed(0).padStart(11)}`,
  );
}
const first = rows[0];
const last = rows.at(-1);
if (first && last && last.services > first.services) {
  const growth = last.upMs / first.upMs / (last.services / first.services);
  console.log(
    `cost growth from ${first.services} to ${last.services} services: ${growth.toFixed(2)}x of linear (<= 1 is linear or better)`,
  );
}
