import { setTimeout as delay } from 'node:timers/promises';

/** Time source, injectable so polling logic is testable without real waits. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds, for durations. */
  monotonicMs(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
  sleep: async (ms, signal) => {
    await delay(ms, undefined, signal ? { signal } : undefined);
  },
};

interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
}

type PollOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly elapsedMs: number; readonly attempts: number }
  | {
      readonly ok: false;
      readonly last: T | undefined;
      readonly lastError: unknown;
      readonly elapsedMs: number;
      readonly attempts: number;
    };

/**
 * Calls `probe` until `accept` holds or the deadline passes; never a fixed sleep.
 * Errors thrown by the probe count as not accepted and are kept as `lastError`.
 */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  options: PollOptions,
): Promise<PollOutcome<T>> {
  const clock = options.clock ?? systemClock;
  const intervalMs = options.intervalMs ?? 100;
  const start = clock.monotonicMs();
  let last: T | undefined;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    attempts += 1;
    try {
      last = await probe();
      lastError = undefined;
      if (accept(last)) return { ok: true, value: last, elapsedMs: clock.monotonicMs() - start, attempts };
    } catch (error) {
      lastError = error;
    }
    const elapsedMs = clock.monotonicMs() - start;
    if (elapsedMs >= options.timeoutMs) return { ok: false, last, lastError, elapsedMs, attempts };
    await clock.sleep(Math.min(intervalMs, Math.max(0, options.timeoutMs - elapsedMs)), options.signal);
  }
}
