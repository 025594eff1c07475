// k6's own headroom on this machine: the rate reached vs the rate asked against a trivial
// loopback endpoint, so the load stage's targets are known not to be limited by the generator.
// Usage: node bench/k6-headroom.ts [rate,rate,...] [seconds]
import { join, resolve } from 'node:path';
import { readK6Summary, runK6 } from '../src/load/index.ts';
import { trivialEndpoint } from './trivial-endpoint.ts';

const rates = (process.argv[2] ?? '100,200,400,800').split(',').map(Number);
const seconds = Number(process.argv[3] ?? '5');
const root = resolve(import.meta.dirname, '..');

const { port, dir, k6, close } = await trivialEndpoint('k6-headroom-');
try {
  process.stdout.write(`k6 ${k6} -> trivial endpoint http://127.0.0.1:${port}/, ${seconds}s per rate\n`);
  process.stdout.write('asked_rps  reached_rps  ratio  dropped  p95_ms  k6_wall_s\n');
  for (const rate of rates) {
    const outcome = await runK6({
      k6,
      script: join(root, 'scenarios/load/trivial.js'),
      options: {
        scenarios: {
          headroom: {
            executor: 'constant-arrival-rate',
            rate,
            timeUnit: '1s',
            duration: `${seconds}s`,
            preAllocatedVUs: 50,
            maxVUs: 400,
          },
        },
        thresholds: {
          'http_reqs{scenario:headroom}': ['count>=0'],
          'http_req_duration{scenario:headroom}': ['max>=0'],
        },
        summaryTrendStats: ['avg', 'p(95)', 'max'],
        setupTimeout: '10s',
      },
      outDir: dir,
      label: `rate-${rate}`,
      env: { BASE_URL: `http://127.0.0.1:${port}` },
      timeoutMs: seconds * 1000 + 30_000,
    });
    if (outcome.kind === 'broken') throw new Error(`${outcome.message}\n${outcome.stderrTail}`);
    const summary = await readK6Summary(outcome.summaryFile);
    const count = summary.metrics['http_reqs{scenario:headroom}']?.count ?? 0;
    const reached = count / seconds;
    const dropped = summary.metrics.dropped_iterations?.count ?? 0;
    const p95 = summary.metrics['http_req_duration{scenario:headroom}']?.['p(95)'] ?? NaN;
    process.stdout.write(
      `${String(rate).padStart(9)}  ${reached.toFixed(1).padStart(11)}  ${(reached / rate).toFixed(3)}  ${String(dropped).padStart(7)}  ${p95.toFixed(2).padStart(6)}  ${(outcome.durationMs / 1000).toFixed(1).padStart(9)}\n`,
    );
  }
} finally {
  await close();
}
