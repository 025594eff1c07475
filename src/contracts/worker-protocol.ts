import { z } from 'zod';
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
  providerVersion: z.string(),
  logLevel: z.enum(['error', 'warn', 'info', 'debug', 'trace']),
  source: z.discriminatedUnion('kind', [
    /** One verifier run per interaction (filtered by description), so each has its own evidence. */
    z.strictObject({ kind: z.literal('files'), runs: z.array(fileRunSchema) }),
    /** One unfiltered run against the broker (filtered runs are never published). */
    z.strictObject({ kind: z.literal('broker'), broker: contractBrokerSchema, enablePending: z.boolean() }),
  ]),
  resultsFile: z.string(),
});
export type WorkerPlan = z.infer<typeof workerPlanSchema>;
export type WorkerPlanInput = z.input<typeof workerPlanSchema>;

export const stateEventSchema = z.strictObject({
  state: z.string(),
  action: z.enum(['setup', 'teardown']),
  ok: z.boolean(),
  error: z.string().optional(),
  /** What the action did: `POST /v1/orders -> 201 (45ms)`; no values. */
  log: z.array(z.string()),
  /** Names of the provider-state values handed to the verifier. */
  values: z.array(z.string()),
});
export type StateEvent = z.infer<typeof stateEventSchema>;

export const workerRunSchema = z.strictObject({
  /** The pact file and interaction a filtered run verified; absent for a broker run. */
  pactFile: z.string().optional(),
  consumer: z.string().optional(),
  description: z.string().optional(),
  startedAt: z.number(),
  durationMs: z.number(),
  states: z.array(stateEventSchema),
  /** Problems of the request filter (e.g. a login for fresh credentials failed). */
  filterErrors: z.array(z.string()),
  /** The verifier's JSON report, as text. */
  report: z.string().optional(),
  /** The verifier failed without a report (crash, invalid arguments). */
  error: z.string().optional(),
});
export type WorkerRun = z.infer<typeof workerRunSchema>;

export const workerResultsSchema = z.strictObject({
  schemaVersion: z.literal(1),
  setup: z.strictObject({ ok: z.boolean(), error: z.string().optional(), log: z.array(z.string()) }),
  runs: z.array(workerRunSchema),
  finished: z.boolean(),
});
export type WorkerResults = z.infer<typeof workerResultsSchema>;

/** A description as an anchored regular expression: the verifier's PACT_DESCRIPTION filter is a regex search. */
export function descriptionFilter(description: string): string {
  return `^${description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}
