import type { CheckOutcome } from '../runner/suite.ts';
import type { LoadSample } from './steady-load.ts';

/** Where a request of the burst went: straight to the replica, or through the entry point. */
type BurstRoute = 'direct' | 'via';

/** One request of the burst sent just before a SIGTERM, as the harness saw it (monotonic ms). */
export interface BurstSample {
  readonly route: BurstRoute;
  readonly label: string;
  readonly sentAtMs: number;
  readonly answeredAtMs: number;
  /** 0: no answer (reset, refused, timed out). */
  readonly status: number;
  readonly error?: string;
  /** The status is one of the request's `expectStatus`. */
  readonly expected: boolean;
}

/** One replica's SIGTERM: when it was sent, when it exited, and the burst around it. */
export interface ShutdownRound {
  readonly replica: string;
  /** Before the signal was sent, and once Docker confirmed it was delivered. */
  readonly signalStartMs: number;
  readonly signalEndMs: number;
  /** SIGTERM to container exit; undefined when it still ran after the grace period (then killed). */
  readonly drainMs?: number;
  readonly exitCode?: number;
  readonly graceMs: number;
  /** When the replica was healthy again after its restart; undefined when it did not come back. */
  readonly backAtMs?: number;
  readonly backDetail?: string;
  readonly burst: readonly BurstSample[];
}

/**
 * Classifies a burst request. In flight at the signal: sent before it was sent and answered
 * after Docker confirmed its delivery. No answer or a 5xx answered after the signal is cut by
 * the shutdown; before it, a failure of its own. Another unexpected status proves nothing. Pure.
 */
export function classifyBurstSample(s: BurstSample, round: Pick<ShutdownRound, 'signalStartMs' | 'signalEndMs'>) {
  const broken = s.status === 0 || s.status >= 500;
  const sentBefore = s.sentAtMs < round.signalStartMs;
  if (broken) return s.answeredAtMs >= round.signalStartMs ? 'cut' : 'failed-before';
  if (!s.expected) return 'no-evidence';
  return sentBefore && s.answeredAtMs > round.signalEndMs ? 'in-flight-served' : 'served-before';
}

const describeSample = (s: BurstSample, startMs: number, signalMs: number): string =>
  `${s.route} ${s.label}: sent ${Math.round(signalMs - s.sentAtMs)}ms before the SIGTERM, ${s.status === 0 ? (s.error ?? 'no answer') : String(s.status)} after ${Math.round(s.answeredAtMs - s.sentAtMs)}ms (+${Math.round(s.answeredAtMs - startMs)}ms)`;

/** Counts of one round's burst by class and route. */
export function tallyRound(round: ShutdownRound) {
  const counts = { direct: 0, via: 0, cut: [] as BurstSample[], failedBefore: [] as BurstSample[], noEvidence: 0 };
  for (const s of round.burst) {
    const cls = classifyBurstSample(s, round);
    if (cls === 'cut') counts.cut.push(s);
    else if (cls === 'failed-before') counts.failedBefore.push(s);
    else if (cls === 'no-evidence') counts.noEvidence += 1;
    if (cls === 'cut' || cls === 'in-flight-served') counts[s.route] += 1;
  }
  return counts;
}

/** The burst's lines for the evidence, one per request, with its class. */
export function burstLines(rounds: readonly ShutdownRound[]): string[] {
  return rounds.flatMap((r) => [
    `${r.replica}: SIGTERM at +0ms (Docker confirmed after ${Math.round(r.signalEndMs - r.signalStartMs)}ms), ${r.drainMs === undefined ? `still running after ${r.graceMs}ms` : `exited after ${Math.round(r.drainMs)}ms with code ${r.exitCode ?? '?'}`}`,
    ...r.burst.map((s) => `  ${classifyBurstSample(s, r)}: ${describeSample(s, r.signalStartMs, r.signalStartMs)}`),
  ]);
}

/**
 * Graceful shutdown of the requests in flight: every replica exited within its grace period and
 * no request in flight at its SIGTERM (directly or through `via`) went unanswered or got a 5xx.
 * Without a request in flight at a signal on either route the drill proves nothing: `unknown`. Pure.
 */
export function judgeInFlight(rounds: readonly ShutdownRound[], via: string): Pick<CheckOutcome, 'status' | 'message'> {
  if (rounds.length === 0) return { status: 'unknown', message: 'No replica was sent SIGTERM' };
  const problems: string[] = [];
  const none: string[] = [];
  for (const round of rounds) {
    const t = tallyRound(round);
    if (round.drainMs === undefined)
      problems.push(`${round.replica} still ran ${round.graceMs}ms after SIGTERM (killed): the shutdown hangs`);
    if (t.cut.length > 0)
      problems.push(
        `${t.cut.length} of ${t.direct + t.via} requests in flight at the SIGTERM to ${round.replica} were cut (${t.cut
          .slice(0, 3)
          .map((s) => `${s.route} ${s.label} -> ${s.status === 0 ? (s.error ?? 'no answer') : String(s.status)}`)
          .join('; ')})`,
      );
    if (t.failedBefore.length > 0)
      problems.push(`${t.failedBefore.length} requests to ${round.replica} failed before its SIGTERM`);
    if (t.direct === 0) none.push(`directly to ${round.replica}`);
    if (t.via === 0) none.push(`through ${via} while ${round.replica} stopped`);
  }
  if (problems.length > 0) return { status: 'failed', message: problems.join('; ') };
  if (none.length > 0)
    return {
      status: 'unknown',
      message: `No request was in flight at the SIGTERM ${none.join(', ')}: use slower requests, a larger burst or a shorter signalAfterMs`,
    };
  const served = rounds.map((r) => {
    const t = tallyRound(r);
    return `${r.replica}: ${t.direct} direct + ${t.via} through ${via} in flight, drained in ${Math.round(r.drainMs ?? 0)}ms`;
  });
  return { status: 'passed', message: `Every request in flight at the SIGTERM was answered (${served.join('; ')})` };
}

/** The steady-load samples sent through the entry point while a replica was going away (signal to back healthy). */
export function goingAwaySamples(rounds: readonly ShutdownRound[], samples: readonly LoadSample[], endMs: number) {
  return rounds.map((r) => ({
    replica: r.replica,
    samples: samples.filter((s) => s.atMs >= r.signalStartMs && s.atMs <= (r.backAtMs ?? endMs)),
  }));
}

/** In-window failure rate above this multiple of the rate outside the windows is the shutdown's doing. */
const CONCENTRATION = 3;

/**
 * No new request routed to a replica going away: every steady-load request sent through the entry
 * point between a SIGTERM and the replica's return was served, and each replica came back. A
 * failure there is the shutdown's when the same load did not fail as often outside those windows
 * (before the first SIGTERM, between the rounds): otherwise the failures are not concentrated
 * around the shutdowns and prove nothing about them (`unknown`). No request in a window is no
 * evidence (`unknown`). Pure.
 */
export function judgeRouting(
  rounds: readonly ShutdownRound[],
  samples: readonly LoadSample[],
  endMs: number,
  via: string,
): Pick<CheckOutcome, 'status' | 'message'> {
  if (rounds.length === 0) return { status: 'unknown', message: 'No replica was sent SIGTERM' };
  const windows = goingAwaySamples(rounds, samples, endMs);
  const inside = new Set(windows.flatMap((w) => w.samples));
  const outside = samples.filter((s) => !inside.has(s));
  const outsideFailed = outside.filter((s) => !s.ok).length;
  const insideFailed = [...inside].filter((s) => !s.ok).length;
  const problems: string[] = [];
  for (const { replica, samples: inWindow } of windows) {
    const failed = inWindow.filter((s) => !s.ok);
    if (failed.length > 0)
      problems.push(
        `${failed.length} of ${inWindow.length} new requests through ${via} failed while ${replica} was going away (${failed
          .slice(0, 3)
          .map((s) => `${s.label} -> ${s.status === 0 ? (s.error ?? 'no answer') : String(s.status)}`)
          .join('; ')})`,
      );
  }
  const notBack = rounds
    .filter((r) => r.backAtMs === undefined)
    .map((r) => `${r.replica} was not healthy again (${r.backDetail ?? 'no detail'})`);
  if (notBack.length > 0) return { status: 'failed', message: [...problems, ...notBack].join('; ') };
  if (problems.length > 0) {
    const rate = (failed: number, total: number): number => (total === 0 ? 0 : failed / total);
    const concentrated =
      outsideFailed === 0 || rate(insideFailed, inside.size) > CONCENTRATION * rate(outsideFailed, outside.length);
    const baseline = `${outsideFailed} of ${outside.length} requests of the same load failed outside those windows`;
    if (concentrated) return { status: 'failed', message: `${problems.join('; ')}; ${baseline}` };
    return {
      status: 'unknown',
      message: `${problems.join('; ')}; but ${baseline}: the failures are not concentrated around the shutdowns (the host or the system fails without them), so they prove nothing about routing`,
    };
  }
  const empty = windows.filter((w) => w.samples.length === 0).map((w) => w.replica);
  if (empty.length > 0)
    return {
      status: 'unknown',
      message: `No new request went through ${via} while ${empty.join(', ')} went away: nothing shows where they were routed`,
    };
  return {
    status: 'passed',
    message: `Every new request through ${via} was served while a replica went away (${windows.map((w) => `${w.replica}: ${w.samples.length}`).join(', ')})`,
  };
}
