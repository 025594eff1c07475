import { z } from 'zod';
import { authConfigSchema } from '../config/auth.ts';
import { contractBrokerSchema, contractProviderSchema } from '../config/stages/contract.ts';

/**
 * The verifier runs in a child process (verifier-worker.ts): Pact's native verifier prints to
 * file descriptor 1 and can crash the process, and neither may touch the CLI's terminal or state.
 * Parent and worker exchange a plan (stdin) and a results file, both parsed with these schemas.
 */

const fileRunSchema = z.strictObject({
  pactFile: z.string(),
  consumer: z.string(),
  description: z.string(),
});

export const workerPlanSchema = z.strictObject({
  schemaVersion: z.literal(1),
  provider: z.string(),
  providerBaseUrl: z.string(),
  /** `service -> container port -> http://host:port` for steps that call a service. */
  serviceUrls: z.record(z.string(), z.record(z.string(), z.string())),
  /** `service -> container id` for `exec` steps. */
  containers: z.record(z.string(), z.string()),
  config: contractProviderSchema,
  /**
   * The top-level `auth` section with every value reference resolved (the worker has no service
   * env), where credential requests go by default, and each service's first port for the others.
   */
  auth: z.strictObject({
    config: authConfigSchema,
    target: z.strictObject({ service: z.string(), port: z.number() }),
    defaultPorts: z.record(z.string(), z.number()),
  }),
  providerVersion: z.string(),
  logLevel: z.enum(['error', 'warn', 'info', 'debug', 'trace']),
  source: z.discriminatedUnion('kind', [
    /** One verifier run per interaction (filtered by description), so each has its own evidence. */
    z.strictObject({ kind: z.literal('files'), runs: z.array(fileRunSchema) }),
    /** One unfiltered run against the broker (filtered runs are never published). */
    z.strictObject({ kind: z.literal('broker'), broker: contractBrokerSchema, enablePending: z.boolean() }),
  ]),
  resultsFile: z.string(),
  /**
   * The worker appends each secret it obtains (tokens, keys, cookie values) to this file as one JSON
   * string per line, at once, so the parent redacts them even from the log of a worker that crashed.
   */
  secretsFile: z.string(),
});
export type WorkerPlan = z.infer<typeof workerPlanSchema>;
export type WorkerPlanInput = z.input<typeof workerPlanSchema>;

const stateEventSchema = z.strictObject({
  state: z.string(),
  action: z.enum(['setup', 'teardown']),
  ok: z.boolean(),
  error: z.string().optional(),
  /** What the action did: `POST /v1/orders -> 201 (45ms)`; no values. */
  log: z.array(z.string()),
  /** Names of the provider-state values handed to the verifier. */
  values: z.array(z.string()),
  /** The system refused a credential the action needed (a login, a sign-up): its answer, as evidence. */
  refused: z.string().optional(),
});
export type StateEvent = z.infer<typeof stateEventSchema>;

const workerRunSchema = z.strictObject({
  /** The pact file and interaction a filtered run verified; absent for a broker run. */
  pactFile: z.string().optional(),
  consumer: z.string().optional(),
  description: z.string().optional(),
  startedAt: z.number(),
  durationMs: z.number(),
  states: z.array(stateEventSchema),
  /** Problems of the request filter (e.g. a login answer without the configured token field). */
  filterErrors: z.array(z.string()),
  /** Whose credentials the request filter put on the request and how they were obtained (no secrets). */
  filterLog: z.array(z.string()).default([]),
  /** Credentials the request filter needed and the system refused: message and the system's answer. */
  refused: z.array(z.strictObject({ message: z.string(), evidence: z.string() })).default([]),
  /** The verifier's JSON report, as text. */
  report: z.string().optional(),
  /** The verifier failed without a report (crash, invalid arguments). */
  error: z.string().optional(),
});
export type WorkerRun = z.infer<typeof workerRunSchema>;

export const workerResultsSchema = z.strictObject({
  schemaVersion: z.literal(1),
  setup: z.strictObject({
    ok: z.boolean(),
    error: z.string().optional(),
    log: z.array(z.string()),
    /** The system refused a credential a setup step needed: its answer, as evidence. */
    refused: z.string().optional(),
  }),
  runs: z.array(workerRunSchema),
  finished: z.boolean(),
});
export type WorkerResults = z.infer<typeof workerResultsSchema>;

/** A description as an anchored regular expression: the verifier's PACT_DESCRIPTION filter is a regex search. */
export function descriptionFilter(description: string): string {
  return `^${description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}
