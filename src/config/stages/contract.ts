import { z } from 'zod';
import { DISPOSABLE } from '../auth.ts';
import { checkServicePort } from './refine-context.ts';
import type { RefinementCtx } from './refine-context.ts';

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a lower-case name of letters, digits and dashes');
const port = z.number().int().min(1).max(65535);
const ms = z.number().int().positive();
/** A template variable: usable as `{{name}}` in later steps and returned to Pact as a provider-state value. */
const varName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name of letters, digits and _');
const status = z.number().int().min(100).max(599);

/** One HTTP request; strings in path, headers and body are templates (`{{var}}`, `{{principals.x.username}}`, `{{uuid}}`). */
const httpRequestShape = {
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
  path: z.string().startsWith('/'),
  /** Service to call; defaults to the provider's service. */
  service: name.optional(),
  /** Container port of that service; defaults to the provider's port when the service is the provider. */
  port: port.optional(),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.json().optional(),
};

const httpStepSchema = z.strictObject({
  kind: z.literal('http'),
  ...httpRequestShape,
  /**
   * Principal of the top-level `auth.principals` whose credentials (`Credentials.headers`, any scheme)
   * this request carries; `'disposable'`: the throwaway user of the provider state (`auth.disposable`).
   */
  as: z.string().min(1).optional(),
  expectStatus: z.array(status).min(1).default([200, 201, 204]),
  /** Variables taken from the JSON response: `{ orderId: 'id' }` (dotted path, `items.0.id`). */
  capture: z.record(varName, z.string().min(1)).default({}),
});

const execStepSchema = z.strictObject({
  kind: z.literal('exec'),
  /** Service whose container runs the command (`docker exec`), e.g. the database. */
  service: name,
  command: z.array(z.string()).min(1),
  expectExitCode: z.number().int().default(0),
  /** Variable that receives the command's trimmed stdout. */
  captureStdout: varName.optional(),
  timeoutMs: ms.default(30_000),
});

const stepSchema = z.discriminatedUnion('kind', [httpStepSchema, execStepSchema]);

const stateActionSchema = z.strictObject({
  /**
   * Principal of the top-level `auth.principals` whose fresh credentials the request filter injects for
   * interactions in this state; `'disposable'`: a throwaway user signed up for the state
   * (`auth.disposable`); `null` leaves the pact's own header alone.
   */
  principal: z.union([z.string().min(1), z.null()]).optional(),
  /** Variables set before the steps run (templates; `{{uuid}}` is a fresh UUID each time it appears). */
  vars: z.record(varName, z.string()).default({}),
  steps: z.array(stepSchema).default([]),
  teardown: z.array(stepSchema).default([]),
});

/** Keys of the former per-provider login machinery, rejected with where each went. */
const moved = (fix: string) =>
  z
    .unknown()
    .refine(() => false, { message: `was removed: ${fix} (see docs/auth.md)`, abort: true })
    .optional()
    .meta({ description: `Removed: ${fix}.` });

/** How the request filter uses the top-level `auth` principals for this provider. */
const authSchema = z.strictObject({
  /**
   * The request header that marks an authenticated request in the pact: when the pact sends it, the
   * filter replaces it with the principal's credentials. Default: each header of the principal's
   * credentials (`authorization`, `cookie`, `x-api-key`...) that the pact sends is replaced.
   */
  header: z
    .string()
    .min(1)
    .transform((h) => h.toLowerCase())
    .optional(),
  /** Principal (of `auth.principals`) used when an interaction's provider state names none. */
  defaultPrincipal: z.string().min(1).optional(),
  login: moved('log in through the top-level auth.principals.<name> (scheme bearer with login, or another scheme)'),
  tokenPath: moved('the token field is auth.principals.<name>.tokenField'),
  expiresInPath: moved('the lifetime field is auth.principals.<name>.expiresInField'),
  value: moved("the header value is auth.principals.<name>.header/prefix (or the scheme's own)"),
  maxAgeMs: moved('renewal is auth.principals.<name>.maxAgeMs (or expiresInField)'),
});

/** One provider to verify; exported for the verifier worker's plan (a process boundary). */
export const contractProviderSchema = z.strictObject({
  /** The stack service that implements this provider; verification goes to its host endpoint. */
  service: name,
  port,
  principals: moved(
    'declare the principals in the top-level auth.principals (username, password, scheme); templates read them as {{principals.<name>.username}}',
  ),
  auth: authSchema.optional(),
  /** Steps run once before the provider's first interaction (e.g. sign up the principals; accept 409). */
  setup: z.array(stepSchema).default([]),
  /** Provider states by name, exactly as consumers write them in `given(...)`. */
  states: z.record(z.string().min(1), stateActionSchema).default({}),
  /** Per-request timeout of the verifier. */
  requestTimeoutMs: ms.default(10_000),
});

/** Where pacts come from and results go when a Pact Broker is used. */
export const contractBrokerSchema = z.strictObject({
  url: z.url(),
  token: z.string().min(1).optional(),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  /** Publish verification results (with the provider version) back to the broker. */
  publish: z.boolean().default(false),
  consumerVersionSelectors: z
    .array(
      z.strictObject({
        tag: z.string().optional(),
        latest: z.boolean().optional(),
        consumer: z.string().optional(),
        deployedOrReleased: z.boolean().optional(),
        deployed: z.boolean().optional(),
        released: z.boolean().optional(),
        environment: z.string().optional(),
        fallbackTag: z.string().optional(),
        branch: z.string().optional(),
        mainBranch: z.boolean().optional(),
        matchingBranch: z.boolean().optional(),
      }),
    )
    .default([{ mainBranch: true }, { deployedOrReleased: true }]),
  providerVersionBranch: z.string().min(1).optional(),
  providerVersionTags: z.array(z.string()).default([]),
  /** ISO date: also verify work-in-progress pacts since then (they are pending). */
  includeWipPactsSince: z.string().min(1).optional(),
  buildUrl: z.url().optional(),
});

/** Config of the `contract` stage (`contract: {...}` in readiness.config.ts). */
export const contractConfigSchema = z.strictObject({
  /** Folder of the committed pact files (relative to the config file). */
  pactDir: z.string().min(1).default('contracts/pacts'),
  /** Providers to verify; a listed provider without any pact is `unknown`, never passed. */
  providers: z
    .record(name, contractProviderSchema)
    .refine((p) => Object.keys(p).length > 0, 'declare at least one provider to verify'),
  pending: z
    .strictObject({
      /** Pacts of these consumers are pending: a failed interaction is `skipped` (not gating), never passed. */
      consumers: z.array(name).default([]),
      /** Let the broker mark pacts pending (Pact's "pending pacts"); only with `broker`. */
      enablePending: z.boolean().default(false),
    })
    .default({ consumers: [], enablePending: false }),
  /** Provider version for the matrix and published results; defaults to the checkout's git SHA. */
  providerVersion: z.string().min(1).optional(),
  /** Fetch pacts from (and publish results to) a Pact Broker instead of `pactDir`. */
  broker: contractBrokerSchema.optional(),
  /** Budget for verifying one provider (all its interactions). */
  timeoutMs: ms.default(180_000),
  logLevel: z.enum(['error', 'warn', 'info', 'debug', 'trace']).default('warn'),
});

export type ContractConfig = z.output<typeof contractConfigSchema>;
export type ContractProviderConfig = ContractConfig['providers'][string];
export type ContractStep = z.output<typeof stepSchema>;
/** A step as written in a config file (defaults not yet applied). */
export type ContractStepInput = z.input<typeof stepSchema>;
export type ContractHttpStep = z.output<typeof httpStepSchema>;
export type ContractStateAction = z.output<typeof stateActionSchema>;
export type ContractBroker = z.output<typeof contractBrokerSchema>;

/** Cross-checks against the rest of the config (services, ports, principals of `auth`); issues under `contract`. */
export function refineContract(
  config: RefinementCtx['config'] & {
    readonly contract?: ContractConfig | undefined;
    readonly auth?:
      { readonly principals: Readonly<Record<string, unknown>>; readonly disposable?: unknown } | undefined;
  },
  ctx: RefinementCtx['ctx'],
): void {
  const contract = config.contract;
  if (!contract) {
    if (config.stages.includes('contract')) {
      ctx.addIssue({
        code: 'custom',
        path: ['contract'],
        message:
          'is required when stages lists "contract"; declare contract.providers.<name> = { service, port, states }',
      });
    }
    return;
  }
  const services = config.services;
  for (const [id, provider] of Object.entries(contract.providers)) {
    const at = ['contract', 'providers', id];
    checkServicePort(config, ctx, at, provider);
    const principals = new Set(Object.keys(config.auth?.principals ?? {}));
    const checkPrincipal = (principal: string | null | undefined, path: readonly PropertyKey[]): void => {
      if (principal === null || principal === undefined) return;
      if (principal === DISPOSABLE) {
        if (config.auth?.disposable === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [...path],
            message: 'names "disposable" but auth.disposable is not set (how to sign up a throwaway user)',
          });
        }
      } else if (!principals.has(principal)) {
        ctx.addIssue({
          code: 'custom',
          path: [...path],
          message: `names principal "${principal}", which auth.principals does not declare (known: ${[...principals].join(', ') || 'none'})`,
        });
      }
    };
    const checkSteps = (steps: readonly ContractStep[], path: readonly PropertyKey[]): void => {
      steps.forEach((step, i) => {
        const stepPath = [...path, i];
        if (!services[step.service ?? provider.service]) {
          ctx.addIssue({
            code: 'custom',
            path: [...stepPath, 'service'],
            message: `names unknown service "${step.service ?? ''}"`,
          });
        }
        if (step.kind === 'http') {
          checkPrincipal(step.as, [...stepPath, 'as']);
          const target = services[step.service ?? provider.service];
          const stepPort = step.port ?? (step.service === undefined ? provider.port : undefined);
          if (target && stepPort === undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [...stepPath, 'port'],
              message: `is required when the step calls another service ("${step.service ?? ''}")`,
            });
          } else if (target && stepPort !== undefined && !target.ports.includes(stepPort)) {
            ctx.addIssue({
              code: 'custom',
              path: [...stepPath, 'port'],
              message: `port ${stepPort} is not in services.${step.service ?? provider.service}.ports`,
            });
          }
        }
      });
    };
    if (provider.auth) checkPrincipal(provider.auth.defaultPrincipal, [...at, 'auth', 'defaultPrincipal']);
    checkSteps(provider.setup, [...at, 'setup']);
    for (const [state, action] of Object.entries(provider.states)) {
      checkPrincipal(action.principal, [...at, 'states', state, 'principal']);
      checkSteps(action.steps, [...at, 'states', state, 'steps']);
      checkSteps(action.teardown, [...at, 'states', state, 'teardown']);
    }
  }
}
