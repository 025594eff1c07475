import type { Clock } from '../core/clock.ts';
import type { HttpOutcome } from '../runner/http.ts';

/** One request of the steady load, as the harness saw it. */
export interface LoadSample {
  /** Monotonic time the request was sent. */
  readonly atMs: number;
  readonly label: string;
  readonly status: number;
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly error?: string;
}

/** Totals of a load run, and the failures grouped by what was seen. */
export interface LoadSummary {
  readonly total: number;
  readonly failed: number;
  /** `GET /v1/orders -> 502` -> count, most frequent first. */
  readonly failureKinds: readonly { readonly kind: string; readonly count: number }[];
  readonly firstFailureAtMs?: number;
  readonly lastFailureAtMs?: number;
}

/** Summarizes samples; with `fromMs`/`toMs`, only those sent in that window. Pure. */
export function summarizeLoad(samples: readonly LoadSample[], fromMs = -Infinity, toMs = Infinity): LoadSummary {
  const inWindow = samples.filter((s) => s.atMs >= fromMs && s.atMs <= toMs);
  const failedSamples = inWindow.filter((s) => !s.ok);
  const kinds = new Map<string, number>();
  for (const s of failedSamples) {
    const kind = `${s.label} -> ${s.status === 0 ? (s.error ?? 'no answer') : String(s.status)}`;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const failureKinds = [...kinds.entries()]
    .map(([kind, count]) => ({ kind, count }))
    .sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind));
  const first = failedSamples[0];
  const last = failedSamples.at(-1);
  return {
    total: inWindow.length,
    failed: failedSamples.length,
    failureKinds,
    ...(first ? { firstFailureAtMs: first.atMs } : {}),
    ...(last ? { lastFailureAtMs: last.atMs } : {}),
  };
}

interface SteadyLoadOptions {
  readonly ratePerSec: number;
  readonly maxInFlight: number;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Sends request number `i` (the caller cycles its request list); never throws for the system's behaviour. */
  readonly send: (i: number) => Promise<{ label: string; outcome: HttpOutcome; ok: boolean }>;
}

/**
 * An open-model load: one request every 1/rate s whatever the answers, at most `maxInFlight`
 * outstanding (a request that cannot be sent because the target holds every slot counts as failed,
 * so a hung service shows up instead of slowing the load down).
 */
export class SteadyLoad {
  readonly samples: LoadSample[] = [];
  readonly #options: SteadyLoadOptions;
  readonly #inFlight = new Set<Promise<void>>();
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(options: SteadyLoadOptions) {
    this.#options = options;
  }

  start(): this {
    this.#loop = this.#run();
    return this;
  }

  async #run(): Promise<void> {
    const { clock, signal, ratePerSec, maxInFlight } = this.#options;
    const intervalMs = 1000 / ratePerSec;
    const startMs = clock.monotonicMs();
    const isStopped = (): boolean => this.#stopped || signal.aborted;
    for (let i = 0; !isStopped(); i += 1) {
      const dueMs = startMs + i * intervalMs;
      const waitMs = dueMs - clock.monotonicMs();
      if (waitMs > 0) await clock.sleep(waitMs, signal).catch(() => undefined);
      if (isStopped()) break;
      const atMs = clock.monotonicMs();
      if (this.#inFlight.size >= maxInFlight) {
        this.#failed(atMs, `not sent: ${maxInFlight} requests still in flight`);
        continue;
      }
      const request = this.#options
        .send(i)
        .then(({ label, outcome, ok }) => {
          this.samples.push({
            atMs,
            label,
            status: outcome.status,
            ok,
            latencyMs: outcome.latencyMs,
            ...(outcome.error === undefined ? {} : { error: outcome.error }),
          });
        })
        .catch((error: unknown) => {
          this.#failed(atMs, error instanceof Error ? error.message : String(error));
        })
        .finally(() => this.#inFlight.delete(request));
      this.#inFlight.add(request);
    }
  }

  /** A request that got no answer: not sent, or the sender threw. */
  #failed(atMs: number, error: string): void {
    this.samples.push({ atMs, label: 'load', status: 0, ok: false, latencyMs: 0, error });
  }

  /** Stops sending and waits for the requests in flight (each is bounded by its own timeout). */
  async stop(): Promise<LoadSample[]> {
    this.#stopped = true;
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
    return [...this.samples].sort((a, b) => a.atMs - b.atMs);
  }
}
