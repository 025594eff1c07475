import type { Authenticator, Credentials } from '../auth/authenticator.ts';
import type { AuthConfig } from '../config/auth.ts';
import { DISPOSABLE } from '../config/auth.ts';
import type { ContractHttpStep, ContractStateAction, ContractStep } from '../config/stages/contract.ts';
import { exec } from '../core/exec.ts';
import { render, renderText, valueAt } from './templates.ts';
import type { Json, TemplateScope } from './templates.ts';

/** What steps run against: the provider, other services of the stack, and their containers. */
export interface StepTarget {
  readonly providerService: string;
  readonly providerPort: number;
  /** `http://host:port` of a service's container port, seen from the host. */
  serviceUrl(service: string, port: number): string;
  /** Runs a command in a service's container. */
  execIn(
    service: string,
    command: readonly string[],
    timeoutMs: number,
  ): Promise<{ exitCode: number | null; stdout: string; stderr: string }>;
  readonly requestTimeoutMs: number;
  /** `{{principals.<name>.username}}` and friends. */
  readonly principals: PrincipalFields;
}

type HttpRequestSpec = Pick<ContractHttpStep, 'method' | 'path' | 'service' | 'port' | 'headers' | 'body'> & {
  readonly expectStatus: readonly number[];
};

const firstLine = (text: string, max = 300): string => {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max)}...` : line;
};

/** Sends one templated request and checks its status; returns the parsed JSON body (if any). */
async function sendRequest(
  spec: HttpRequestSpec,
  scope: TemplateScope,
  target: StepTarget,
  log: (line: string) => void,
  extraHeaders: Readonly<Record<string, string>> = {},
): Promise<unknown> {
  const service = spec.service ?? target.providerService;
  const port = spec.port ?? target.providerPort;
  const path = renderText(spec.path, scope);
  const headers: Record<string, string> = Object.fromEntries(
    Object.entries(spec.headers).map(([k, v]) => [k.toLowerCase(), renderText(v, scope)]),
  );
  Object.assign(headers, extraHeaders);
  let body: string | undefined;
  if (spec.body !== undefined) {
    body = JSON.stringify(render(spec.body, scope));
    headers['content-type'] ??= 'application/json';
  }
  const started = performance.now();
  const response = await fetch(`${target.serviceUrl(service, port)}${path}`, {
    method: spec.method,
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(target.requestTimeoutMs),
  });
  const text = await response.text();
  log(`${spec.method} ${path} -> ${response.status} (${Math.round(performance.now() - started)}ms)`);
  if (!spec.expectStatus.includes(response.status)) {
    throw new Error(
      `${spec.method} ${path} on ${service} answered ${response.status}, expected ${spec.expectStatus.join(' or ')}: ${firstLine(text)}`,
    );
  }
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** What a template reads as `{{principals.<name>.<field>}}`: who a principal is, never an obtained secret. */
type PrincipalFields = Readonly<Record<string, Readonly<Record<string, string>>>>;

/**
 * The template view of `auth.principals`: each principal's `username`, `password` and `role` where it
 * has them (value references already resolved, as the worker's plan carries them).
 */
export function principalFields(auth: AuthConfig): PrincipalFields {
  const out: Record<string, Record<string, string>> = {};
  for (const [id, principal] of Object.entries(auth.principals)) {
    const fields: Record<string, string> = {};
    if ('username' in principal && principal.username !== undefined) fields['username'] = principal.username;
    if ('password' in principal && typeof principal.password === 'string') fields['password'] = principal.password;
    if (principal.role !== undefined) fields['role'] = principal.role;
    out[id] = fields;
  }
  return out;
}

/** The request headers any configured principal's credentials occupy (lower case). */
export function credentialHeaderNames(auth: AuthConfig): string[] {
  const names = new Set<string>();
  for (const principal of Object.values(auth.principals)) {
    switch (principal.scheme) {
      case 'none':
        break;
      case 'bearer':
      case 'apiKey':
        names.add(principal.header.toLowerCase());
        break;
      case 'basic':
      case 'oauth2':
        names.add('authorization');
        break;
      case 'cookie':
        names.add('cookie');
        break;
    }
  }
  return [...names];
}

/**
 * Puts a principal's credential headers on a request the pact made (in place): with `header`, the
 * pact's `header` goes and every credential header comes; without, each credential header the pact
 * sends is replaced and none is added (a request without credentials stays without).
 */
export function applyCredentials(
  request: Record<string, string | string[] | undefined>,
  credentials: Readonly<Record<string, string>>,
  header?: string,
): void {
  if (header !== undefined) {
    if (request[header] === undefined) return;
    Reflect.deleteProperty(request, header);
    Object.assign(request, credentials);
    return;
  }
  for (const [name, value] of Object.entries(credentials)) if (request[name] !== undefined) request[name] = value;
}

/**
 * Credentials by principal name for one interaction (its provider states and its request): named
 * principals come from the shared authenticator (cached, renewed near their lifetime);
 * `'disposable'` is one throwaway user signed up the first time the interaction needs it.
 */
export class InteractionAuth {
  readonly #auth: Authenticator;
  readonly #label: string;
  #disposable: Promise<Credentials> | undefined;
  readonly #logged = new Set<string>();

  constructor(auth: Authenticator, label: string) {
    this.#auth = auth;
    this.#label = label;
  }

  /** The principal's credentials; the first use per interaction logs how they were obtained (no secrets). */
  async credentials(principal: string, log: (line: string) => void = () => undefined): Promise<Credentials> {
    const credentials =
      principal === DISPOSABLE
        ? await (this.#disposable ??= this.#auth.disposable(this.#label))
        : await this.#auth.credentials(principal);
    if (!this.#logged.has(principal)) {
      this.#logged.add(principal);
      log(`as ${principal}: ${credentials.evidence.join('; ')}`);
    }
    return credentials;
  }
}

async function runStep(
  step: ContractStep,
  vars: Record<string, Json>,
  params: Readonly<Record<string, Json>>,
  target: StepTarget,
  auth: InteractionAuth,
  log: (line: string) => void,
): Promise<void> {
  const scope: TemplateScope = { ...vars, params, principals: target.principals };
  switch (step.kind) {
    case 'http': {
      const headers = step.as === undefined ? {} : (await auth.credentials(step.as, log)).headers;
      const body = await sendRequest(step, scope, target, log, headers);
      for (const [name, path] of Object.entries(step.capture)) {
        const value = valueAt(body, path);
        if (value === undefined) {
          throw new Error(
            `${step.method} ${step.path}: cannot capture "${name}": the response has nothing at "${path}"`,
          );
        }
        vars[name] = value as Json;
      }
      return;
    }
    case 'exec': {
      const command = step.command.map((part) => renderText(part, scope));
      const started = performance.now();
      const result = await target.execIn(step.service, command, step.timeoutMs);
      log(
        `exec in ${step.service}: ${command[0] ?? ''} -> exit ${result.exitCode ?? 'killed'} (${Math.round(performance.now() - started)}ms)`,
      );
      if (result.exitCode !== step.expectExitCode) {
        throw new Error(
          `exec ${command[0] ?? ''} in ${step.service} exited ${result.exitCode ?? 'by signal'}, expected ${step.expectExitCode}: ${firstLine(result.stderr || result.stdout)}`,
        );
      }
      if (step.captureStdout !== undefined) vars[step.captureStdout] = result.stdout.trim();
      return;
    }
  }
}

/**
 * Runs steps in order; variables captured by one are visible to the next. Returns all variables. A
 * step `as` a principal carries that principal's credentials; a login the system refuses rejects
 * with its `SystemFailureError`.
 */
export async function runSteps(
  steps: readonly ContractStep[],
  vars: Readonly<Record<string, Json>>,
  params: Readonly<Record<string, Json>>,
  target: StepTarget,
  auth: InteractionAuth,
  log: (line: string) => void,
): Promise<Record<string, Json>> {
  const out: Record<string, Json> = { ...vars };
  for (const step of steps) await runStep(step, out, params, target, auth, log);
  return out;
}

/**
 * Sets a provider state up: renders its variables (in order, each may use the ones before), runs
 * its steps, and returns every variable as the provider-state values Pact injects into requests.
 */
export async function setUpState(
  action: ContractStateAction,
  params: Readonly<Record<string, Json>>,
  target: StepTarget,
  auth: InteractionAuth,
  log: (line: string) => void,
): Promise<Record<string, Json>> {
  const vars: Record<string, Json> = {};
  for (const [name, template] of Object.entries(action.vars)) {
    vars[name] = render(template, { ...vars, params, principals: target.principals });
  }
  return runSteps(action.steps, vars, params, target, auth, log);
}

/** `docker exec` in a container, for `exec` steps. */
export function dockerExec(
  containerId: string,
  command: readonly string[],
  timeoutMs: number,
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  return exec('docker', ['exec', containerId, ...command], { timeoutMs });
}
