/**
 * Child process that runs Pact's provider verifier for one provider (spawned by verify-provider.ts).
 * Reads a plan (JSON) on stdin, writes results to `plan.resultsFile` after every verifier run, and
 * leaves Pact's console output on its own stdout, which the parent keeps as evidence.
 *
 * This file is a process entry point, so it sets environment variables: pact-core takes its
 * interaction filter (PACT_DESCRIPTION) and its telemetry opt-out only from the environment.
 */
import { rename, writeFile } from 'node:fs/promises';
import type { VerifierOptions } from '@pact-foundation/pact';
import type { Json } from './templates.ts';
import { Credentials, dockerExec, runSteps, setUpState } from './state-actions.ts';
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
  const base: Omit<StepTarget, 'credentials'> = {
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
    principals: plan.config.principals,
  };
  return { ...base, credentials: plan.config.auth ? new Credentials(plan.config.auth, base) : undefined };
}

async function main(): Promise<void> {
  const plan = workerPlanSchema.parse(JSON.parse(await readStdin()));
  process.env['PACT_DO_NOT_TRACK'] = 'true';
  const { Verifier } = await import('@pact-foundation/pact');
  const target = stepTarget(plan);
  const results: WorkerResults = { schemaVersion: 1, setup: { ok: true, log: [] }, runs: [], finished: false };
  const save = async (): Promise<void> => {
    await writeFile(`${plan.resultsFile}.tmp`, JSON.stringify(results));
    await rename(`${plan.resultsFile}.tmp`, plan.resultsFile);
  };

  try {
    await runSteps(plan.config.setup, {}, {}, target, (line) => results.setup.log.push(line));
  } catch (error) {
    results.setup = { ok: false, error: message(error), log: results.setup.log };
    results.finished = true;
    await save();
    return;
  }

  // The run in progress and the principal its provider state chose (undefined: the default).
  let current: { run: WorkerRun; principal: string | null | undefined } | undefined;
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
            const vars = await setUpState(action, given, target, log);
            varsByState.set(name, vars);
            event.values = Object.keys(vars);
            return vars;
          }
          await runSteps(action.teardown, varsByState.get(name) ?? {}, given, target, log);
          return undefined;
        } catch (error) {
          event.ok = false;
          event.error = message(error);
          throw error;
        }
      };
    stateHandlers[name] = { setup: handle('setup'), teardown: handle('teardown') };
  }
  // pact-js calls the state endpoint with an empty state for interactions that have none.
  stateHandlers[''] = { setup: () => Promise.resolve(undefined), teardown: () => Promise.resolve(undefined) };

  /** Replaces the credentials a pact sends (an example) with fresh ones of the interaction's principal. */
  const requestFilter = (req: FilterRequest, _res: unknown, next: Next): void => {
    const credentials = target.credentials;
    if (!credentials || !current || req.headers[credentials.headerName] === undefined) {
      next();
      return;
    }
    const run = current.run;
    const principal = current.principal === undefined ? credentials.defaultPrincipal : current.principal;
    if (principal === null) {
      next();
      return;
    }
    if (principal === undefined) {
      run.filterErrors.push(
        `the request carries ${credentials.headerName} but neither the provider state nor auth.defaultPrincipal names a principal`,
      );
      next();
      return;
    }
    credentials.header(principal).then(
      (value) => {
        req.headers[credentials.headerName] = value;
        next();
      },
      (error: unknown) => {
        run.filterErrors.push(`fresh credentials for "${principal}": ${message(error)}`);
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
      if (current) current.principal = undefined;
      return Promise.resolve();
    },
    logLevel: plan.logLevel,
    timeout: plan.config.requestTimeoutMs,
    providerVersion: plan.providerVersion,
  };

  const verify = async (run: WorkerRun, options: Partial<VerifierOptions>): Promise<void> => {
    current = { run, principal: undefined };
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
          { ...item, startedAt: Date.now(), durationMs: 0, states: [], filterErrors: [] },
          { pactUrls: [item.pactFile], publishVerificationResult: false },
        );
      }
      delete process.env['PACT_DESCRIPTION'];
      break;
    case 'broker': {
      const { broker } = source;
      await verify(
        { startedAt: Date.now(), durationMs: 0, states: [], filterErrors: [] },
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
