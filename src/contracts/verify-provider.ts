import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { exec, tail } from '../core/exec.ts';
import { siblingModule } from '../core/package-paths.ts';
import type { Redactor } from '../core/redact.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { workerResultsSchema } from './worker-protocol.ts';
import { stripAnsi } from './verifier-report.ts';
import type { WorkerPlanInput, WorkerResults } from './worker-protocol.ts';

const WORKER = siblingModule(import.meta.url, 'verifier-worker');

/** `service -> container port -> http://host:port`, and `service -> container id`, from the stack handle. */
export function stackEndpoints(handle: StackHandle): {
  serviceUrls: Record<string, Record<string, string>>;
  containers: Record<string, string>;
} {
  const serviceUrls: Record<string, Record<string, string>> = {};
  const containers: Record<string, string> = {};
  for (const [id, service] of Object.entries(handle.services)) {
    serviceUrls[id] = Object.fromEntries(
      Object.entries(service.endpoint.ports).map(([port, hostPort]) => [
        port,
        `http://${service.endpoint.host}:${hostPort}`,
      ]),
    );
    if (service.containerId !== undefined) containers[id] = service.containerId;
  }
  return { serviceUrls, containers };
}

/** The secrets file the worker appends to (one JSON string per line); a line cut short by a kill is skipped. */
export async function readSecrets(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  });
  const secrets: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (typeof value === 'string' && value !== '') secrets.push(value);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  return secrets;
}

export interface WorkerOutcome {
  /** Whatever the worker wrote, even when it was stopped part-way. */
  readonly results: WorkerResults | undefined;
  /** Why results are missing or incomplete; undefined when the worker finished cleanly. */
  readonly problem: string | undefined;
  readonly durationMs: number;
  /** Secrets the worker obtained (tokens, keys, cookie values), already registered with the redactor. */
  readonly secrets: readonly string[];
}

/**
 * Runs the verifier worker for one provider: the plan goes in on stdin, results come back in a
 * file, and the worker's console output (Pact's own report) is kept, redacted, in `logFile`.
 */
export async function runVerifierWorker(
  plan: Omit<WorkerPlanInput, 'resultsFile' | 'secretsFile'>,
  options: {
    readonly timeoutMs: number;
    readonly signal: AbortSignal;
    readonly logFile: string;
    readonly redact: Redactor;
  },
): Promise<WorkerOutcome> {
  const scratch = await mkdtemp(join(tmpdir(), 'readiness-pact-'));
  const resultsFile = join(scratch, 'results.json');
  const secretsFile = join(scratch, 'secrets.ndjson');
  try {
    const run = await exec(process.execPath, [WORKER], {
      input: JSON.stringify({ ...plan, resultsFile, secretsFile }),
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
    // Before anything the worker wrote is kept: it may hold what these secrets are.
    const secrets = await readSecrets(secretsFile);
    options.redact.register(...secrets);
    await mkdir(dirname(options.logFile), { recursive: true });
    await writeFile(
      options.logFile,
      options.redact(
        stripAnsi(
          `$ node verifier-worker.ts (exit ${run.exitCode ?? run.signal ?? '?'}, ${Math.round(run.durationMs)}ms)\n${run.stdout}\n${run.stderr}`,
        ),
      ),
    );
    let results: WorkerResults | undefined;
    let unreadable: string | undefined;
    try {
      results = workerResultsSchema.parse(JSON.parse(await readFile(resultsFile, 'utf8')));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        unreadable = `its results file is unreadable: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    let problem: string | undefined;
    if (options.signal.aborted) problem = 'interrupted';
    else if (run.timedOut) problem = `the verifier did not finish within contract.timeoutMs=${options.timeoutMs}ms`;
    else if (run.exitCode !== 0)
      problem = `the verifier worker exited ${run.exitCode ?? run.signal ?? '?'}: ${tail(run.stderr, 5)}`;
    else if (unreadable) problem = unreadable;
    else if (!results) problem = 'the verifier worker wrote no results';
    else if (!results.finished) problem = 'the verifier worker stopped before the end';
    return {
      results,
      problem: problem === undefined ? undefined : options.redact(problem),
      durationMs: run.durationMs,
      secrets,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
