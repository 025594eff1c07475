import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { LoadConfig, LoadSlo } from '../config/stages/load.ts';
import { percentile } from './k6-samples.ts';
import type { TimedSample } from './k6-samples.ts';

/** One window of the knee probe: what was reached and whether the SLO held. */
interface KneeWindow {
  readonly startSec: number;
  readonly requests: number;
  readonly ratePerSec: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly errorRate: number;
  readonly sloHeld: boolean;
}

interface KneeResult {
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

const kneeWindowSchema = z.strictObject({
  startSec: z.number(),
  requests: z.number(),
  ratePerSec: z.number(),
  p95Ms: z.number(),
  p99Ms: z.number(),
  errorRate: z.number(),
  sloHeld: z.boolean(),
});

/** `<run>/load/knee.json`: the capacity knee's figures (a check only with `floorRatePerSec`). */
const kneeFiguresSchema = z.strictObject({
  schemaVersion: z.literal(1),
  status: z.enum(['measured', 'no-requests', 'broken']),
  message: z.string(),
  fromRatePerSec: z.number(),
  toRatePerSec: z.number(),
  windowSec: z.number(),
  floorRatePerSec: z.number().optional(),
  slo: z.record(z.string(), z.number()),
  kneeRatePerSec: z.number().optional(),
  firstBreachRatePerSec: z.number().optional(),
  maxReachedRatePerSec: z.number().optional(),
  windows: z.array(kneeWindowSchema),
});
export type KneeFigures = z.infer<typeof kneeFiguresSchema>;

/** Writes `knee.json` (validated, so a reader can parse it). */
export async function writeKneeFigures(file: string, figures: KneeFigures): Promise<void> {
  await writeFile(file, `${JSON.stringify(kneeFiguresSchema.parse(figures), null, 2)}\n`);
}

/** Reads `<run>/load/knee.json`. */
export async function readKneeFigures(file: string): Promise<KneeFigures> {
  return kneeFiguresSchema.parse(JSON.parse(await readFile(file, 'utf8')) as unknown);
}

/** The knee's windows as CSV (one row per window). */
export function kneeWindowsCsv(figures: Pick<KneeFigures, 'windows'>): string {
  return [
    'start_s,requests,rps,p95_ms,p99_ms,error_rate,slo_held',
    ...figures.windows.map(
      (w) => `${w.startSec},${w.requests},${w.ratePerSec},${w.p95Ms},${w.p99Ms},${w.errorRate},${w.sloHeld}`,
    ),
  ].join('\n');
}

type KneeProbe = Pick<LoadConfig['knee'] & object, 'fromRatePerSec' | 'toRatePerSec' | 'windowSec' | 'floorRatePerSec'>;

const round = (n: number): number => Math.round(n * 1000) / 1000;

function kneeBase(knee: KneeProbe, slo: LoadSlo): Omit<KneeFigures, 'status' | 'message' | 'windows'> {
  return {
    schemaVersion: 1,
    fromRatePerSec: knee.fromRatePerSec,
    toRatePerSec: knee.toRatePerSec,
    windowSec: knee.windowSec,
    ...(knee.floorRatePerSec === undefined ? {} : { floorRatePerSec: knee.floorRatePerSec }),
    slo,
  };
}

/** Figures of a knee probe that could not run. */
export function kneeBroken(message: string, knee: KneeProbe, slo: LoadSlo): KneeFigures {
  return { ...kneeBase(knee, slo), status: 'broken', message, windows: [] };
}

/** The figures of a judged knee probe: knee, first breach and highest reached rate, and every window. */
export function kneeFigures(result: KneeResult, knee: KneeProbe, slo: LoadSlo): KneeFigures {
  const windows = result.windows.map((w) => ({
    ...w,
    ratePerSec: round(w.ratePerSec),
    p95Ms: round(w.p95Ms),
    p99Ms: round(w.p99Ms),
    errorRate: round(w.errorRate),
  }));
  if (windows.length === 0)
    return { ...kneeBase(knee, slo), status: 'no-requests', message: 'the knee probe recorded no requests', windows };
  const message =
    result.kneeRatePerSec === undefined
      ? 'the SLO did not hold even at the lowest rate'
      : `the SLO held up to ${round(result.kneeRatePerSec)} req/s${result.firstBreachRatePerSec === undefined ? ' (never broke within the probe: the knee is above it)' : `, first broke at ${round(result.firstBreachRatePerSec)} req/s`}`;
  return {
    ...kneeBase(knee, slo),
    status: 'measured',
    message,
    ...(result.kneeRatePerSec === undefined ? {} : { kneeRatePerSec: round(result.kneeRatePerSec) }),
    ...(result.firstBreachRatePerSec === undefined
      ? {}
      : { firstBreachRatePerSec: round(result.firstBreachRatePerSec) }),
    maxReachedRatePerSec: round(Math.max(0, ...result.windows.map((w) => w.ratePerSec))),
    windows,
  };
}
