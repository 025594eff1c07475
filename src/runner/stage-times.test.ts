import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../core/clock.ts';
import { STAGE_TIMES_FILE, StageTimer, readStageTimes, writeStageTimes } from './stage-times.ts';
import type { HostLoadSampler } from './host-load.ts';

/** A clock that moves only when told. */
function steppedClock(): Clock & { advance(ms: number): void } {
  let t = 1_800_000_000_000;
  return {
    now: () => t,
    monotonicMs: () => t,
    sleep: () => Promise.resolve(),
    advance: (ms) => {
      t += ms;
    },
  };
}

describe('StageTimer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stage-times-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records stack-up, each stage in order and teardown, also when the work throws', async () => {
    const clock = steppedClock();
    const timer = new StageTimer(clock);
    const t0 = clock.now();
    await timer.time('stackUp', () => {
      clock.advance(4_500);
      return Promise.resolve();
    });
    const value = await timer.time('boot', () => {
      clock.advance(1_000);
      return Promise.resolve(7);
    });
    expect(value).toBe(7);
    await expect(
      timer.time('load', () => {
        clock.advance(2_000);
        return Promise.reject(new Error('k6 died'));
      }),
    ).rejects.toThrow('k6 died');
    await timer.time('teardown', () => {
      clock.advance(300);
      return Promise.resolve();
    });
    expect(timer.toJSON()).toEqual({
      schemaVersion: 1,
      stackUp: { startedAt: t0, finishedAt: t0 + 4_500 },
      stages: [
        { stage: 'boot', startedAt: t0 + 4_500, finishedAt: t0 + 5_500 },
        { stage: 'load', startedAt: t0 + 5_500, finishedAt: t0 + 7_500 },
      ],
      teardown: { startedAt: t0 + 7_500, finishedAt: t0 + 7_800 },
    });
    const file = join(dir, STAGE_TIMES_FILE);
    await writeStageTimes(file, timer);
    expect(await readStageTimes(file)).toEqual(timer.toJSON());
  });

  it('records the host load over each part when given a sampler (issue 16: host load per phase)', async () => {
    const clock = steppedClock();
    // A host whose load rises from the first part to the second: 0.3, then 1.8 per core, CPU ticks to match.
    const readings = [
      { loadPerCore: 0.3, cores: 2, cpu: { total: 0, busy: 0, steal: 0 } },
      { loadPerCore: 0.3, cores: 2, cpu: { total: 200, busy: 60, steal: 0 } },
      { loadPerCore: 1.8, cores: 2, cpu: { total: 200, busy: 60, steal: 0 } },
      { loadPerCore: 1.8, cores: 2, cpu: { total: 400, busy: 260, steal: 0 } },
    ];
    let i = 0;
    const sampler: HostLoadSampler = { sample: () => readings[Math.min(i++, readings.length - 1)]! };
    const timer = new StageTimer(clock, sampler);
    await timer.time('security', () => Promise.resolve());
    await timer.time('load', () => Promise.resolve());
    const [security, load] = timer.toJSON().stages;
    expect(security?.hostLoad).toEqual({
      cores: 2,
      maxLoadPerCore: 0.3,
      busyRatio: 0.3,
      peakBusyRatio: 0.3,
      stealRatio: 0,
      samples: 2,
    });
    expect(load?.hostLoad).toEqual({
      cores: 2,
      maxLoadPerCore: 1.8,
      busyRatio: 1,
      peakBusyRatio: 1,
      stealRatio: 0,
      samples: 2,
    });
    const file = join(dir, STAGE_TIMES_FILE);
    await writeStageTimes(file, timer);
    expect(await readStageTimes(file)).toEqual(timer.toJSON());
  });

  it('leaves out stack-up when nothing was started (--target)', () => {
    expect(new StageTimer(steppedClock()).toJSON()).toEqual({ schemaVersion: 1, stages: [] });
  });

  it('refuses a file with an unknown stage, naming the file and the key', async () => {
    const file = join(dir, STAGE_TIMES_FILE);
    await writeFile(
      file,
      JSON.stringify({ schemaVersion: 1, stages: [{ stage: 'warp', startedAt: 1, finishedAt: 2 }] }),
    );
    await expect(readStageTimes(file)).rejects.toThrow(`${file}: stages.0.stage`);
  });
});
