import type { Metric } from '../core/check-result.ts';
import { SystemFailureError } from '../core/errors.ts';
import type { CheckOutcome } from '../runner/suite.ts';
import type { LedgerVerdict } from '../runner/write-ledger.ts';
import type { ContainerFault, Fault } from './catalog.ts';
import type { ExperimentLoad, ProbeOutcome } from './experiment.ts';
import type { LinkVerdict } from './fault-proof.ts';
import type { LinkObservation } from './link-probe.ts';

// The verdicts of an experiment's checks, from what its phases measured: no clock, no Docker, no HTTP.

/** A probe polled until it passed or its window ran out. */
export interface PolledProbe {
  readonly ok: boolean;
  readonly elapsedMs: number;
  readonly detail: string;
  readonly metrics: readonly Metric[];
}

/** A named probe and what polling it gave. */
export interface ProbeStep {
  readonly name: string;
  readonly result: PolledProbe;
}

/** What k6 load behind an experiment gave when stopped. */
export type LoadOutcome = Awaited<ReturnType<ExperimentLoad['stop']>>;

const textEvidence = (name: string, content: string) => [{ name, contentType: 'text/plain', content }];

/** The service refused the sign-up or login of the identity the experiment acts as: the steady state fails. */
export function steadyStateRefused(error: SystemFailureError): CheckOutcome {
  return {
    status: 'failed',
    message: `Steady state not met before the fault: ${error.message}`,
    remediation: 'Bring the service back to a working state; the experiment was not run',
    evidence: textEvidence('system evidence', error.evidence),
  };
}

/** The steady state before the fault, from its probes in order (the first that did not hold ends the list). */
export function judgeSteadyState(steps: readonly ProbeStep[]): CheckOutcome {
  const failed = steps.find((s) => !s.result.ok);
  if (failed)
    return {
      status: 'failed',
      message: `Steady state not met before the fault: ${failed.name}: ${failed.result.detail}`,
      remediation: `Make the service meet "${failed.name}" without any fault; the experiment was not run`,
    };
  return { status: 'passed', message: steps.map((s) => `ok ${s.name}: ${s.result.detail}`).join('\n') };
}

/** Metric baselines that could not be read before the injection: the fault is not injected. */
export function baselinesUnread(problems: readonly string[]): CheckOutcome {
  return {
    status: 'broken',
    message: `The fault was not injected: metric baselines could not be read right before the injection, so no rise since the fault could be measured: ${problems.join('; ')}`,
    remediation: `Make the metrics endpoint (chaos.metricsPath) answer before the fault, or drop sinceFault from those probes`,
  };
}

/** How long to watch one connection through the link under this fault, and how long to wait for it to close. */
export function linkWatch(fault: Fault): { readonly timeoutMs: number; readonly waitCloseMs?: number } {
  const timeoutMs =
    fault.kind === 'reset_peer'
      ? (fault.timeoutMs ?? 0) + 1_500
      : fault.kind === 'latency'
        ? fault.latencyMs + (fault.jitterMs ?? 0) + 1_500
        : 1_500;
  return fault.kind === 'slow_close' ? { timeoutMs, waitCloseMs: fault.delayMs + 1_000 } : { timeoutMs };
}

/** A paused or killed container is seen from outside as silence; a restart is proven by its start time instead. */
export function judgeContainerLink(fault: ContainerFault, via: string, seen: readonly LinkObservation[]): LinkVerdict {
  if (fault.action === 'restart')
    return { verdict: 'unobservable', detail: 'a restarted container is proven by its new start time' };
  const silent = seen.every((o) => o.outcome !== 'answered');
  return { verdict: silent ? 'observed' : 'not-observed', detail: `${via}: ${seen.map((o) => o.detail).join('; ')}` };
}

/** What the injection phase saw of the fault: the control plane, the link, the system's effects, and when. */
interface FaultEffectSeen {
  readonly fault: Fault;
  readonly control: { readonly ok: boolean; readonly line: string };
  readonly link: LinkVerdict;
  /** The experiment's proof probes, in order. */
  readonly effects: readonly ProbeStep[];
  readonly injectMs: number;
  readonly detectMs: number;
}

/** The fault took effect when the control plane shows it, the link shows it (or cannot), and every proof probe saw it. */
export function judgeFaultEffect(seen: FaultEffectSeen): CheckOutcome {
  const { control, link, fault } = seen;
  const effectOk = seen.effects.every((e) => e.result.ok);
  const controlled = fault.kind === 'container' || fault.kind === 'signal';
  const linkOk =
    link.verdict === 'observed' || (link.verdict === 'unobservable' && (seen.effects.length > 0 || controlled));
  const metrics: Metric[] = [
    { name: 'time_to_inject_ms', value: Math.round(seen.injectMs), unit: 'ms' },
    ...(effectOk ? [{ name: 'time_to_detect_ms', value: Math.round(seen.detectMs), unit: 'ms' }] : []),
    ...(link.shiftMs === undefined
      ? []
      : [{ name: 'link_latency_shift_ms', value: Math.round(link.shiftMs), unit: 'ms' }]),
  ];
  const message = [
    `control plane: ${control.line}`,
    `through the link: ${link.verdict}: ${link.detail}`,
    ...seen.effects.map((e) => `${e.result.ok ? 'seen' : 'NOT seen'} ${e.name}: ${e.result.detail}`),
  ].join('\n');
  if (control.ok && linkOk && effectOk) return { status: 'passed', message, metrics };
  const why = !control.ok
    ? 'the control plane does not show it'
    : !linkOk
      ? `the link does not show it (${link.verdict})`
      : 'the system shows no effect';
  return {
    status: 'broken',
    message: `The fault did not take effect: ${why}\n${message}`,
    remediation:
      'Make the experiment target something its probes cross (the link and the routes that use it), or declare a link hello in chaos.links',
    metrics,
  };
}

/** An expectation with a deadline: it held once within `withinMs`. */
export function judgeWithin(withinMs: number, polled: PolledProbe): CheckOutcome {
  return polled.ok
    ? {
        status: 'passed',
        message: `${polled.detail} (after ${Math.round(polled.elapsedMs)}ms)`,
        metrics: polled.metrics,
      }
    : { status: 'failed', message: `Not within ${withinMs}ms: ${polled.detail}`, metrics: polled.metrics };
}

/** An expectation sampled during the fault: every sample must hold (none taken is no evidence). */
export function judgeSamples(samples: readonly ProbeOutcome[]): CheckOutcome {
  if (samples.length === 0) return { status: 'unknown', message: `samples is 0: no sample was taken` };
  const lines = samples.map((s) => `${s.ok ? 'ok' : 'FAILED'} ${s.detail}`);
  const metrics = samples.flatMap((s) => s.metrics ?? []);
  const firstFailed = samples.find((s) => !s.ok);
  if (!firstFailed) return { status: 'passed', message: lines.join('\n'), metrics };
  // Every failed sample said its failure was not about time: the host's load excuses none of them.
  const timingFailure = samples.some((s) => !s.ok && s.timing !== false);
  const all = samples.length > 1 ? `\n(all ${samples.length} samples: ${lines.join(' | ')})` : '';
  return {
    status: 'failed',
    message: `${firstFailed.detail}${all}`,
    metrics,
    ...(timingFailure ? {} : { judgesTiming: false }),
  };
}

/** Why recovery cannot be judged: no fault was in place, or nothing would show the recovery. */
export function recoveryUnmeasurable(injected: boolean, probeCount: number): CheckOutcome | undefined {
  // Recovering from a fault that was never in place proves nothing.
  if (!injected) return { status: 'unknown', message: 'Not measured: the fault was never injected' };
  if (probeCount === 0)
    return { status: 'unknown', message: 'No recovery probe is declared: nothing shows the system recovered' };
  return undefined;
}

/** Recovery after the rollback, from its probes in order (the first that did not hold ends the list). */
export function judgeRecovery(steps: readonly ProbeStep[], withinMs: number, recoverMs: number): CheckOutcome {
  const failed = steps.find((s) => !s.result.ok);
  if (failed)
    return {
      status: 'failed',
      message: `Not recovered within ${withinMs}ms after the fault was removed: ${failed.name}: ${failed.result.detail}`,
    };
  const lines = steps.map((s) => `ok ${s.name}: ${s.result.detail}`);
  return {
    status: 'passed',
    message: `recovered ${recoverMs}ms after the fault was removed\n${lines.join('\n')}`,
    metrics: [{ name: 'time_to_recover_ms', value: recoverMs, unit: 'ms' }],
  };
}

/** The write ledger: failed on a lost or duplicated write, unknown without an acknowledged write or a full listing. */
export function judgeLedger(verdict: LedgerVerdict, writes: number, acknowledged: number): CheckOutcome {
  const c = verdict.counts;
  const metrics: Metric[] = (Object.keys(c) as (keyof typeof c)[]).map((k) => ({
    name: `writes_${k}`,
    value: c[k],
    unit: 'writes',
  }));
  const summary = `${writes} writes, ${acknowledged} acknowledged: ${c.stable} stable, ${c.lost} lost, ${c.duplicated} duplicated, ${c.unacknowledged} unacknowledged, ${c.unknown} unknown`;
  const evidence = textEvidence('write ledger', verdict.lines.join('\n'));
  if (verdict.failures.length > 0)
    return { status: 'failed', message: `${summary}\n${verdict.failures.slice(0, 10).join('\n')}`, metrics, evidence };
  if (acknowledged === 0 || c.unknown > 0 || verdict.lines.some((l) => l.startsWith('listing failed')))
    return { status: 'unknown', message: `No evidence: ${summary}`, metrics, evidence };
  return { status: 'passed', message: summary, metrics, evidence };
}

/** The ledger check's outcome when the ledger could not start: the system refusing its user fails, else broken. */
export function ledgerStartProblem(error: unknown): CheckOutcome {
  // The system refusing the ledger user's sign-up or login is its failure; anything else is the harness's.
  return error instanceof SystemFailureError
    ? {
        status: 'failed',
        message: `The ledger's user could not be signed up or logged in: ${error.message}`,
        evidence: [{ name: 'system evidence', contentType: 'text/plain', content: error.evidence }],
      }
    : {
        status: 'broken',
        message: `The ledger could not start: ${error instanceof Error ? error.message : String(error)}`,
      };
}

/** Every load phase's figures, attached to each phase's check. */
export function loadPhaseMetrics(outcome: LoadOutcome | undefined): Metric[] {
  if (outcome?.kind !== 'measured') return [];
  return outcome.phases.flatMap((p) => [
    { name: `${p.phase}_p95_ms`, value: p.p95Ms, unit: 'ms' },
    { name: `${p.phase}_p99_ms`, value: p.p99Ms, unit: 'ms' },
    { name: `${p.phase}_rps`, value: p.ratePerSec, unit: 'req/s' },
    { name: `${p.phase}_error_rate`, value: p.errorRate, unit: 'ratio' },
  ]);
}

/** One load phase against its SLO: broken without load, unknown without requests, failed on a breach. */
export function judgeLoadPhase(outcome: LoadOutcome | undefined, phase: string, loadProblem: string): CheckOutcome {
  if (!outcome) return { status: 'broken', message: loadProblem };
  if (outcome.kind === 'broken')
    return {
      status: 'broken',
      message: `k6 load broken: ${outcome.message}`,
      evidence: textEvidence('k6 stderr (tail)', outcome.stderrTail),
    };
  const metrics = loadPhaseMetrics(outcome);
  const evidence = [{ name: 'k6 load per phase', contentType: 'text/csv', content: outcome.csv }];
  const stats = outcome.phases.find((p) => p.phase === phase);
  if (!stats || stats.requests === 0 || stats.breaches === undefined)
    return {
      status: 'unknown',
      message: `No k6 request was sent during the ${phase} phase: nothing to judge`,
      metrics,
      evidence,
    };
  const seen = `${stats.requests} requests at ${stats.ratePerSec}/s: p95 ${stats.p95Ms}ms, p99 ${stats.p99Ms}ms, errors ${Math.round(stats.errorRate * 1000) / 10}%`;
  return {
    status: stats.breaches.length === 0 ? 'passed' : 'failed',
    message:
      stats.breaches.length === 0
        ? `Held in the ${phase} phase: ${seen}`
        : `Crossed in the ${phase} phase: ${stats.breaches.join('; ')} (${seen})`,
    metrics,
    evidence,
    parameters: { phase },
  };
}
