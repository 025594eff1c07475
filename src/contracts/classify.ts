import type { CheckStatus, Evidence } from '../core/check-result.ts';
import { describeMismatch, findInteractionResult, parseVerifierReport, reportOutput } from './verifier-report.ts';
import type { WorkerResults, WorkerRun } from './worker-protocol.ts';

/** One interaction a pact (or the broker) asks the provider to honour. */
export interface InteractionRef {
  readonly consumer: string;
  readonly provider: string;
  readonly description: string;
  readonly providerStates: readonly string[];
  /** Marked pending in the pact (V4). */
  readonly pending: boolean;
}

/** What the stage concludes about one interaction, with Pact's own words as evidence. */
export interface InteractionVerdict {
  readonly status: CheckStatus;
  readonly message: string;
  /** Pact's mismatch lines (`body $: Actual map is missing the following keys: totalCents`). */
  readonly mismatches: readonly string[];
  readonly pending: boolean;
  readonly durationMs: number | undefined;
  readonly evidence: readonly Evidence[];
  /** Which part of the config to fix for a `broken` verdict. */
  readonly brokenBy?: 'state' | 'setup' | 'credentials' | 'verifier';
}

export interface ClassifyContext {
  /** Provider states the config has an action for. */
  readonly configuredStates: ReadonlySet<string>;
  /** Consumers whose pacts the config marks pending. */
  readonly pendingConsumers: ReadonlySet<string>;
  /** The worker's results; undefined when it produced none. */
  readonly results: WorkerResults | undefined;
  /** The verifier run that covered this interaction (files: its own run; broker: the only run). */
  readonly run: WorkerRun | undefined;
  /** Why there are no (or incomplete) results: worker exit, timeout, interrupt. */
  readonly workerProblem: string | undefined;
  /** Config path of the provider, for messages: `contract.providers.orders`. */
  readonly configPath: string;
}

/** Pending before any verification: the pact marks the interaction pending, or the config its consumer. */
export function pendingByConfig(
  ref: Pick<InteractionRef, 'consumer' | 'pending'>,
  pendingConsumers: ReadonlySet<string>,
): boolean {
  return ref.pending || pendingConsumers.has(ref.consumer);
}

const label = (ref: InteractionRef): string => `${ref.consumer} -> ${ref.provider} "${ref.description}"`;

function stateTimeline(results: WorkerResults | undefined, run: WorkerRun | undefined): string {
  const lines: string[] = [];
  if (results && results.setup.log.length > 0) {
    lines.push('provider setup (once):', ...results.setup.log.map((l) => `  ${l}`));
  }
  for (const event of run?.states ?? []) {
    lines.push(`state "${event.state}" ${event.action}: ${event.ok ? 'ok' : `FAILED: ${event.error ?? ''}`}`);
    lines.push(...event.log.map((l) => `  ${l}`));
    if (event.values.length > 0) lines.push(`  values for the verifier: ${event.values.join(', ')}`);
  }
  for (const line of run?.filterLog ?? []) lines.push(`request filter: ${line}`);
  for (const error of run?.filterErrors ?? []) lines.push(`request filter: ${error}`);
  return lines.join('\n');
}

/**
 * Turns the verifier's report into one verdict per interaction. Only the verifier saying OK for
 * this exact interaction, with every provider state set up, is `passed`; no evidence is `broken`
 * (the harness could not verify), a mismatch is `failed` (or `skipped` when the pact is pending).
 */
export function classifyInteraction(ref: InteractionRef, context: ClassifyContext): InteractionVerdict {
  const timeline = stateTimeline(context.results, context.run);
  const base: VerdictBase = {
    ref,
    pending: pendingByConfig(ref, context.pendingConsumers),
    durationMs: context.run?.durationMs,
    evidence: timeline ? [{ name: 'provider states', contentType: 'text/plain', content: timeline }] : [],
  };
  const ran = checkPreconditions(base, context);
  return 'status' in ran ? ran : judgeRun(base, ran.run);
}

/** What every verdict of one interaction carries: the interaction, pending by config, the run's duration and evidence. */
interface VerdictBase {
  readonly ref: InteractionRef;
  readonly pending: boolean;
  readonly durationMs: number | undefined;
  /** Added to as the verdict is reached (the verifier's output first, the mismatches last). */
  readonly evidence: Evidence[];
}

/** The harness could not verify the interaction. */
function brokenVerdict(
  base: VerdictBase,
  message: string,
  brokenBy: NonNullable<InteractionVerdict['brokenBy']>,
): InteractionVerdict {
  return {
    status: 'broken',
    message: `${label(base.ref)} could not be verified: ${message}`,
    mismatches: [],
    pending: base.pending,
    durationMs: base.durationMs,
    evidence: base.evidence,
    brokenBy,
  };
}

/** A login or sign-up the system refused is its failure, not the harness's: failed, with its answer. */
function refusedVerdict(base: VerdictBase, message: string, answers: readonly string[]): InteractionVerdict {
  return {
    status: 'failed',
    message: `${label(base.ref)} could not be verified because the system refused a credential: ${message}`,
    mismatches: [],
    pending: base.pending,
    durationMs: base.durationMs,
    evidence: [
      ...base.evidence,
      ...answers.map((content) => ({ name: 'system evidence', contentType: 'text/plain', content })),
    ],
  };
}

/** The verdict when the interaction could not get as far as the verifier's report, else the run to judge. */
function checkPreconditions(base: VerdictBase, context: ClassifyContext): InteractionVerdict | { run: WorkerRun } {
  const { ref } = base;
  const { results, run } = context;
  const missing = ref.providerStates.filter((s) => !context.configuredStates.has(s));
  if (missing.length > 0) {
    return brokenVerdict(
      base,
      `provider state ${missing.map((s) => `"${s}"`).join(', ')} has no action in ${context.configPath}.states`,
      'state',
    );
  }
  if (!results)
    return brokenVerdict(
      base,
      `no verification result (${context.workerProblem ?? 'the verifier wrote nothing'})`,
      'verifier',
    );
  if (!results.setup.ok) {
    if (results.setup.refused !== undefined)
      return refusedVerdict(base, `provider setup: ${results.setup.error ?? ''}`, [results.setup.refused]);
    return brokenVerdict(base, `the provider setup steps failed: ${results.setup.error ?? ''}`, 'setup');
  }
  if (!run) {
    return brokenVerdict(
      base,
      `no verification result (${context.workerProblem ?? 'the verifier stopped before this interaction'})`,
      'verifier',
    );
  }
  const stateRefusals = run.states.filter((e) => e.refused !== undefined && ref.providerStates.includes(e.state));
  if (stateRefusals.length > 0 || run.refused.length > 0) {
    return refusedVerdict(
      base,
      [
        ...stateRefusals.map((e) => `provider state "${e.state}" ${e.action}: ${e.error ?? ''}`),
        ...run.refused.map((r) => `request filter: ${r.message}`),
      ].join('; '),
      [...stateRefusals.map((e) => e.refused ?? ''), ...run.refused.map((r) => r.evidence)],
    );
  }
  if (run.error !== undefined) return brokenVerdict(base, `the Pact verifier failed: ${run.error}`, 'verifier');
  return { run };
}

/** The verdict from the verifier's report for this interaction, its provider states and the request filter. */
function judgeRun(base: VerdictBase, run: WorkerRun): InteractionVerdict {
  const { ref, evidence } = base;
  const report = run.report === undefined ? undefined : parseVerifierReport(run.report);
  if (!report) return brokenVerdict(base, 'the Pact verifier returned no JSON report', 'verifier');
  evidence.unshift({ name: 'pact verifier output', contentType: 'text/plain', content: reportOutput(report) });
  const result = findInteractionResult(report, ref);
  if (!result) return brokenVerdict(base, 'the Pact verifier reported no result for this interaction', 'verifier');
  const stateErrors = run.states.filter((e) => !e.ok && ref.providerStates.includes(e.state));
  if (stateErrors.length > 0) {
    return brokenVerdict(
      base,
      stateErrors.map((e) => `provider state "${e.state}" ${e.action} failed: ${e.error ?? ''}`).join('; '),
      'state',
    );
  }
  if (run.filterErrors.length > 0) return brokenVerdict(base, run.filterErrors.join('; '), 'credentials');
  const pending = base.pending || result.pending;
  const parsedMs = Number.parseInt(result.duration ?? '', 10);
  const durationMs = Number.isNaN(parsedMs) ? run.durationMs : parsedMs;
  if (result.result === 'OK') {
    return {
      status: 'passed',
      message: `${label(ref)} verified against the running ${ref.provider}${pending ? ' (pending pact)' : ''}`,
      mismatches: [],
      pending,
      durationMs,
      evidence,
    };
  }
  const mismatches = result.mismatch
    ? describeMismatch(result.mismatch)
    : ['the verifier reported an error without details'];
  evidence.push({ name: 'pact mismatches', contentType: 'application/json', content: JSON.stringify(result, null, 2) });
  return {
    status: pending ? 'skipped' : 'failed',
    message: `${label(ref)} does not match: ${mismatches.join('; ')}${pending ? ' (pending pact: not gating, never counted as passed)' : ''}`,
    mismatches,
    pending,
    durationMs,
    evidence,
  };
}
