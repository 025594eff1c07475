import type { ContractAuth, ContractHttpStep, ContractStateAction, ContractStep } from '../config/stages/contract.ts';
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
  readonly principals: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Fresh credentials of a principal as one header; undefined when the provider has no `auth`. */
  readonly credentials: Credentials | undefined;
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
  target: Omit<StepTarget, 'credentials'>,
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

/** Logs principals in through the configured login request and caches their tokens for a while. */
export class Credentials {
  readonly #auth: ContractAuth;
  readonly #target: Omit<StepTarget, 'credentials'>;
  readonly #now: () => number;
  readonly #cache = new Map<string, { value: string; expiresAt: number }>();

  constructor(auth: ContractAuth, target: Omit<StepTarget, 'credentials'>, now: () => number = Date.now) {
    this.#auth = auth;
    this.#target = target;
    this.#now = now;
  }

  get headerName(): string {
    return this.#auth.header;
  }

  get defaultPrincipal(): string | undefined {
    return this.#auth.defaultPrincipal;
  }

  /** The auth header value for a principal, logging in again when the cached token is too old. */
  async header(principal: string, log: (line: string) => void = () => undefined): Promise<string> {
    const cached = this.#cache.get(principal);
    if (cached && cached.expiresAt > this.#now()) return cached.value;
    const fields = this.#target.principals[principal];
    if (!fields) throw new Error(`unknown principal "${principal}"`);
    const loggedIn = await sendRequest(
      this.#auth.login,
      { principal: fields, principals: this.#target.principals },
      this.#target,
      (line) => log(`login as ${principal}: ${line}`),
    );
    const token = valueAt(loggedIn, this.#auth.tokenPath);
    if (typeof token !== 'string' || token === '') {
      throw new Error(`login as ${principal}: the response has no string at "${this.#auth.tokenPath}"`);
    }
    const lifetimeS = this.#auth.expiresInPath ? valueAt(loggedIn, this.#auth.expiresInPath) : undefined;
    // Renew at 80% of the token's own lifetime so a token never expires in flight.
    const ttlMs = Math.min(
      this.#auth.maxAgeMs,
      typeof lifetimeS === 'number' ? lifetimeS * 800 : Number.POSITIVE_INFINITY,
    );
    const value = renderText(this.#auth.value, { token });
    this.#cache.set(principal, { value, expiresAt: this.#now() + ttlMs });
    return value;
  }
}

async function runStep(
  step: ContractStep,
  vars: Record<string, Json>,
  params: Readonly<Record<string, Json>>,
  target: StepTarget,
  log: (line: string) => void,
): Promise<void> {
  const scope: TemplateScope = { ...vars, params, principals: target.principals };
  switch (step.kind) {
    case 'http': {
      let auth: Record<string, string> = {};
      if (step.as !== undefined) {
        if (!target.credentials) throw new Error(`step runs as "${step.as}" but the provider has no auth config`);
        auth = { [target.credentials.headerName]: await target.credentials.header(step.as, log) };
      }
      const body = await sendRequest(step, scope, target, log, auth);
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

/** Runs steps in order; variables captured by one are visible to the next. Returns all variables. */
export async function runSteps(
  steps: readonly ContractStep[],
  vars: Readonly<Record<string, Json>>,
  params: Readonly<Record<string, Json>>,
  target: StepTarget,
  log: (line: string) => void,
): Promise<Record<string, Json>> {
  const out: Record<string, Json> = { ...vars };
  for (const step of steps) await runStep(step, out, params, target, log);
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
  log: (line: string) => void,
): Promise<Record<string, Json>> {
  const vars: Record<string, Json> = {};
  for (const [name, template] of Object.entries(action.vars)) {
    vars[name] = render(template, { ...vars, params, principals: target.principals });
  }
  return runSteps(action.steps, vars, params, target, log);
}

/** `docker exec` in a container, for `exec` steps. */
export function dockerExec(
  containerId: string,
  command: readonly string[],
  timeoutMs: number,
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  return exec('docker', ['exec', containerId, ...command], { timeoutMs });
}
