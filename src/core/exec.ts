import { spawn } from 'node:child_process';
import { ToolFailedError, ToolMissingError } from './errors.ts';

export interface ExecOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  readonly input?: string;
  readonly signal?: AbortSignal;
  /** Called with each chunk of output as it arrives (progress, log files). */
  readonly onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
}

export interface ExecResult {
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly durationMs: number;
}

const MAX_CAPTURE = 4 * 1024 * 1024;

/** The last `lines` lines of a text, for error messages. */
export function tail(text: string, lines = 20): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Runs a command without a shell; never throws for a non-zero exit (see `execOrThrow`). */
export function exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const command = [file, ...args].join(' ');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const append = (current: string, chunk: string): string =>
      current.length > MAX_CAPTURE ? current : current + chunk;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout = append(stdout, chunk);
      options.onOutput?.(chunk, 'stdout');
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = append(stderr, chunk);
      options.onOutput?.(chunk, 'stderr');
    });
    const kill = (): void => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            kill();
          }, options.timeoutMs);
    options.signal?.addEventListener('abort', kill, { once: true });
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (error.code === 'ENOENT') {
        reject(new ToolMissingError(`Command not found: ${file}`, { cause: error, hint: `install ${file}` }));
      } else reject(error);
    });
    child.on('close', (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', kill);
      resolve({ command, exitCode, signal, stdout, stderr, timedOut, durationMs: performance.now() - started });
    });
  });
}

/** Runs a command and throws `ToolFailedError` (command, exit code, stderr tail) unless it exits 0. */
export async function execOrThrow(
  file: string,
  args: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const result = await exec(file, args, options);
  if (result.exitCode !== 0) {
    const why = result.timedOut
      ? `timed out after ${options.timeoutMs}ms`
      : `exited ${result.exitCode ?? result.signal}`;
    throw new ToolFailedError(`${result.command} ${why}\n${tail(result.stderr || result.stdout)}`);
  }
  return result;
}
