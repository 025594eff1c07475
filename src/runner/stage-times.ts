import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Clock } from '../core/clock.ts';
import { ReadinessError } from '../core/errors.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import { HostLoadMonitor } from './host-load.ts';
import type { HostLoad, HostLoadSampler } from './host-load.ts';

/** Where a run records when its stack-up, each stage and its teardown started and ended (epoch ms). */
export const STAGE_TIMES_FILE = 'stage-times.json';

const hostLoadSchema = z.strictObject({
  cores: z.number().int().positive(),
  maxLoadPerCore: z.number().min(0),
  busyRatio: z.number().min(0).max(1).optional(),
  peakBusyRatio: z.number().min(0).max(1).optional(),
  stealRatio: z.number().min(0).max(1).optional(),
  samples: z.number().int().positive(),
});
const spanSchema = z.strictObject({
  startedAt: z.number().int(),
  finishedAt: z.number().int(),
  /** The host's load over the part (sampled every 5 s and at both ends): whether the host was quiet while it ran. */
  hostLoad: hostLoadSchema.optional(),
});
/** One timed part of a run: start and end, epoch milliseconds, and the host's load over it. */
type Span = z.output<typeof spanSchema>;

/** `stage-times.json`: the run's parts in the order they ran; `stackUp` is absent when nothing was started (`--target`). */
const stageTimesSchema = z.strictObject({
  schemaVersion: z.literal(1),
  stackUp: spanSchema.optional(),
  stages: z.array(spanSchema.extend({ stage: z.enum(STAGES) })),
  teardown: spanSchema.optional(),
});
type StageTimes = z.output<typeof stageTimesSchema>;

/**
 * Records the spans of a run as it goes, each with the host's load over it when a sampler is given;
 * `toJSON` gives what `stage-times.json` holds.
 */
export class StageTimer {
  readonly #clock: Clock;
  readonly #hostLoad: HostLoadSampler | undefined;
  #stackUp: Span | undefined;
  readonly #stages: (Span & { stage: Stage })[] = [];
  #teardown: Span | undefined;

  constructor(clock: Clock, hostLoad?: HostLoadSampler) {
    this.#clock = clock;
    this.#hostLoad = hostLoad;
  }

  /** Runs `work` and records its span (also when it throws). */
  async time<T>(part: 'stackUp' | 'teardown' | Stage, work: () => Promise<T>): Promise<T> {
    const startedAt = this.#clock.now();
    const monitor = this.#hostLoad ? new HostLoadMonitor(this.#hostLoad) : undefined;
    monitor?.start();
    try {
      return await work();
    } finally {
      const load: HostLoad | undefined = monitor?.stop();
      const span = { startedAt, finishedAt: this.#clock.now(), ...(load ? { hostLoad: load } : {}) };
      if (part === 'stackUp') this.#stackUp = span;
      else if (part === 'teardown') this.#teardown = span;
      else this.#stages.push({ stage: part, ...span });
    }
  }

  toJSON(): StageTimes {
    return {
      schemaVersion: 1,
      ...(this.#stackUp ? { stackUp: this.#stackUp } : {}),
      stages: [...this.#stages],
      ...(this.#teardown ? { teardown: this.#teardown } : {}),
    };
  }
}

/** Writes `stage-times.json`. */
export async function writeStageTimes(file: string, timer: StageTimer): Promise<void> {
  await writeFile(file, `${JSON.stringify(timer.toJSON(), null, 2)}\n`);
}

/** Reads and validates a `stage-times.json`; throws naming the file and the first bad key. */
export async function readStageTimes(file: string): Promise<StageTimes> {
  const parsed = stageTimesSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ReadinessError(
      'STAGE_TIMES_INVALID',
      `${file}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`.replace(/: {2}/, ': '),
    );
  }
  return parsed.data;
}
