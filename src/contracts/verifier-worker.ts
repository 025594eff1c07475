/**
 * Child process that runs Pact's provider verifier for one provider (spawned by verify-provider.ts).
 * Reads a plan (JSON) on stdin, writes results to `plan.resultsFile` after every verifier run, and
 * leaves Pact's console output on its own stdout, which the parent keeps as evidence.
 *
 * This file is a process entry point, so it sets environment variables: pact-core takes its
 * interaction filter (PACT_DESCRIPTION) and its telemetry opt-out only from the environment.
 */
import { appendFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { VerifierOptions } from '@pact-foundation/pact';
import { Authenticator } from '../auth/authenticator.ts';
import { fetchAuthSend } from '../auth/transport.ts';
import { SystemFailureError } from '../core/errors.ts';
import type { Json } from './templates.ts';
import {
  InteractionAuth,
  applyCredentials,
  credentialHeaderNames,
  dockerExec,
  principalFields,
  runSteps,
  setUpState,
} from './state-actions.ts';
import type { StepTarget } from './state-actions.ts';
import { parseVerifierReport } from './verifier-report.ts';
import { brokerVerifierOptions, credentialDecision, emptyRun } from './verifier-options.ts';
import { descriptionFilter, workerPlanSchema } from './worker-protocol.ts';
import type { StateEvent, WorkerPlan, WorkerResults, WorkerRun } from './worker-protocol.ts';

interface FilterRequest {
  readonly headers: Record<string, string | string[] | undefined>;
}
type Next = (error?: unknown) => void;
type StateFn = (params?: unknown) => Promise<Record<string, Json> | undefined>;

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function stepTarget(plan: WorkerPlan): StepTarget {
  return {
    providerService: plan.config.service,
    providerPort: plan.config.port,
    serviceUrl: (service, port) => {
      const url = plan.serviceUrls[service]?.[String(port)];
      if (url === undefined) throw new Error(`service "${service}" has no host endpoint for port ${port}`);
      return url;
    },
    execIn: (service, command, timeoutMs) => {
      const id = plan.containers[service];
      if (id === undefined) return Promise.reject(new Error(`service "${service}" has no container in the stack`));
      return dockerExec(id, command, timeoutMs);
    },
    requestTimeoutMs: plan.config.requestTimeoutMs,
    principals: principalFields(plan.auth.config),
  };
}

/**
 * The authenticator over the plan's `auth`: credential requests go to the service and port they
 * name (default `auth.target`, else the provider), and every secret obtained is appended to the
 * plan's secrets file before it can appear anywhere else.
 */
function authenticator(plan: WorkerPlan, target: StepTarget): Authenticator {
  const fallback = plan.auth.target;
  return new Authenticator(plan.auth.config, {
    send: fetchAuthSend({
      baseUrl: (service, port) => {
        const name = service ?? fallback.service;
        const containerPort = port ?? (name === fallback.service ? fallback.port : plan.auth.defaultPorts[name]);
        if (containerPort === undefined) throw new Error(`service "${name}" exposes no port for a credential request`);
        return target.serviceUrl(name, containerPort);
      },
      timeoutMs: plan.config.requestTimeoutMs,
      signal: new AbortController().signal,
    }),
    resolve: (ref) => {
      if (typeof ref === 'string') return ref;
      throw new Error(
        `unresolved value reference services.${ref.fromServiceEnv.service}.env.${ref.fromServiceEnv.key}`,
      );
    },
    redact: (...secrets) => {
      const lines = secrets.filter((v) => v !== '').map((v) => `${JSON.stringify(v)}\n`);
      if (lines.length > 0) appendFileSync(plan.secretsFile, lines.join(''));
    },
  });
}

async function main(): Promise<void> {
  const plan = workerPlanSchema.parse(JSON.parse(await readStdin()));
  process.env['PACT_DO_NOT_TRACK'] = 'true';
  const { Verifier } = await import('@pact-foundation/pact');
  const state = openWorker(plan);
  if (!(await runSetup(state))) return;
  const common: VerifierOptions = {
    provider: plan.provider,
    providerBaseUrl: plan.providerBaseUrl,
    stateHandlers: stateHandlers(state),
    requestFilter: requestFilter(state),
    beforeEach: () => {
      if (state.current) {
        state.current.principal = undefined;
        state.current.auth = interactionAuth(state);
      }
      return Promise.resolve();
    },
    logLevel: plan.logLevel,
    timeout: plan.config.requestTimeoutMs,
    providerVersion: plan.providerVersion,
  };
  const verify = (run: WorkerRun, options: Partial<VerifierOptions>): Promise<void> =>
    verifyRun(state, run, () => new Verifier({ ...common, ...options }).verifyProvider());
  const source = plan.source;
  switch (source.kind) {
    case 'files':
      for (const item of source.runs) {
        process.env['PACT_DESCRIPTION'] = descriptionFilter(item.description);
        await verify(
          { ...item, ...emptyRun(Date.now()) },
          { pactUrls: [item.pactFile], publishVerificationResult: false },
        );
      }
      delete process.env['PACT_DESCRIPTION'];
      break;
    case 'broker':
      await verify(emptyRun(Date.now()), brokerVerifierOptions(source));
      break;
  }
  state.results.finished = true;
  await save(state);
}

/**
 * The worker's state: the plan, where steps go, the authenticator, the results written so far, and the
 * run in progress with the principal its provider state chose (undefined: the default) and the
 * credentials of the interaction being verified (a throwaway user lives as long as it).
 */
interface WorkerState {
  readonly plan: WorkerPlan;
  readonly target: StepTarget;
  readonly auth: Authenticator;
  readonly results: WorkerResults;
  current: { run: WorkerRun; principal: string | null | undefined; auth: InteractionAuth } | undefined;
  interactions: number;
  /** The values each provider state's setup produced, for its teardown. */
  readonly varsByState: Map<string, Record<string, Json>>;
}

function openWorker(plan: WorkerPlan): WorkerState {
  const target = stepTarget(plan);
  return {
    plan,
    target,
    auth: authenticator(plan, target),
    results: { schemaVersion: 1, setup: { ok: true, log: [] }, runs: [], finished: false },
    current: undefined,
    interactions: 0,
    varsByState: new Map(),
  };
}

/** Writes the results file whole (through a rename, so the parent never reads half of it). */
async function save(state: WorkerState): Promise<void> {
  const { resultsFile } = state.plan;
  await writeFile(`${resultsFile}.tmp`, JSON.stringify(state.results));
  await rename(`${resultsFile}.tmp`, resultsFile);
}

/** Fresh credentials holder for the next interaction. */
function interactionAuth(state: WorkerState): InteractionAuth {
  return new InteractionAuth(state.auth, `contract ${state.plan.provider} #${(++state.interactions).toString()}`);
}

/** Phase 1: the contract setup steps; on failure the results say why and are final (false). */
async function runSetup(state: WorkerState): Promise<boolean> {
  const { plan, results } = state;
  try {
    await runSteps(plan.config.setup, {}, {}, state.target, new InteractionAuth(state.auth, 'setup'), (line) =>
      results.setup.log.push(line),
    );
    return true;
  } catch (error) {
    results.setup = {
      ok: false,
      error: message(error),
      log: results.setup.log,
      ...(error instanceof SystemFailureError ? { refused: error.evidence } : {}),
    };
    results.finished = true;
    await save(state);
    return false;
  }
}

type StateHandlers = Record<string, { setup: StateFn; teardown: StateFn }>;

/** The provider-state handlers of the plan, each recording its event on the run in progress. */
function stateHandlers(state: WorkerState): StateHandlers {
  const handlers = Object.create(null) as StateHandlers;
  for (const [name, action] of Object.entries(state.plan.config.states)) {
    handlers[name] = {
      setup: stateHandler(state, name, action, 'setup'),
      teardown: stateHandler(state, name, action, 'teardown'),
    };
  }
  // pact-js calls the state endpoint with an empty state for interactions that have none.
  handlers[''] = { setup: () => Promise.resolve(undefined), teardown: () => Promise.resolve(undefined) };
  return handlers;
}

function stateHandler(
  state: WorkerState,
  name: string,
  action: WorkerPlan['config']['states'][string],
  kind: StateEvent['action'],
): StateFn {
  return async (params) => {
    if (kind === 'teardown' && action.teardown.length === 0) return undefined;
    const { current, target } = state;
    const event: StateEvent = { state: name, action: kind, ok: true, log: [], values: [] };
    current?.run.states.push(event);
    const log = (line: string): void => {
      event.log.push(line);
    };
    const given = (params ?? {}) as Record<string, Json>;
    try {
      if (kind === 'setup') {
        if (current && action.principal !== undefined) current.principal = action.principal;
        const vars = await setUpState(action, given, target, current?.auth ?? interactionAuth(state), log);
        state.varsByState.set(name, vars);
        event.values = Object.keys(vars);
        return vars;
      }
      const vars = state.varsByState.get(name) ?? {};
      await runSteps(action.teardown, vars, given, target, current?.auth ?? interactionAuth(state), log);
      return undefined;
    } catch (error) {
      event.ok = false;
      event.error = message(error);
      if (error instanceof SystemFailureError) event.refused = error.evidence;
      throw error;
    }
  };
}

/**
 * Replaces the credentials a pact sends (an example) with fresh ones of the interaction's principal:
 * `auth.header` when set (the pact sends it), else each header of the principal's credentials the
 * pact sends. A request that sends none of them keeps what it has (an unauthenticated example).
 */
function requestFilter(state: WorkerState): (req: FilterRequest, res: unknown, next: Next) => void {
  const { plan } = state;
  const headerOption = plan.config.auth?.header;
  const credentialHeaders = credentialHeaderNames(plan.auth.config);
  const defaultPrincipal = plan.config.auth?.defaultPrincipal;
  return (req, _res, next) => {
    const current = state.current;
    if (!current) {
      next();
      return;
    }
    const { run } = current;
    const decision = credentialDecision({
      chosen: current.principal,
      defaultPrincipal,
      headerOption,
      credentialHeaders,
      sent: req.headers,
    });
    if (decision.kind === 'keep') {
      next();
      return;
    }
    if (decision.kind === 'unnamed') {
      run.filterErrors.push(decision.error);
      next();
      return;
    }
    const { principal } = decision;
    current.auth
      .credentials(principal, (line) => run.filterLog.push(line))
      .then(
        (credentials) => {
          applyCredentials(req.headers, credentials.headers, headerOption);
          next();
        },
        (error: unknown) => {
          if (error instanceof SystemFailureError)
            run.refused.push({ message: error.message, evidence: error.evidence });
          else run.filterErrors.push(`fresh credentials for "${principal}": ${message(error)}`);
          next(error);
        },
      );
  };
}

/** Phase 2, once per verifier run: runs it, records its report (or crash) and duration, saves the results. */
async function verifyRun(state: WorkerState, run: WorkerRun, verifyProvider: () => Promise<string>): Promise<void> {
  state.current = { run, principal: undefined, auth: interactionAuth(state) };
  const started = performance.now();
  try {
    run.report = await verifyProvider();
  } catch (error) {
    // A failed verification rejects with the JSON report as the message; anything else is a crash.
    if (parseVerifierReport(message(error))) run.report = message(error);
    else run.error = message(error);
  }
  run.durationMs = Math.round(performance.now() - started);
  state.current = undefined;
  state.results.runs.push(run);
  await save(state);
}

main().then(
  () => {
    process.exitCode = 0;
  },
  (error: unknown) => {
    process.stderr.write(
      `verifier worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
