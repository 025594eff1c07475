import { describe, expect, it } from 'vitest';
import { memorySlopeMbPerMin, readDockerStats, retainedMemoryMb, sumPrometheusMb } from './resources.ts';

describe('memorySlopeMbPerMin', () => {
  it('is the least-squares slope in MB per minute', () => {
    const samples = [0, 1, 2, 3, 4].map((i) => ({ atMs: i * 15_000, cpuCores: 0, memoryMb: 100 + i * 5 + (i % 2) }));
    expect(memorySlopeMbPerMin(samples)).toBeCloseTo(20, 0);
    expect(memorySlopeMbPerMin(samples.slice(0, 2))).toBeUndefined();
  });
});

describe('readDockerStats', () => {
  it('gives cores and memory without inactive file cache (cgroup v2 stats)', () => {
    const mb = 1024 * 1024;
    const read = readDockerStats({
      cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 18_000_000_000 },
      memory_stats: { usage: 300 * mb, stats: { inactive_file: 50 * mb } },
    });
    expect(read.cpuCores).toBeCloseTo(1, 5);
    expect(read.memoryMb).toBe(250);
  });
});

describe('retainedMemoryMb', () => {
  const at = (atMs: number, memoryMb: number) => ({ atMs, cpuCores: 0, memoryMb });

  it('compares the settled floor (second half of the quiet window) with the first sample', () => {
    // Load 0-30 s, quiet 30-40 s: the heap is collected back down early in the quiet window.
    const samples = [
      at(0, 50),
      at(10_000, 80),
      at(20_000, 72),
      at(30_000, 81),
      at(33_000, 60),
      at(36_000, 64),
      at(39_000, 58),
    ];
    expect(retainedMemoryMb(samples, 30_000, 40_000)).toEqual({
      baselineMb: 50,
      peakMb: 81,
      settledMb: 58,
      retainedMb: 8,
      settleSamples: 2,
    });
  });

  it('keeps what a leak holds', () => {
    const samples = [at(0, 50), at(15_000, 130), at(30_000, 205), at(36_000, 204), at(39_000, 205)];
    expect(retainedMemoryMb(samples, 30_000, 40_000)?.retainedMb).toBe(154);
  });

  it('is undefined without a sample before the load ended or in the settled half', () => {
    expect(retainedMemoryMb([at(31_000, 50), at(38_000, 50)], 30_000, 40_000)).toBeUndefined();
    expect(retainedMemoryMb([at(0, 50), at(31_000, 50)], 30_000, 40_000)).toBeUndefined();
    expect(retainedMemoryMb([], 30_000, 40_000)).toBeUndefined();
  });
});

describe('sumPrometheusMb', () => {
  // Lines as prom-client 15 exposes them (the reference orders service's /metrics).
  const text = [
    '# HELP nodejs_heap_size_used_bytes Process heap size used from Node.js in bytes.',
    '# TYPE nodejs_heap_size_used_bytes gauge',
    'nodejs_heap_size_used_bytes{service="orders"} 52428800',
    '# HELP nodejs_external_memory_bytes Node.js external memory size in bytes.',
    '# TYPE nodejs_external_memory_bytes gauge',
    'nodejs_external_memory_bytes{service="orders"} 13631488',
    'nodejs_heap_space_size_used_bytes{service="orders",space="old"} 40000000',
    'process_resident_memory_bytes 320000000',
  ].join('\n');

  it('sums the named gauges in MB, without prefix look-alikes', () => {
    expect(sumPrometheusMb(text, ['nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes'])).toBe(63);
    expect(sumPrometheusMb(text, ['process_resident_memory_bytes'])).toBeCloseTo(305.18, 2);
  });

  it('is undefined when a named metric is absent, instead of counting it as 0', () => {
    expect(sumPrometheusMb(text, ['nodejs_heap_size_used_bytes', 'nodejs_heap_used'])).toBeUndefined();
  });

  it('reads a series whose label value contains a closing brace', () => {
    const braces =
      'nodejs_heap_size_used_bytes{service="orders",note="a}b"} 1048576\nprocess_resident_memory_bytes 1048576';
    expect(sumPrometheusMb(braces, ['nodejs_heap_size_used_bytes', 'process_resident_memory_bytes'])).toBe(2);
  });
});
