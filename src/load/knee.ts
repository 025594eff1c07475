import type { LoadSlo } from '../config/stages/load.ts';
import { percentile } from './k6-samples.ts';
import type { TimedSample } from './k6-samples.ts';

/** One window of the knee probe: what was reached and whether the SLO held. */
export interface KneeWindow {
  readonly startSec: number;
  readonly requests: number;
  readonly ratePerSec: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly errorRate: number;
  readonly sloHeld: boolean;
}

export interface KneeResult {
  readonly windows: readonly KneeWindow[];
  /** Highest request rate of a window that met the SLO before the first sustained breach (two failing windows in a row, or the last). */
  readonly kneeRatePerSec: number | undefined;
  /** Rate of the first window of that sustained breach (undefined when none). */
  readonly firstBreachRatePerSec: number | undefined;
}

/** Groups http_req_duration / http_req_failed samples into windows and judges each against the SLO. */
export function kneeFromSamples(samples: readonly TimedSample[], windowSec: number, slo: LoadSlo): KneeResult {
  if (samples.length === 0) return { windows: [], kneeRatePerSec: undefined, firstBreachRatePerSec: undefined };
  const t0 = Math.min(...samples.map((s) => s.t));
  const buckets = new Map<number, { durations: number[]; failed: number; total: number }>();
  for (const s of samples) {
    const index = Math.floor((s.t - t0) / (windowSec * 1000));
    const bucket = buckets.get(index) ?? { durations: [], failed: 0, total: 0 };
    if (s.durationMs !== undefined) bucket.durations.push(s.durationMs);
    if (s.failed !== undefined) {
      bucket.total += 1;
      if (s.failed) bucket.failed += 1;
    }
    buckets.set(index, bucket);
  }
  const last = Math.max(...buckets.keys());
  const windows: KneeWindow[] = [];
  // The last window is partial (ramp end, graceful stop): judged on too few seconds, so left out.
  for (let i = 0; i < last; i++) {
    const b = buckets.get(i) ?? { durations: [], failed: 0, total: 0 };
    const sorted = [...b.durations].sort((x, y) => x - y);
    const p95Ms = percentile(sorted, 95);
    const p99Ms = percentile(sorted, 99);
    const errorRate = b.total === 0 ? 0 : b.failed / b.total;
    const sloHeld =
      b.total > 0 &&
      (slo.p95Ms === undefined || p95Ms < slo.p95Ms) &&
      (slo.p99Ms === undefined || p99Ms < slo.p99Ms) &&
      (slo.maxErrorRate === undefined || errorRate < slo.maxErrorRate);
    windows.push({
      startSec: i * windowSec,
      requests: b.total,
      ratePerSec: b.total / windowSec,
      p95Ms,
      p99Ms,
      errorRate,
      sloHeld,
    });
  }
  // A sustained breach is two windows in a row: one noisy window on a shared machine is not the knee.
  const firstBreach = windows.findIndex((w, i) => !w.sloHeld && (i === windows.length - 1 || !windows[i + 1]?.sloHeld));
  const before = firstBreach < 0 ? windows : windows.slice(0, firstBreach);
  const kneeRatePerSec = before.length === 0 ? undefined : Math.max(...before.map((w) => w.ratePerSec));
  return {
    windows,
    kneeRatePerSec,
    firstBreachRatePerSec: firstBreach < 0 ? undefined : windows[firstBreach]?.ratePerSec,
  };
}
