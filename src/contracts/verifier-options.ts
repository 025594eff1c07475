import type { VerifierOptions } from '@pact-foundation/pact';
import type { WorkerPlan, WorkerRun } from './worker-protocol.ts';

/** What the request filter does with one request of an interaction. */
type CredentialDecision =
  | { readonly kind: 'keep' }
  | { readonly kind: 'unnamed'; readonly error: string }
  | { readonly kind: 'fresh'; readonly principal: string };

/**
 * Whether a pact's request gets fresh credentials, and whose: only a request that carries credentials
 * (`header` when set, else any of the principals' credential headers) gets them, from the principal its
 * provider state chose (undefined: the default; null: none). A request carrying credentials with no
 * principal named anywhere is a filter error.
 */
export function credentialDecision(input: {
  readonly chosen: string | null | undefined;
  readonly defaultPrincipal: string | undefined;
  readonly headerOption: string | undefined;
  readonly credentialHeaders: readonly string[];
  readonly sent: Readonly<Record<string, string | string[] | undefined>>;
}): CredentialDecision {
  const principal = input.chosen === undefined ? input.defaultPrincipal : input.chosen;
  const carried = (input.headerOption === undefined ? input.credentialHeaders : [input.headerOption]).filter(
    (h) => input.sent[h] !== undefined,
  );
  if (principal === null || carried.length === 0) return { kind: 'keep' };
  if (principal === undefined)
    return {
      kind: 'unnamed',
      error: `the request carries ${carried.join(', ')} but neither the provider state nor auth.defaultPrincipal names a principal`,
    };
  return { kind: 'fresh', principal };
}

/** A verifier run not yet run: no states, filter problems or duration recorded. */
export function emptyRun(startedAt: number): WorkerRun {
  return { startedAt, durationMs: 0, states: [], filterErrors: [], filterLog: [], refused: [] };
}

/** The verifier options of one unfiltered run against a Pact broker: only the settings the config gives. */
export function brokerVerifierOptions(
  source: Extract<WorkerPlan['source'], { kind: 'broker' }>,
): Partial<VerifierOptions> {
  const { broker } = source;
  return {
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
  };
}
