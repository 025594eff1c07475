// Sharded k6 (load.runners): N = 1, 2, 4 k6 processes on execution segments at the same total rate
// against a trivial loopback endpoint, judged on their merged samples (reached rate, requests,
// p50/p95/p99 side by side); then the merge's own cost (time, peak RSS) for 1, 10 and 100 million
// synthetic sample lines streamed through it, each size in a fresh process. Prints figures; asserts nothing.
// Usage: node bench/k6-shards.ts [--rate 400] [--seconds 10] [--runners 1,2,4] [--samples 1e6,1e7,1e8]
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { MergedSamples, mergeSampleFiles, mergeSelectors, mergedSummary } from '../src/load/k6-merge.ts';
import type { K6Options } from '../src/load/k6-options.ts';
import { runK6Shards } from '../src/load/k6-shards.ts';
import { readK6Summary, runDurationMs } from '../src/load/k6-summary.ts';
import { trivialEndpoint } from './trivial-endpoint.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '400' },
    seconds: { type: 'string', default: '10' },
    runners: { type: 'string', default: '1,2,4' },
    samples: { type: 'string', default: '1e6,1e7,1e8' },
    merge: { type: 'string' },
  },
});
const root = resolve(import.meta.dirname, '..');

/** A scenario's options as the load stage builds them: one executor, thresholds per scenario tag. */
function optionsAt(rate: number, seconds: number): K6Options {
  return {
    scenarios: {
      shards: {
        executor: 'constant-arrival-rate',
        rate,
        timeUnit: '1s',
        duration: `${seconds}s`,
        preAllocatedVUs: 40,
        maxVUs: 400,
      },
    },
    thresholds: {
      'http_reqs{scenario:shards}': ['count>=0'],
      'http_req_duration{scenario:shards}': ['p(50)>=0', 'p(95)<1000', 'p(99)<1000'],
      'http_req_failed{scenario:shards}': ['rate<0.01'],
    },
    summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
    setupTimeout: '10s',
  };
}

/** The merge alone: `count` synthetic lines (4 metrics, tags as k6 writes them) streamed through it, in this process. */
function mergeOnly(count: number): void {
  const options = optionsAt(400, 10);
  const merged = new MergedSamples(mergeSelectors(options));
  const metrics = ['http_reqs', 'http_req_duration', 'http_req_failed', 'iterations'];
  const pool = Array.from({ length: 4096 }, (_, i) => {
    const metric = metrics[i % metrics.length] ?? 'http_reqs';
    const value = metric === 'http_req_duration' ? 1 + ((i * 7919) % 5000) / 10 : metric === 'http_req_failed' ? 0 : 1;
    const time = new Date(Date.UTC(2026, 11, 6, 12, 0, 0, i)).toISOString();
    return JSON.stringify({
      metric,
      type: 'Point',
      data: {
        time,
        value,
        tags: {
          expected_response: 'true',
          group: '',
          method: 'GET',
          name: 'get',
          proto: 'HTTP/1.1',
          scenario: 'shards',
          status: '200',
          url: 'http://127.0.0.1/',
        },
      },
    });
  });
  const started = performance.now();
  for (let i = 0; i < count; i += 1) merged.addLine(pool[i % pool.length] ?? '');
  const seconds = (performance.now() - started) / 1000;
  const summary = mergedSummary(options, merged, {}, 10);
  process.stdout.write(
    `${JSON.stringify({ count, points: merged.points, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024, p95: summary.metrics['http_req_duration{scenario:shards}']?.['p(95)'] })}\n`,
  );
}

async function shardedRuns(rate: number, seconds: number, counts: readonly number[]): Promise<void> {
  const { port, dir, k6, close } = await trivialEndpoint('k6-shards-');
  try {
    process.stdout.write(
      `k6 ${k6} -> http://127.0.0.1:${port}/ (node:http in this process), ${rate}/s in total for ${seconds}s\n`,
    );
    process.stdout.write(
      'runners  reached_rps  requests  dropped  p50_ms  p95_ms  p99_ms  start_skew_ms  merge_ms  wall_s\n',
    );
    const options = optionsAt(rate, seconds);
    for (const runners of counts) {
      const started = performance.now();
      const outcome = await runK6Shards(
        {
          k6,
          script: join(root, 'scenarios/load/trivial.js'),
          options,
          outDir: dir,
          label: `runners-${runners}`,
          env: { BASE_URL: `http://127.0.0.1:${port}` },
          timeoutMs: seconds * 1000 + 60_000,
          rawOutput: true,
        },
        runners,
      );
      const wall = (performance.now() - started) / 1000;
      if (outcome.kind === 'broken') throw new Error(`${outcome.message}\n${outcome.stderrTail}`);
      const files =
        outcome.kind === 'sharded'
          ? outcome.runners.map((r) => ({ raw: r.rawFile, summary: r.summaryFile }))
          : [{ raw: outcome.rawFile, summary: outcome.summaryFile }];
      const mergeStarted = performance.now();
      const merged = await mergeSampleFiles(
        files.map((f) => f.raw),
        mergeSelectors(options),
      );
      const durations = await Promise.all(files.map(async (f) => runDurationMs(await readK6Summary(f.summary)) ?? 0));
      const summary = mergedSummary(options, merged, {}, Math.max(...durations) / 1000);
      const mergeMs = performance.now() - mergeStarted;
      const requests = summary.metrics['http_reqs{scenario:shards}']?.count ?? 0;
      const duration = summary.metrics['http_req_duration{scenario:shards}'] ?? {};
      const dropped = summary.metrics.dropped_iterations?.count ?? 0;
      const skew = outcome.kind === 'sharded' ? outcome.startSkewMs : 0;
      const cells = [
        String(runners).padStart(7),
        (requests / seconds).toFixed(1).padStart(11),
        String(requests).padStart(8),
        String(dropped).padStart(7),
        (duration['p(50)'] ?? Number.NaN).toFixed(2).padStart(6),
        (duration['p(95)'] ?? Number.NaN).toFixed(2).padStart(6),
        (duration['p(99)'] ?? Number.NaN).toFixed(2).padStart(6),
        String(Math.round(skew)).padStart(13),
        mergeMs.toFixed(0).padStart(8),
        wall.toFixed(1).padStart(6),
      ];
      process.stdout.write(`${cells.join('  ')}\n`);
      for (const f of files) await rm(f.raw, { force: true });
    }
  } finally {
    await close();
  }
}

async function mergeCosts(sizes: readonly number[]): Promise<void> {
  process.stdout.write(
    '\nmerge of synthetic sample lines (each size in a fresh node process; parse + aggregate, no disk)\n',
  );
  process.stdout.write('samples       seconds  lines/s      peak_rss_mb  p95_ms\n');
  for (const size of sizes) {
    const { stdout } = await promisify(execFile)(process.execPath, [import.meta.filename, '--merge', String(size)], {
      maxBuffer: 1 << 20,
    });
    const r = JSON.parse(stdout) as { count: number; seconds: number; maxRssMb: number; p95: number };
    process.stdout.write(
      `${r.count.toExponential(0).padEnd(12)}  ${r.seconds.toFixed(1).padStart(7)}  ${Math.round(r.count / r.seconds)
        .toString()
        .padEnd(11)}  ${r.maxRssMb.toFixed(0).padStart(11)}  ${r.p95.toFixed(2)}\n`,
    );
  }
}

if (values.merge !== undefined) mergeOnly(Number(values.merge));
else {
  await shardedRuns(Number(values.rate), Number(values.seconds), values.runners.split(',').map(Number));
  await mergeCosts(values.samples.split(',').map(Number));
}
