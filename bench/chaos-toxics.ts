// Toxiproxy as the chaos stage uses it, on the reference stack's Postgres link. Prints figures; never asserts.
//  1. observed vs injected latency (through the link, and through orders' readiness = one SELECT 1),
//  2. time to inject and to remove a toxic (API call, and until a probe sees it gone),
//  3. Toxiproxy's added p50 round trip with no toxic vs a direct connection to Postgres.
// Usage: node bench/chaos-toxics.ts [samples=15]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configRedactor } from '../src/cli/commands/certify.ts';
import { provisionImages } from '../src/cli/provisioning.ts';
import { loadConfig } from '../src/config/index.ts';
import { httpProbe } from '../src/stack/health.ts';
import { StackProvider, stackImageRefs } from '../src/stack/index.ts';
import { ToxiproxyApi } from '../src/stack/toxiproxy-api.ts';
import { observeLink } from '../src/faults/link-probe.ts';

process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= 'localhost';

const samples = Number(process.argv[2] ?? 15);
const SSL_REQUEST = Buffer.from('0000000804d2162f', 'hex');
const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const pct = (xs: readonly number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;

const config = await loadConfig('readiness.config.ts');
const images = await provisionImages(config, stackImageRefs(config), {});
const logs = await mkdtemp(join(tmpdir(), 'bench-chaos-'));
const stack = await new StackProvider(config, {
  runId: `bench-chaos-${Date.now()}`,
  seed: 1,
  logsDir: logs,
  images,
  redact: configRedactor(config),
}).start();
try {
  const handle = stack.handle;
  const proxy = handle.toxiproxy?.proxies['postgres'];
  const postgres = handle.services['postgres'];
  const orders = handle.services['orders'];
  if (!handle.toxiproxy || !proxy || !postgres || !orders) throw new Error('the reference stack has no postgres link');
  const api = new ToxiproxyApi(handle.toxiproxy.apiUrl);
  const roundTrips = async (port: number, n: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i += 1) {
      const o = await observeLink('127.0.0.1', port, SSL_REQUEST, { expectBytes: 1, timeoutMs: 5_000 });
      if (o.answerMs !== undefined) out.push(o.answerMs);
    }
    return out;
  };
  const ready = `http://${orders.endpoint.host}:${orders.endpoint.ports['8080']}/health/ready`;
  const readyLatencies = async (n: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i += 1) out.push((await httpProbe(ready, 5_000)).latencyMs);
    return out;
  };

  // 3. Toxiproxy's own cost, no toxic: direct to Postgres' mapped port vs through the proxy.
  await roundTrips(proxy.hostPort, 5);
  const direct = await roundTrips(postgres.endpoint.ports['5432'] ?? 0, samples * 2);
  const proxied = await roundTrips(proxy.hostPort, samples * 2);

  // 1. observed vs injected latency.
  const baseLink = median(await roundTrips(proxy.hostPort, samples));
  const baseReady = median(await readyLatencies(samples));
  const rows: string[] = [];
  for (const latencyMs of [100, 250, 500, 1000]) {
    await api.addToxic('postgres', {
      name: 'bench-latency',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: latencyMs, jitter: 0 },
    });
    const link = median(await roundTrips(proxy.hostPort, Math.min(samples, 8))) - baseLink;
    const viaOrders = median(await readyLatencies(Math.min(samples, 8))) - baseReady;
    await api.removeToxic('postgres', 'bench-latency');
    rows.push(
      `${String(latencyMs).padStart(8)}  ${link.toFixed(0).padStart(12)} ${(((link - latencyMs) / latencyMs) * 100).toFixed(1).padStart(7)}%  ${viaOrders.toFixed(0).padStart(16)} ${(((viaOrders - latencyMs) / latencyMs) * 100).toFixed(1).padStart(7)}%`,
    );
  }

  // 2. time to inject and remove a toxic, and until a probe through the link sees the change.
  const addMs: number[] = [];
  const removeMs: number[] = [];
  const effectMs: number[] = [];
  const goneMs: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    let t = performance.now();
    await api.addToxic('postgres', {
      name: 'bench-toggle',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 200, jitter: 0 },
    });
    addMs.push(performance.now() - t);
    t = performance.now();
    for (;;) {
      const o = await observeLink('127.0.0.1', proxy.hostPort, SSL_REQUEST, { expectBytes: 1, timeoutMs: 2_000 });
      if ((o.answerMs ?? 0) >= 150) break;
    }
    effectMs.push(performance.now() - t - 200);
    t = performance.now();
    await api.removeToxic('postgres', 'bench-toggle');
    removeMs.push(performance.now() - t);
    t = performance.now();
    for (;;) {
      const o = await observeLink('127.0.0.1', proxy.hostPort, SSL_REQUEST, { expectBytes: 1, timeoutMs: 2_000 });
      if ((o.answerMs ?? 1_000) < 100) break;
    }
    goneMs.push(performance.now() - t);
  }

  console.log(`Toxiproxy on the postgres link (SSLRequest round trip), ${samples} samples per figure`);
  console.log('\n1. observed vs injected latency (median added, minus the no-toxic baseline; target within 10%)');
  console.log(' injected  through link   error  via orders ready   error');
  for (const row of rows) console.log(row);
  console.log(`   baselines: link ${baseLink.toFixed(1)}ms, orders /health/ready ${baseReady.toFixed(1)}ms`);
  console.log('\n2. time to inject / remove a toxic (ms)            p50     p95');
  console.log(
    `   POST toxic (API call)                      ${median(addMs).toFixed(1).padStart(7)} ${pct(addMs, 0.95).toFixed(1).padStart(7)}`,
  );
  console.log(
    `   until a new connection sees it (excl. the 200ms)${median(effectMs).toFixed(1).padStart(5)} ${pct(effectMs, 0.95).toFixed(1).padStart(7)}`,
  );
  console.log(
    `   DELETE toxic (API call)                    ${median(removeMs).toFixed(1).padStart(7)} ${pct(removeMs, 0.95).toFixed(1).padStart(7)}`,
  );
  console.log(
    `   until a new connection is fast again       ${median(goneMs).toFixed(1).padStart(7)} ${pct(goneMs, 0.95).toFixed(1).padStart(7)}`,
  );
  console.log('\n3. round trip with no toxic (ms)                  p50     p95');
  console.log(
    `   direct to postgres                         ${median(direct).toFixed(2).padStart(7)} ${pct(direct, 0.95).toFixed(2).padStart(7)}`,
  );
  console.log(
    `   through toxiproxy                          ${median(proxied).toFixed(2).padStart(7)} ${pct(proxied, 0.95).toFixed(2).padStart(7)}`,
  );
  console.log(
    `   toxiproxy's added p50                      ${(median(proxied) - median(direct)).toFixed(2).padStart(7)}`,
  );
} finally {
  await stack.stop();
  await rm(logs, { recursive: true, force: true });
}
