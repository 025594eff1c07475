import { describe, expect, it } from 'vitest';
import {
  HostLoadMonitor,
  parseProcStat,
  saturationReason,
  summarizeHostLoad,
  systemHostLoadSampler,
} from './host-load.ts';

// The first lines of /proc/stat on the 2-core build host, read at load average 9.1.
const PROC_STAT = `cpu  1746149 5462 419567 1069106 5950 0 15674 1781 0 0
cpu0 865912 2453 205349 549090 1458 0 6565 901 0 0
cpu1 880236 3009 214218 520016 4491 0 9109 879 0 0`;

describe('host load', () => {
  it('reads busy, steal and total ticks from /proc/stat', () => {
    const total = 1746149 + 5462 + 419567 + 1069106 + 5950 + 0 + 15674 + 1781;
    expect(parseProcStat(PROC_STAT)).toEqual({ total, busy: total - 1069106 - 5950, steal: 1781 });
    expect(parseProcStat('intr 1 2 3')).toBeUndefined();
  });

  it('summarises a window: max load per core, busy and steal share between the first and last sample', () => {
    const load = summarizeHostLoad([
      { loadPerCore: 2, cores: 2, cpu: { total: 1000, busy: 500, steal: 0 } },
      { loadPerCore: 4.5, cores: 2, cpu: { total: 1500, busy: 950, steal: 20 } },
      { loadPerCore: 3, cores: 2, cpu: { total: 2000, busy: 1400, steal: 50 } },
    ]);
    expect(load).toEqual({
      cores: 2,
      maxLoadPerCore: 4.5,
      busyRatio: 0.9,
      peakBusyRatio: 0.9,
      stealRatio: 0.05,
      samples: 3,
    });
    // The busy share was measured: it decides, whatever the (lagging) load average says.
    expect(saturationReason(load!, { maxLoadPerCore: 1.5, maxBusyRatio: 0.95 })).toBeUndefined();
    expect(saturationReason(load!, { maxLoadPerCore: 5, maxBusyRatio: 0.9 })).toBe(
      'CPU 90% busy (5% stolen) (threshold 90%)',
    );
  });

  it('a burst in part of the window saturates it, though the average over the window stays below the threshold', () => {
    // Another job starts in the last 5 s of a 15 s load run: 40%, 40%, then 100% busy.
    const load = summarizeHostLoad([
      { loadPerCore: 0.6, cores: 2, cpu: { total: 0, busy: 0, steal: 0 } },
      { loadPerCore: 0.6, cores: 2, cpu: { total: 1000, busy: 400, steal: 0 } },
      { loadPerCore: 0.7, cores: 2, cpu: { total: 2000, busy: 800, steal: 0 } },
      { loadPerCore: 1.2, cores: 2, cpu: { total: 3000, busy: 1800, steal: 0 } },
    ]);
    expect(load).toMatchObject({ busyRatio: 0.6, peakBusyRatio: 1 });
    expect(saturationReason(load!, { maxLoadPerCore: 1.5, maxBusyRatio: 0.95 })).toBe(
      'CPU 100% busy over part of the window (60% over all of it) (threshold 95%)',
    );
  });

  it('is not saturated on a high load average while the CPU was mostly idle over the window', () => {
    // Recorded on this host (a capacity check after three back-to-back load runs): load 1.52 per core, CPU 22.6% busy.
    const recorded = { cores: 2, maxLoadPerCore: 1.52, busyRatio: 0.226, stealRatio: 0, samples: 3 };
    expect(saturationReason(recorded, { maxLoadPerCore: 1.5, maxBusyRatio: 0.95 })).toBeUndefined();
    // Under stress-ng --cpu 2 both cores are busy: saturated.
    const hogged = { cores: 2, maxLoadPerCore: 1.34, busyRatio: 1, stealRatio: 0, samples: 30 };
    expect(saturationReason(hogged, { maxLoadPerCore: 1.5, maxBusyRatio: 0.95 })).toBe('CPU 100% busy (threshold 95%)');
  });

  it('a window too short to count ticks has no busy share; the load average alone judges', () => {
    const load = summarizeHostLoad([
      { loadPerCore: 1, cores: 2, cpu: { total: 1000, busy: 500, steal: 0 } },
      { loadPerCore: 1, cores: 2, cpu: { total: 1004, busy: 504, steal: 0 } },
    ]);
    expect(load).toEqual({ cores: 2, maxLoadPerCore: 1, samples: 2 });
    expect(saturationReason(load!, { maxLoadPerCore: 0.5, maxBusyRatio: 0.95 })).toBe(
      'load 1 per core on 2 cores (threshold 0.5; no CPU busy share measured)',
    );
  });

  it('the system sampler reads this host, and without /proc/stat gives the load average only', () => {
    const sample = systemHostLoadSampler().sample();
    expect(sample.cores).toBeGreaterThan(0);
    expect(sample.loadPerCore).toBeGreaterThanOrEqual(0);
    const noProc = systemHostLoadSampler('/nonexistent/proc/stat').sample();
    expect(noProc.cpu).toBeUndefined();
  });

  it('the monitor samples at start and stop and leaves no timer behind', () => {
    let n = 0;
    const monitor = new HostLoadMonitor({ sample: () => ({ loadPerCore: (n += 1), cores: 2 }) }, 60_000);
    monitor.start();
    expect(monitor.stop()).toEqual({ cores: 2, maxLoadPerCore: 2, samples: 2 });
  });
});
