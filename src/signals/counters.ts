import type { CounterSelector, LabelMatcher } from '../config/signals.ts';
import type { CheckStatus } from '../core/check-result.ts';
import { metricFamilies, parsePrometheus } from '../runner/prometheus.ts';
import type { FaultWindow } from '../stack/fault-journal.ts';

/** What one scrape shows of one configured counter: its matching series (none is 0), or why it cannot be read. */
type CounterReading =
  | { readonly kind: 'series'; readonly values: ReadonlyMap<string, number> }
  | { readonly kind: 'absent' }
  | { readonly kind: 'not-a-counter'; readonly type: string };

/** One scrape of a service's metrics endpoint: each configured counter read, or why the endpoint gave nothing. */
export type CounterScrape =
  | {
      readonly ok: true;
      readonly startMs: number;
      readonly endMs: number;
      readonly readings: readonly CounterReading[];
    }
  | { readonly ok: false; readonly startMs: number; readonly endMs: number; readonly reason: string };

/** The time between two successful scrapes, and how much each counter rose in it. */
interface CounterInterval {
  /** From the earlier scrape's request to the later one's answer: the counters changed somewhere in there. */
  readonly fromMs: number;
  readonly toMs: number;
  /** Per selector: its increase, or null when a scrape at either end could not read it. */
  readonly increases: readonly (number | null)[];
  /** Per selector: a series went down (the process restarted), so its new value was counted from zero. */
  readonly resets: readonly boolean[];
}

/** Families whose samples count up: a counter (`_total`), a histogram's or summary's `_count`, `_sum`, `_bucket`. */
const COUNTING_TYPES = new Set(['counter', 'histogram', 'summary', 'untyped', 'unknown']);
const FAMILY_SUFFIXES = ['', '_total', '_count', '_sum', '_bucket'] as const;

/** The family a sample name belongs to, as `# TYPE` declares it (`errors_total` is family `errors` in OpenMetrics). */
function familyType(name: string, families: ReadonlyMap<string, string>): string | undefined {
  for (const suffix of FAMILY_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const type = families.get(name.slice(0, name.length - suffix.length));
    if (type !== undefined) return type;
  }
  return undefined;
}

/** PromQL's matching: a label a series lacks has the value `''`. */
const matchesAll = (labels: Readonly<Record<string, string>>, matchers: readonly LabelMatcher[]): boolean =>
  matchers.every((m) => ((labels[m.label] ?? '') === m.value) === (m.op === '='));

const seriesKey = (labels: Readonly<Record<string, string>>): string =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');

/**
 * Reads the configured counters from a Prometheus text exposition. A family that is declared (`# TYPE`)
 * but has no matching series reads as none (0): a labelled counter appears on its first increment. A name
 * the exposition neither declares nor has a sample of is `absent` (a typo, or a metric not exported): never 0.
 */
export function readCounters(text: string, selectors: readonly CounterSelector[]): CounterReading[] {
  const samples = parsePrometheus(text);
  const families = metricFamilies(text);
  return selectors.map((selector): CounterReading => {
    const type = familyType(selector.name, families);
    if (type !== undefined && !COUNTING_TYPES.has(type)) return { kind: 'not-a-counter', type };
    const named = samples.filter((s) => s.name === selector.name);
    if (named.length === 0 && type === undefined) return { kind: 'absent' };
    const values = new Map<string, number>();
    for (const s of named)
      if (Number.isFinite(s.value) && matchesAll(s.labels, selector.matchers)) values.set(seriesKey(s.labels), s.value);
    return { kind: 'series', values };
  });
}

/** How much a counter rose between two readings, each series on its own; a series that went down restarted from zero. */
function increaseBetween(before: CounterReading, after: CounterReading): { increase: number | null; reset: boolean } {
  if (before.kind !== 'series' || after.kind !== 'series') return { increase: null, reset: false };
  let increase = 0;
  let reset = false;
  for (const [key, value] of after.values) {
    const was = before.values.get(key);
    if (was === undefined) increase += value;
    else if (value >= was) increase += value - was;
    else {
      reset = true;
      increase += value;
    }
  }
  // A series that vanished: the process restarted and has not counted it again yet.
  for (const key of before.values.keys()) if (!after.values.has(key)) reset = true;
  return { increase, reset };
}

/** Why a reading cannot be judged, or null when it can. */
function unreadableReason(reading: CounterReading, selector: CounterSelector): string | null {
  switch (reading.kind) {
    case 'series':
      return null;
    case 'absent':
      return `${selector.name} is not exposed at all (no sample and no # TYPE line): check the name, or have the service declare it at start`;
    case 'not-a-counter':
      return `${selector.name} is a ${reading.type}, not a counter: its increase means nothing`;
  }
}

const mergeTwo = (a: CounterInterval, b: CounterInterval): CounterInterval => ({
  fromMs: a.fromMs,
  toMs: b.toMs,
  increases: a.increases.map((x, i) => {
    const y = b.increases[i];
    return x === null || y === null || y === undefined ? null : x + y;
  }),
  resets: a.resets.map((x, i) => x || (b.resets[i] ?? false)),
});

/**
 * The scrapes of one service's counters over one stage, kept as intervals between successful scrapes. A
 * failed scrape leaves no interval (the counters are cumulative: the next success spans the gap). Bounded:
 * past `maxIntervals`, neighbouring intervals are merged two by two (`merges` says how often), so a long
 * stage costs no more memory, only coarser fault exclusion.
 */
export class CounterTrack {
  readonly selectors: readonly CounterSelector[];
  readonly #maxIntervals: number;
  #intervals: CounterInterval[] = [];
  #last: Extract<CounterScrape, { ok: true }> | undefined;
  #scrapes = 0;
  #failed = 0;
  #firstFailure: string | undefined;
  #firstOk: boolean | undefined;
  #lastOk = false;
  #lastReason: string | undefined;
  readonly #unreadable: (string | null)[];
  #merges = 0;

  constructor(selectors: readonly CounterSelector[], maxIntervals = 256) {
    this.selectors = selectors;
    this.#maxIntervals = Math.max(2, maxIntervals);
    this.#unreadable = selectors.map(() => null);
  }

  /** How many times the intervals were merged two by two (the sampler doubles its period as often). */
  get merges(): number {
    return this.#merges;
  }

  add(scrape: CounterScrape): void {
    this.#scrapes += 1;
    this.#firstOk ??= scrape.ok;
    this.#lastOk = scrape.ok;
    if (!scrape.ok) {
      this.#failed += 1;
      this.#firstFailure ??= scrape.reason;
      this.#lastReason = scrape.reason;
      return;
    }
    scrape.readings.forEach((reading, i) => {
      const selector = this.selectors[i];
      if (selector && this.#unreadable[i] === null) this.#unreadable[i] = unreadableReason(reading, selector);
    });
    const before = this.#last;
    this.#last = scrape;
    if (!before) return;
    const steps = this.selectors.map((_s, i) => {
      const was = before.readings[i];
      const now = scrape.readings[i];
      return was && now ? increaseBetween(was, now) : { increase: null, reset: false };
    });
    this.#intervals.push({
      fromMs: before.startMs,
      toMs: scrape.endMs,
      increases: steps.map((s) => s.increase),
      resets: steps.map((s) => s.reset),
    });
    if (this.#intervals.length > this.#maxIntervals) this.#merge();
  }

  #merge(): void {
    const merged: CounterInterval[] = [];
    for (let i = 0; i < this.#intervals.length; i += 2) {
      const a = this.#intervals[i];
      const b = this.#intervals[i + 1];
      if (a) merged.push(b ? mergeTwo(a, b) : a);
    }
    this.#intervals = merged;
    this.#merges += 1;
  }

  /** What the scrapes showed so far. */
  snapshot(): CounterRecord {
    return {
      selectors: this.selectors,
      scrapes: this.#scrapes,
      failedScrapes: this.#failed,
      firstFailure: this.#firstFailure,
      startRead: this.#firstOk === true,
      endRead: this.#lastOk,
      lastFailure: this.#lastReason,
      unreadable: [...this.#unreadable],
      intervals: [...this.#intervals],
    };
  }
}

/** One service's counters over one stage, as scraped. */
export interface CounterRecord {
  readonly selectors: readonly CounterSelector[];
  readonly scrapes: number;
  readonly failedScrapes: number;
  readonly firstFailure: string | undefined;
  readonly lastFailure: string | undefined;
  /** Whether the scrape at the start of the stage, and the last one (its end), read the endpoint. */
  readonly startRead: boolean;
  readonly endRead: boolean;
  /** Per selector: why a scrape could not read it (the first reason), or null. */
  readonly unreadable: readonly (string | null)[];
  readonly intervals: readonly CounterInterval[];
}

/** The counters part of a service's signals check. */
interface CounterVerdict {
  readonly status: Extract<CheckStatus, 'passed' | 'failed' | 'unknown'>;
  readonly message: string;
  /** Per selector, its increase over the judged intervals. */
  readonly increases: readonly { readonly selector: string; readonly increase: number }[];
  readonly total: number;
  readonly judgedIntervals: number;
  readonly excludedIntervals: number;
  /** The judged intervals in which a counter rose or restarted, one line each. */
  readonly evidence: readonly string[];
}

/** What `judgeCounters` needs besides the record. */
export interface CounterJudgeInput {
  readonly service: string;
  readonly stage: string;
  /** Where the counters were scraped (named in the message). */
  readonly url: string;
  readonly faults: readonly FaultWindow[];
  readonly budget: number;
  readonly evidenceLines: number;
}

const overlapsFault = (interval: CounterInterval, faults: readonly FaultWindow[]): boolean =>
  faults.some((w) => interval.fromMs <= (w.endMs ?? Infinity) && interval.toMs >= w.startMs);

/** Every counter read, and none moved: the interval was quiet in every part of it, the faulted part too. */
const unmoved = (interval: CounterInterval): boolean =>
  interval.increases.every((x) => x === 0) && !interval.resets.some(Boolean);

const iso = (ms: number): string => new Date(ms).toISOString();
const count = (n: number, noun: string): string => `${String(n)} ${noun}${n === 1 ? '' : 's'}`;

/**
 * Judges a service's dependency error counters over one stage: the increases of the intervals that
 * overlap no fault window (nor its settle time), summed over the counters, against the budget. An interval
 * that overlaps one is left out only when a counter moved in it (that increase may be the fault's): one in
 * which none moved shows its quiet part quiet too, so a stage shorter than the scrape period still gets
 * judged around a fault. Over budget fails, with the intervals that rose; otherwise a counter it could not
 * read (the endpoint unreachable at the stage's start or end, a counter not exposed, not a counter) or no
 * interval left to judge is `unknown`, never a pass.
 */
export function judgeCounters(record: CounterRecord, input: CounterJudgeInput): CounterVerdict {
  const judged = record.intervals.filter((i) => unmoved(i) || !overlapsFault(i, input.faults));
  const excludedIntervals = record.intervals.length - judged.length;
  const increases = record.selectors.map((selector, i) => ({
    selector: selector.text,
    increase: judged.reduce((sum, interval) => sum + (interval.increases[i] ?? 0), 0),
  }));
  const total = increases.reduce((sum, c) => sum + c.increase, 0);
  const evidence = judged
    .flatMap((interval) =>
      record.selectors.flatMap((selector, i) => {
        const increase = interval.increases[i] ?? 0;
        const reset = interval.resets[i] ?? false;
        if (increase === 0 && !reset) return [];
        const restarted = reset ? ' (went down: the process restarted; its new value counted from zero)' : '';
        return [`${iso(interval.fromMs)} .. ${iso(interval.toMs)} ${selector.text} +${String(increase)}${restarted}`];
      }),
    )
    .slice(0, input.evidenceLines);
  const restarts = judged.filter((interval) => interval.resets.some(Boolean)).length;
  const each = increases.map((c) => `${c.selector} +${String(c.increase)}`).join(', ');
  const leftOut = record.selectors
    .map((selector, i) => ({
      selector: selector.text,
      increase: record.intervals
        .filter((interval) => !judged.includes(interval))
        .reduce((sum, interval) => sum + (interval.increases[i] ?? 0), 0),
    }))
    .filter((c) => c.increase > 0)
    .map((c) => `${c.selector} +${String(c.increase)}`);
  const scope = [
    `${count(record.scrapes, 'scrape')} of ${input.url} (${String(record.failedScrapes)} failed)`,
    `${count(judged.length, 'interval')} judged`,
    `${String(excludedIntervals)} left out as faulted${leftOut.length > 0 ? ` (rose in them: ${leftOut.join(', ')})` : ''}`,
    ...(restarts > 0 ? [`${String(restarts)} with a counter that went down (restart: counted from zero)`] : []),
  ].join(', ');
  const tally = `${String(total)} dependency errors (budget ${String(input.budget)}): ${each}`;
  const base = { increases, total, judgedIntervals: judged.length, excludedIntervals, evidence };
  if (total > input.budget)
    return {
      ...base,
      status: 'failed',
      message: `${input.service}'s dependency error counters rose over budget in ${input.stage} without any fault injected: ${tally}; ${scope}. First: ${evidence[0] ?? ''}`,
    };
  const unknown = [
    ...(record.startRead
      ? []
      : [`the scrape at the start of ${input.stage} failed (${record.firstFailure ?? 'no scrape was taken'})`]),
    ...(record.endRead
      ? []
      : [`the scrape at the end of ${input.stage} failed (${record.lastFailure ?? 'no scrape was taken'})`]),
    ...record.selectors.flatMap((selector, i) => {
      const why = record.unreadable[i];
      return why ? [`${selector.text}: ${why}`] : [];
    }),
    ...(record.startRead && record.endRead && judged.length === 0
      ? [`a counter moved in every interval between scrapes, and each overlapped a fault window, so none was judged`]
      : []),
  ];
  if (unknown.length > 0)
    return {
      ...base,
      status: 'unknown',
      message: `${input.service}'s dependency error counters in ${input.stage} are not known: ${unknown.join('; ')}; ${tally}; ${scope}`,
    };
  return { ...base, status: 'passed', message: `counters: ${tally}; ${scope}` };
}
