import { assertNever } from '../core/stage.ts';
import type { Fault, ToxicFault } from './catalog.ts';
import type { LinkObservation } from './link-probe.ts';

/** What a probe through the link says about a fault: seen, not seen, or not visible with this link's hello. */
export interface LinkVerdict {
  readonly verdict: 'observed' | 'not-observed' | 'unobservable';
  readonly detail: string;
  /** For latency: the largest answer-time shift over the baseline. */
  readonly shiftMs?: number;
}

const median = (xs: readonly number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const silent = (o: LinkObservation): boolean => o.outcome !== 'answered';
const summary = (os: readonly LinkObservation[]): string => os.map((o) => o.detail).join('; ');

/**
 * How many connections to open through a link to see a toxic that affects a share `toxicity` of
 * them, so that missing it by chance is under 0.1%.
 */
export function samplesFor(fault: Fault): number {
  const toxicity = 'toxicity' in fault && fault.toxicity !== undefined ? fault.toxicity : 1;
  if (toxicity >= 1) return fault.kind === 'latency' ? 3 : 2;
  return Math.min(40, Math.ceil(Math.log(0.001) / Math.log(1 - toxicity)));
}

/**
 * Judges the link-level proof of a fault from observations before (baseline) and after injection.
 * Pure, so it is tested on recorded observations.
 */
export function judgeLink(
  fault: Fault,
  baseline: readonly LinkObservation[],
  during: readonly LinkObservation[],
  expectBytes: number,
): LinkVerdict {
  const base = median(baseline.filter((o) => o.outcome === 'answered').map((o) => o.answerMs ?? 0));
  if (fault.kind === 'container' || fault.kind === 'signal')
    return { verdict: 'unobservable', detail: 'container faults are proven from Docker and the service port' };
  if (during.length === 0) return { verdict: 'not-observed', detail: 'no probe went through the link' };
  if (fault.kind === 'down') {
    return during.every(silent)
      ? { verdict: 'observed', detail: `every connection failed: ${summary(during)}` }
      : { verdict: 'not-observed', detail: `the link still answers: ${summary(during)}` };
  }
  if (base === undefined)
    return { verdict: 'not-observed', detail: `the link did not answer before the fault: ${summary(baseline)}` };
  return judgeToxic(fault, base, during, expectBytes);
}

function judgeToxic(
  fault: ToxicFault,
  base: number,
  during: readonly LinkObservation[],
  expectBytes: number,
): LinkVerdict {
  const partial = (fault.toxicity ?? 1) < 1;
  const hits = (pred: (o: LinkObservation) => boolean): LinkVerdict => {
    const n = during.filter(pred).length;
    const ok = partial ? n > 0 : n === during.length;
    return {
      verdict: ok ? 'observed' : 'not-observed',
      detail: `${n}/${during.length} connections showed it (baseline answer ${base}ms): ${summary(during)}`,
    };
  };
  switch (fault.kind) {
    case 'latency': {
      const threshold = Math.max(1, 0.8 * fault.latencyMs - (fault.jitterMs ?? 0));
      const shifts = during.filter((o) => o.outcome === 'answered').map((o) => (o.answerMs ?? 0) - base);
      const shiftMs = shifts.length > 0 ? Math.max(...shifts) : undefined;
      const verdict = hits((o) => o.outcome === 'answered' && (o.answerMs ?? 0) - base >= threshold);
      return { ...verdict, ...(shiftMs === undefined ? {} : { shiftMs }) };
    }
    case 'timeout':
      return fault.timeoutMs === 0 ? hits((o) => o.outcome === 'no-answer') : hits(silent);
    case 'reset_peer':
      return hits((o) => o.outcome === 'reset' || o.outcome === 'closed');
    case 'limit_data':
      if (fault.bytes >= expectBytes)
        return {
          verdict: 'unobservable',
          detail: `the link's hello answer (${expectBytes}B) fits under the ${fault.bytes}B limit`,
        };
      return hits((o) => o.outcome !== 'answered' && o.bytes <= fault.bytes);
    case 'bandwidth': {
      const expectedMs = (expectBytes / (fault.rateKBps * 1024)) * 1000;
      if (expectedMs < 50)
        return {
          verdict: 'unobservable',
          detail: `${expectBytes}B at ${fault.rateKBps}KB/s takes ${expectedMs.toFixed(1)}ms: too small to see`,
        };
      return hits((o) => o.outcome === 'answered' && (o.answerMs ?? 0) - base >= expectedMs * 0.5);
    }
    case 'slicer':
      return { verdict: 'unobservable', detail: 'slicing does not change a short answer visibly' };
    case 'slow_close': {
      const closes = during.filter((o) => o.closeMs !== undefined);
      if (closes.length === 0)
        return { verdict: 'unobservable', detail: "the link's upstream does not close after its hello answer" };
      return hits((o) => o.closeMs !== undefined && o.closeMs - base >= 0.8 * fault.delayMs);
    }
    default:
      return assertNever(fault, 'toxic fault');
  }
}
