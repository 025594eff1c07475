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
  const target = stepTarget(plan);
  const auth = authenticator(plan, target);
  const results: WorkerResults = { schemaVersion: 1, setup: { ok: true, log: [] }, runs: [], finished: false };
  const save = async (): Promise<void> => {
    await writeFile(`${plan.resultsFile}.tmp`, JSON.stringify(results));
    await rename(`${plan.resultsFile}.tmp`, plan.resultsFile);
  };

  try {
    await runSteps(plan.config.setup, {}, {}, target, new InteractionAuth(auth, 'setup'), (line) =>
      results.setup.log.push(line),
    );
  } catch (error) {
    results.setup = {
      ok: false,
      error: message(error),
      log: results.setup.log,
      ...(error instanceof SystemFailureError ? { refused: error.evidence } : {}),
    };
    results.finished = true;
    await save();
    return;
  }

  // The run in progress, the principal its provider state chose (undefined: the default) and the
  // credentials of the interaction being verified (a throwaway user lives as long as it).
  let current: { run: WorkerRun; principal: string | null | undefined; auth: InteractionAuth } | undefined;
  let interactions = 0;
  const interactionAuth = (): InteractionAuth =>
    new InteractionAuth(auth, `contract ${plan.provider} #${++interactions}`);
  const varsByState = new Map<string, Record<string, Json>>();

  const stateHandlers: Record<string, { setup: StateFn; teardown: StateFn }> = Object.create(null) as Record<
    string,
    { setup: StateFn; teardown: StateFn }
  >;
  for (const [name, action] of Object.entries(plan.config.states)) {
    const handle =
      (kind: StateEvent['action']): StateFn =>
      async (params) => {
        if (kind === 'teardown' && action.teardown.length === 0) return undefined;
        const event: StateEvent = { state: name, action: kind, ok: true, log: [], values: [] };
        current?.run.states.push(event);
        const log = (line: string): void => {
          event.log.push(line);
        };
        const given = (params ?? {}) as Record<string, Json>;
        try {
          if (kind === 'setup') {
            if (current && action.principal !== undefined) current.principal = action.principal;
            const vars = await setUpState(action, given, target, current?.auth ?? interactionAuth(), log);
            varsByState.set(name, vars);
            event.values = Object.keys(vars);
            return vars;
          }
          await runSteps(
            action.teardown,
            varsByState.get(name) ?? {},
            given,
            target,
            current?.auth ?? interactionAuth(),
            log,
          );
          return undefined;
        } catch (error) {
          event.ok = false;
          event.error = message(error);
          if (error instanceof SystemFailureError) event.refused = error.evidence;
          throw error;
        }
      };
    stateHandlers[name] = { setup: handle('setup'), teardown: handle('teardown') };
  }
  // pact-js calls the state endpoint with an empty state for interactions that have none.
  stateHandlers[''] = { setup: () => Promise.resolve(undefined), teardown: () => Promise.resolve(undefined) };

  /**
   * Replaces the credentials a pact sends (an example) with fresh ones of the interaction's principal:
   * `auth.header` when set (the pact sends it), else each header of the principal's credentials the
   * pact sends. A request that sends none of them keeps what it has (an unauthenticated example).
   */
  const headerOption = plan.config.auth?.header;
  const credentialHeaders = credentialHeaderNames(plan.auth.config);
  const defaultPrincipal = plan.config.auth?.defaultPrincipal;
  const requestFilter = (req: FilterRequest, _res: unknown, next: Next): void => {
    if (!current) {
      next();
      return;
    }
    const { run } = current;
    const principal = current.principal === undefined ? defaultPrincipal : current.principal;
    // Only a request that carries credentials (an example) gets fresh ones: no needless login.
    const carried = (headerOption === undefined ? credentialHeaders : [headerOption]).filter(
      (h) => req.headers[h] !== undefined,
    );
    if (principal === null || carried.length === 0) {
      next();
      return;
    }
    if (principal === undefined) {
      run.filterErrors.push(
        `the request carries ${carried.join(', ')} but neither the provider state nor auth.defaultPrincipal names a principal`,
      );
      next();
      return;
    }
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

  const common: VerifierOptions = {
    provider: plan.provider,
    providerBaseUrl: plan.providerBaseUrl,
    stateHandlers,
    requestFilter,
    beforeEach: () => {
      if (current) {
        current.principal = undefined;
        current.auth = interactionAuth();
      }
      return Promise.resolve();
    },
    logLevel: plan.logLevel,
    timeout: plan.config.requestTimeoutMs,
    providerVersion: plan.providerVersion,
  };

  const verify = async (run: WorkerRun, options: Partial<VerifierOptions>): Promise<void> => {
    current = { run, principal: undefined, auth: interactionAuth() };
    const started = performance.now();
    try {
      run.report = await new Verifier({ ...common, ...options }).verifyProvider();
    } catch (error) {
      // A failed verification rejects with the JSON report as the message; anything else is a crash.
      if (parseVerifierReport(message(error))) run.report = message(error);
      else run.error = message(error);
    }
    run.durationMs = Math.round(performance.now() - started);
    current = undefined;
    results.runs.push(run);
    await save();
  };

  const source = plan.source;
  switch (source.kind) {
    case 'files':
      for (const item of source.runs) {
        process.env['PACT_DESCRIPTION'] = descriptionFilter(item.description);
        await verify(
          { ...item, startedAt: Date.now(), durationMs: 0, states: [], filterErrors: [], filterLog: [], refused: [] },
          { pactUrls: [item.pactFile], publishVerificationResult: false },
        );
      }
      delete process.env['PACT_DESCRIPTION'];
      break;
    case 'broker': {
      const { broker } = source;
      await verify(
        { startedAt: Date.now(), durationMs: 0, states: [], filterErrors: [], filterLog: [], refused: [] },
        {
          pactBrokerUrl: broker.url,
          ...(broker.token ? { pactBrokerToken: broker.token } : {}),
          ...(broker.username ? { pactBrokerUsername: broker.username } : {}),
          ...(broker.password ? { pactBrokerPassword: broker.password } : {}),
          consumerVersionSelectors: broker.consumerVersionSelectors,
          enablePending: source.enablePending,
          ...(broker.includeWipPactsSince ? { includeWipPactsSince: broker.includeWipPactsSince } : {}),
          publishVerificationResult: broker.publish,
          ...(broker.providerVersionBranch ? { providerVersionBranch: broker.providerVersionBranch } : {}),
          providerVersionTags: broker.providerVersionTags,
          ...(broker.buildUrl ? { buildUrl: broker.buildUrl } : {}),
        },
      );
      break;
    }
  }
  results.finished = true;
  await save();
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
