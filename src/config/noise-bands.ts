import { z } from 'zod';
import { checkPatternSchema } from './properties.ts';

/** Which way a key figure gets worse. */
const NOISE_BAND_DIRECTIONS = ['higher', 'lower'] as const;
type NoiseBandDirection = (typeof NOISE_BAND_DIRECTIONS)[number];

/**
 * How far a figure may move between two runs before it counts as changed: beyond `ratio` of the earlier
 * value and beyond `minDelta` (in the figure's unit, for values near 0). `worseWhen` says which way is worse.
 */
export interface NoiseBand {
  /** A figure id, or a family ('*' as in check patterns: `boot.startup.*`). */
  readonly figure: string;
  readonly worseWhen: NoiseBandDirection;
  readonly ratio: number;
  readonly minDelta?: number;
}

/** The built-in noise bands (`policy.noiseBands` changes, adds or turns off bands by figure): a figure without one is not compared. */
export const DEFAULT_NOISE_BANDS: readonly NoiseBand[] = [
  { figure: 'load.knee', worseWhen: 'lower', ratio: 0.2 },
  { figure: 'load.baseline.p95', worseWhen: 'higher', ratio: 0.3, minDelta: 5 },
  { figure: 'load.baseline.p99', worseWhen: 'higher', ratio: 0.3, minDelta: 5 },
  { figure: 'load.baseline.error-rate', worseWhen: 'higher', ratio: 0.5, minDelta: 0.005 },
  { figure: 'fault.p95.worst', worseWhen: 'higher', ratio: 0.3, minDelta: 5 },
  { figure: 'chaos.time-to-detect.*', worseWhen: 'higher', ratio: 0.5, minDelta: 250 },
  { figure: 'chaos.time-to-recover.*', worseWhen: 'higher', ratio: 0.5, minDelta: 250 },
  { figure: 'recovery.rto', worseWhen: 'higher', ratio: 0.3, minDelta: 500 },
  { figure: 'recovery.rpo.window', worseWhen: 'higher', ratio: 0.5, minDelta: 500 },
  { figure: 'recovery.rpo.lost-writes', worseWhen: 'higher', ratio: 0, minDelta: 0.5 },
  { figure: 'recovery.crash.recovery', worseWhen: 'higher', ratio: 0.3, minDelta: 500 },
  { figure: 'recovery.rolling.failed-requests', worseWhen: 'higher', ratio: 0, minDelta: 0.5 },
  { figure: 'boot.startup.*', worseWhen: 'higher', ratio: 0.5, minDelta: 1000 },
  { figure: 'load.memory-retained.*', worseWhen: 'higher', ratio: 0.5, minDelta: 5 },
];

const noiseBandEntrySchema = z.strictObject({
  worseWhen: z.enum(NOISE_BAND_DIRECTIONS).optional(),
  /** A ratio of the earlier value (0.2 = 20%); may exceed 1. */
  ratio: z.number().nonnegative().optional(),
  /** The smallest move that counts, in the figure's unit. */
  minDelta: z.number().nonnegative().optional(),
});

const builtIn = (figure: string): NoiseBand | undefined => DEFAULT_NOISE_BANDS.find((b) => b.figure === figure);

/**
 * `policy.noiseBands`, by figure id or family: changes a built-in band (keys not given keep the built-in
 * value), adds one (`worseWhen` and `ratio` required), or `false` turns a built-in one off. Resolved to the
 * bands in matching order: the config's new bands as written, then the built-in ones.
 */
export const noiseBandsConfigSchema = z
  .record(checkPatternSchema, z.union([z.literal(false), noiseBandEntrySchema]))
  .superRefine((entries, ctx) => {
    for (const [figure, entry] of Object.entries(entries)) {
      if (builtIn(figure) !== undefined) continue;
      if (entry === false) {
        ctx.addIssue({
          code: 'custom',
          path: [figure],
          message: `turns off a band that is not built in (built in: ${DEFAULT_NOISE_BANDS.map((b) => b.figure).join(', ')}); a figure without a band is not compared`,
        });
        continue;
      }
      for (const key of (['worseWhen', 'ratio'] as const).filter((k) => entry[k] === undefined))
        ctx.addIssue({ code: 'custom', path: [figure, key], message: 'is required for a band that is not built in' });
    }
  })
  .transform((entries): NoiseBand[] => {
    const added = Object.entries(entries).flatMap(([figure, entry]): NoiseBand[] =>
      entry === false || builtIn(figure) !== undefined
        ? []
        : [{ figure, worseWhen: entry.worseWhen ?? 'higher', ratio: entry.ratio ?? 0, ...pickMinDelta(entry) }],
    );
    const builtIns = DEFAULT_NOISE_BANDS.flatMap((band): NoiseBand[] => {
      const entry = entries[band.figure];
      if (entry === false) return [];
      return entry === undefined ? [band] : [{ ...band, ...definedOf(entry) }];
    });
    return [...added, ...builtIns];
  })
  .optional()
  .describe(
    "Noise bands of the 'what changed' comparison, by figure id or family ('*'): { worseWhen, ratio, minDelta } " +
      'changes a built-in band or adds one; false turns a built-in one off. Built in: ' +
      DEFAULT_NOISE_BANDS.map(
        (b) =>
          `${b.figure} ${b.worseWhen === 'lower' ? '-' : '+'}${(b.ratio * 100).toString()}%` +
          (b.minDelta === undefined ? '' : ` (min ${b.minDelta.toString()})`),
      ).join(', ') +
      ' (docs/certification.md).',
  );

function pickMinDelta(entry: z.output<typeof noiseBandEntrySchema>): { minDelta?: number } {
  return entry.minDelta === undefined ? {} : { minDelta: entry.minDelta };
}

function definedOf(entry: z.output<typeof noiseBandEntrySchema>): Partial<Omit<NoiseBand, 'figure'>> {
  return {
    ...(entry.worseWhen === undefined ? {} : { worseWhen: entry.worseWhen }),
    ...(entry.ratio === undefined ? {} : { ratio: entry.ratio }),
    ...pickMinDelta(entry),
  };
}
