import { describe, expect, it } from 'vitest';
import { memorySlopeMbPerMin, readDockerStats } from './resources.ts';

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
