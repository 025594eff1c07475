import { actAs } from '../auth/act-as.ts';
import type { Identity } from '../auth/act-as.ts';
import { DISPOSABLE } from '../config/auth.ts';
import { pollUntil } from '../core/clock.ts';
import { requestHeaders, sendAndLoseResponse } from '../runner/http.ts';
import type { HttpRequest } from '../runner/http.ts';
import { WriteLedger } from '../runner/write-ledger.ts';
import type { LedgerIo } from '../runner/write-ledger.ts';
import { judgeLedger, ledgerStartProblem } from './run-experiment-judge.ts';
import { asKeyOf, recordCheck, requestAs, targetOf } from './run-experiment-state.ts';
import type { ExperimentRun } from './run-experiment-state.ts';

/** How the ledger talks to the service, acting as `writer` (none: an API without auth). */
function ledgerIo(run: ExperimentRun, writer: Identity | undefined): LedgerIo {
  const { context, chaos, random } = run;
  const { clock, signal } = context;
  return {
    // Without chaos.as the ledger's requests carry no credentials (an API without auth).
    request: (req) => requestAs(run, writer, { ...req, auth: writer !== undefined }),
    sendAndLose: async (req: HttpRequest) => {
      const target = targetOf(run, req.service, req.port);
      const entry = context.handle.services[target.service];
      const hostPort = entry?.endpoint.ports[String(target.port)];
      if (!entry || hostPort === undefined) throw new Error(`no host port for ${target.service}:${target.port}`);
      const prepared = await requestHeaders({ ...req, auth: writer !== undefined }, writer, asKeyOf(run));
      if ('refused' in prepared) return { answered: false, detail: prepared.refused };
      return sendAndLoseResponse(
        entry.endpoint.host,
        hostPort,
        {
          method: req.method ?? 'POST',
          path: req.path,
          headers: prepared.headers,
          body: JSON.stringify(req.body ?? null),
        },
        chaos.probeTimeoutMs,
      );
    },
    random,
    sleep: (ms) => clock.sleep(ms, signal),
    now: () => clock.now(),
    signal,
  };
}

/** Starts the write ledger an experiment declares, acting as a throwaway user of its own under a disposable `chaos.as`. */
export async function startLedger(run: ExperimentRun): Promise<void> {
  const { context, experiment, chaos, timeline } = run;
  const ledgerPlan = experiment.ledger;
  const ledgerConfig = chaos.ledger;
  if (!ledgerPlan || !ledgerConfig) return;
  try {
    // A throwaway user of its own for the ledger, so its listing holds nothing but its writes.
    const writer =
      chaos.as === DISPOSABLE
        ? await actAs(run.authenticator, DISPOSABLE, `${experiment.id}-ledger`, context.config.auth?.disposable?.like)
        : run.identity;
    if (writer && writer !== run.identity)
      timeline.log(`ledger acting as ${writer.principal}: ${writer.evidence.join('; ')}`);
    run.ledger = new WriteLedger(ledgerConfig, ledgerPlan, ledgerIo(run, writer), 'chaos.ledger');
  } catch (error) {
    context.signal.throwIfAborted();
    run.ledgerProblem = ledgerStartProblem(error);
  }
}

/** A ledger writing `around-injection`: writes run on until stopped, and half of them are acknowledged before the fault. */
export async function startLedgerLoop(run: ExperimentRun): Promise<void> {
  const { ledger, experiment, timeline } = run;
  if (!ledger || experiment.ledger?.phase !== 'around-injection') return;
  const { clock, signal } = run.context;
  const state = { stopped: false };
  const target = experiment.ledger.writes;
  const done = (async () => {
    while (!state.stopped && ledger.entries.length < target) await ledger.write(() => state.stopped);
  })().catch((error: unknown) =>
    timeline.log(`ledger loop stopped: ${error instanceof Error ? error.message : String(error)}`),
  );
  run.ledgerLoop = { stop: () => (state.stopped = true), done };
  await pollUntil(
    () => Promise.resolve(ledger.acknowledged),
    (n) => n >= Math.ceil(target / 2),
    { timeoutMs: 10_000, intervalMs: 5, clock, signal },
  );
  timeline.log(`ledger: ${ledger.acknowledged} writes acknowledged before the injection`);
}

/** A ledger writing `during-fault`: its writes, one after another while the fault is in place. */
export async function writeLedgerDuringFault(run: ExperimentRun): Promise<void> {
  const { ledger, experiment } = run;
  if (!ledger || experiment.ledger?.phase !== 'during-fault') return;
  for (let i = 0; i < experiment.ledger.writes; i += 1) {
    if (experiment.ledger.redrawEachWrite) await run.active?.redraw();
    await ledger.write();
  }
  run.timeline.log(`ledger: ${ledger.acknowledged}/${ledger.entries.length} writes acknowledged during the fault`);
}

/** Phase 5: verifies every write the ledger made against the service's listing. */
export async function recordLedger(run: ExperimentRun): Promise<void> {
  const plan = run.experiment.ledger;
  if (!plan) return;
  await recordCheck(
    run,
    'ledger',
    async () => {
      const { ledger } = run;
      if (!ledger) return run.ledgerProblem;
      const verdict = await ledger.verify();
      return judgeLedger(verdict, ledger.entries.length, ledger.acknowledged);
    },
    plan.remediation ?? run.experiment.remediation,
  );
}
