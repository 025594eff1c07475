import type { CounterSelector } from '../config/signals.ts';
import { systemClock } from '../core/clock.ts';
import type { Clock } from '../core/clock.ts';
import { httpExchange } from '../runner/http.ts';
import { CounterTrack, readCounters } from './counters.ts';
import type { CounterScrape } from './counters.ts';

/** How a sampler scrapes one service's metrics endpoint. */
interface CounterSamplerOptions {
  /**
   * The endpoint as the harness reaches it (the service's host-mapped port on loopback), resolved for each
   * scrape: a restarted container's host port moves. Throws when it cannot be resolved (a failed scrape).
   */
  readonly url: () => string;
  readonly selectors: readonly CounterSelector[];
  readonly intervalMs: number;
  /** It stops scraping on its own after this long (the stage deadline), should nobody stop it. */
  readonly maxDurationMs: number;
  readonly clock?: Clock;
}

/** Prometheus' text format first: a server that negotiates must not answer OpenMetrics or protobuf. */
const ACCEPT = 'text/plain;version=0.0.4;q=1,*/*;q=0.1';

/**
 * Scrapes one service's dependency error counters from the start of a stage until `stop()`: once at
 * `start()`, every `intervalMs` after the previous scrape ended (doubled each time the track merges its
 * intervals), and once more at `stop()`. Never throws for the endpoint: a failed scrape is recorded with
 * its reason. Its timer does not keep the process alive.
 */
export class CounterSampler {
  /** The endpoint of the last scrape. */
  url = '';
  readonly #options: CounterSamplerOptions;
  readonly #clock: Clock;
  readonly #track: CounterTrack;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #startedMs = 0;
  #stopped = false;

  constructor(options: CounterSamplerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#track = new CounterTrack(options.selectors);
  }

  async #scrape(): Promise<void> {
    const startMs = this.#clock.now();
    const timeoutMs = Math.min(5_000, Math.max(1_000, this.#options.intervalMs));
    try {
      this.url = this.#options.url();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#track.add({ ok: false, startMs, endMs: this.#clock.now(), reason });
      return;
    }
    let outcome;
    try {
      outcome = await httpExchange(this.url, {
        method: 'GET',
        headers: { accept: ACCEPT },
        timeoutMs,
        signal: this.#abort.signal,
      });
    } catch (error) {
      // Only an abort throws: `dispose()` ended the sampler, and its track is no longer read.
      if (this.#abort.signal.aborted) return;
      throw error;
    }
    const endMs = this.#clock.now();
    const scrape: CounterScrape =
      outcome.status >= 200 && outcome.status < 300
        ? { ok: true, startMs, endMs, readings: readCounters(outcome.body, this.#options.selectors) }
        : {
            ok: false,
            startMs,
            endMs,
            reason:
              outcome.status === 0
                ? `GET ${this.url}: ${outcome.error ?? 'no answer'}`
                : `GET ${this.url} answered ${String(outcome.status)}`,
          };
    this.#track.add(scrape);
  }

  #schedule(): void {
    if (this.#stopped || this.#clock.now() - this.#startedMs >= this.#options.maxDurationMs) return;
    this.#timer = setTimeout(
      () => {
        this.#inFlight = this.#scrape().then(() => {
          this.#schedule();
        });
      },
      this.#options.intervalMs * 2 ** this.#track.merges,
    );
    this.#timer.unref();
  }

  /** Takes the first scrape (the stage's start) and schedules the next ones. */
  async start(): Promise<void> {
    this.#startedMs = this.#clock.now();
    await this.#scrape();
    this.#schedule();
  }

  /** Stops the periodic scrapes, takes the last one (the stage's end) and returns the track. */
  async stop(): Promise<CounterTrack> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#inFlight;
    await this.#scrape();
    return this.#track;
  }

  /** Ends a sampler whose stage never reached its signals check: no further scrape, the one in flight aborted. */
  dispose(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
  }
}
