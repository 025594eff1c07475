import type { SignalClass } from '../config/signals.ts';
import { SIGNAL_CLASSES } from '../config/signals.ts';
import type { CheckStatus } from '../core/check-result.ts';
import { inFaultWindow } from '../stack/fault-journal.ts';
import type { FaultWindow } from '../stack/fault-journal.ts';
import { FOLLOW_FAILED_MARK, timestampNs } from '../stack/service-logs.ts';
import { classifyLine } from './classify.ts';
import type { SignalRules } from './classify.ts';

/** One service's log over one stage, as judged. */
interface ServiceSignals {
  readonly status: Extract<CheckStatus, 'passed' | 'failed' | 'unknown'>;
  readonly message: string;
  /** Lines of the window outside every fault window, and those left out. */
  readonly judgedLines: number;
  readonly excludedLines: number;
  readonly counts: Readonly<Record<SignalClass, number>>;
  /** The first offending lines of each class over budget, as logged (Docker timestamp included). */
  readonly offending: readonly string[];
}

/** What `judgeServiceLog` needs besides the log text. */
export interface JudgeInput {
  readonly service: string;
  readonly stage: string;
  /** The stage's span, ms since the epoch. */
  readonly fromMs: number;
  readonly toMs: number;
  readonly faults: readonly FaultWindow[];
  readonly rules: SignalRules;
  /** Per class, the lines allowed (the config's `signals.budgets`). */
  readonly budgets: Readonly<Record<SignalClass, number>>;
  readonly evidenceLines: number;
}

const CLASS_WORDS: Readonly<Record<SignalClass, string>> = {
  fatal: 'fatal',
  error: 'error',
  serverError: '5xx',
};

/** Splits a line of `docker logs --timestamps` into its time (ms) and what the service wrote. */
function splitLine(line: string): { atMs: number; payload: string } | null {
  const ns = timestampNs(line);
  if (ns === null) return null;
  return { atMs: Number(ns / 1_000_000n), payload: line.slice(line.indexOf(' ') + 1) };
}

/**
 * Counts the error signals of one service's log (the follower's file: Docker-timestamped lines)
 * between `fromMs` and `toMs`, leaving out the lines logged in a fault window, and judges them
 * against the budgets: any class over its budget fails, with the first offending lines. A log the
 * follower lost is `unknown`: no line is not the same as no error then.
 */
export function judgeServiceLog(text: string, input: JudgeInput): ServiceSignals {
  const counts: Record<SignalClass, number> = { fatal: 0, error: 0, serverError: 0 };
  const lines: Record<SignalClass, string[]> = { fatal: [], error: [], serverError: [] };
  let judgedLines = 0;
  let excludedLines = 0;
  if (text.split('\n').some((line) => line.startsWith(FOLLOW_FAILED_MARK))) {
    return {
      status: 'unknown',
      message: `The log of ${input.service} was not followed whole (the follower lost it), so its error signals in ${input.stage} are not known`,
      judgedLines,
      excludedLines,
      counts,
      offending: [],
    };
  }
  for (const line of text.split('\n')) {
    const entry = splitLine(line);
    if (!entry || entry.atMs < input.fromMs || entry.atMs > input.toMs) continue;
    if (inFaultWindow(input.faults, entry.atMs)) {
      excludedLines += 1;
      continue;
    }
    judgedLines += 1;
    const signal = classifyLine(entry.payload, input.rules);
    if (signal === null) continue;
    counts[signal] += 1;
    if (lines[signal].length < input.evidenceLines) lines[signal].push(line);
  }
  const over = SIGNAL_CLASSES.filter((c) => counts[c] > input.budgets[c]);
  const tally = SIGNAL_CLASSES.map(
    (c) => `${String(counts[c])} ${CLASS_WORDS[c]} (budget ${String(input.budgets[c])})`,
  ).join(', ');
  const scope = `${String(judgedLines)} lines of ${input.service} in ${input.stage} outside fault windows (${String(excludedLines)} left out as faulted)`;
  if (over.length === 0)
    return { status: 'passed', message: `${scope}: ${tally}`, judgedLines, excludedLines, counts, offending: [] };
  const offending = over.flatMap((c) => lines[c]).slice(0, input.evidenceLines);
  const first = offending[0] ?? '';
  return {
    status: 'failed',
    message: `${input.service} logged error signals over budget in ${input.stage} without any fault injected: ${tally}; ${scope}. First: ${first.slice(0, 400)}`,
    judgedLines,
    excludedLines,
    counts,
    offending,
  };
}
