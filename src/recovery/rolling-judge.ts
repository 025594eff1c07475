import type { CheckOutcome } from '../runner/suite.ts';
import type { LoadSummary } from './steady-load.ts';

/** What a rolling restart saw through its entry point. */
interface ZeroDowntimeEvidence {
  /** The entry point's service (the load balancer). */
  readonly via: string;
  readonly replicas: number;
  /** Replicas restarted and healthy again, in order. */
  readonly restarted: readonly string[];
  readonly problems: readonly string[];
  readonly summary: LoadSummary;
  /** Ledger write attempts during the drill, and those not acknowledged. */
  readonly writes: number;
  readonly writeFailures: number;
  /** Acknowledged writes the ledger found lost. */
  readonly lost: readonly string[];
  readonly maxFailedRequests: number;
}

/**
 * Zero downtime: every replica restarted while at most `maxFailedRequests` requests through the
 * entry point failed and no acknowledged write was lost. No request sent is no evidence. Pure.
 */
export function judgeZeroDowntime(e: ZeroDowntimeEvidence): Pick<CheckOutcome, 'status' | 'message'> {
  const total = e.summary.total + e.writes;
  const failed = e.summary.failed + e.writeFailures;
  if (e.restarted.length < e.replicas)
    return {
      status: e.problems.length ? 'failed' : 'broken',
      message: `Only ${e.restarted.length} of ${e.replicas} replicas were restarted: ${e.problems.join('; ')}`,
    };
  if (failed > e.maxFailedRequests || e.lost.length > 0) {
    const kinds = e.summary.failureKinds
      .slice(0, 5)
      .map((k) => `${k.count} x ${k.kind}`)
      .join(', ');
    return {
      status: 'failed',
      message: `${failed} of ${total} requests failed through ${e.via} (at most ${e.maxFailedRequests} allowed)${kinds ? `: ${kinds}` : ''}${e.lost.length ? `; ${e.lost.length} acknowledged writes lost` : ''}`,
    };
  }
  if (total === 0)
    return {
      status: 'unknown',
      message: `No request went through ${e.via} while the replicas restarted: nothing shows that it kept serving`,
    };
  return {
    status: 'passed',
    message: `${total} requests through ${e.via}, ${failed} failed, while ${e.restarted.join(', ')} restarted one at a time`,
  };
}
