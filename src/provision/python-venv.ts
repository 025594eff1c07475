import { createHash } from 'node:crypto';
import { access, mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, ToolFailedError, ToolMissingError } from '../core/errors.ts';
import { execOrThrow } from '../core/exec.ts';
import type { Reporter } from '../core/reporter.ts';
import { lockPath, resolveCacheDir, withFileLock } from './cache.ts';
import { findExecutable } from './host.ts';

/** A Python tool set installed from a pinned requirements file into its own cached venv. */
interface PythonVenvSpec {
  /** Cache name: `<cache>/venvs/<name>-<hash>`. */
  readonly name: string;
  /** Every line `package==version` (the full closure: installed with --no-deps). */
  readonly requirementsFile: string;
}

interface EnsurePythonVenvOptions {
  readonly cacheDir?: string;
  readonly reporter?: Reporter;
  /** The interpreter; default `python3` on PATH. */
  readonly python?: string;
  readonly timeoutMs?: number;
}

interface PythonVenv {
  readonly dir: string;
  readonly python: string;
  /** Path of a console script of the venv, e.g. `bin('st')`. */
  bin(name: string): string;
}

const MARKER = '.readiness-complete';
const PINNED = /^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!_-]+(\s*;.*)?(\s+--hash=\S+)*$/;

/** Problems with a requirements file that is not fully pinned (`pkg==1.2.3` per line). */
export function unpinnedRequirements(text: string, file: string): string[] {
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    if (!PINNED.test(line)) problems.push(`${file}:${i + 1}: "${line}" is not pinned; write package==version`);
  });
  return problems;
}

/** The venv directory for a requirements text and interpreter version: a new pin set means a new venv. */
export function pythonVenvDir(cacheDir: string, name: string, requirements: string, pythonVersion: string): string {
  const hash = createHash('sha256').update(`${pythonVersion}\n${requirements}`).digest('hex').slice(0, 12);
  return join(cacheDir, 'venvs', `${name}-${hash}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function venvOf(dir: string): PythonVenv {
  return { dir, python: join(dir, 'bin', 'python'), bin: (name) => join(dir, 'bin', name) };
}

/**
 * A venv with exactly the pinned requirements, created once under the readiness cache (locked
 * against concurrent runs) and reused while the requirements and the interpreter stay the same.
 * Venvs are not relocatable, so it is built in place and marked complete at the end; a half-built
 * one (no marker) is removed and built again.
 */
export async function ensurePythonVenv(
  spec: PythonVenvSpec,
  options: EnsurePythonVenvOptions = {},
): Promise<PythonVenv> {
  let requirements: string;
  try {
    requirements = await readFile(spec.requirementsFile, 'utf8');
  } catch (error) {
    throw new ConfigError([`${spec.requirementsFile}: requirements file not found`], { cause: error });
  }
  const problems = unpinnedRequirements(requirements, spec.requirementsFile);
  if (problems.length > 0) throw new ConfigError(problems);
  const python = options.python ?? (await findExecutable('python3'));
  if (python === undefined) {
    throw new ToolMissingError(`python3 is needed for ${spec.name} (${spec.requirementsFile}) and is not installed`, {
      hint: 'install Python >= 3.10 with venv and pip (apt-get install -y python3 python3-venv python3-pip)',
    });
  }
  const version = (
    await execOrThrow(python, ['-c', 'import sys; print(sys.version.split()[0])'], { timeoutMs: 30_000 })
  ).stdout.trim();
  const cacheDir = options.cacheDir ?? resolveCacheDir();
  const dir = pythonVenvDir(cacheDir, spec.name, requirements, `${await realpath(python)} ${version}`);
  if (await exists(join(dir, MARKER))) return venvOf(dir);

  return withFileLock(
    lockPath(cacheDir, `venv-${spec.name}`),
    async () => {
      if (await exists(join(dir, MARKER))) return venvOf(dir);
      await rm(dir, { recursive: true, force: true });
      await mkdir(join(cacheDir, 'venvs'), { recursive: true });
      options.reporter?.onInfo?.(
        `Installing ${spec.name} Python tools from ${spec.requirementsFile} (first time only)`,
      );
      const started = performance.now();
      const venv = venvOf(dir);
      const timeoutMs = options.timeoutMs ?? 10 * 60_000;
      try {
        await execOrThrow(python, ['-m', 'venv', dir], { timeoutMs: 120_000 });
        await execOrThrow(
          venv.python,
          [
            '-m',
            'pip',
            'install',
            '--no-deps',
            '--disable-pip-version-check',
            '--no-input',
            '-r',
            spec.requirementsFile,
          ],
          { timeoutMs },
        );
        // --no-deps trusts the file to hold the whole closure; pip check proves it does.
        await execOrThrow(venv.python, ['-m', 'pip', 'check', '--disable-pip-version-check'], { timeoutMs: 60_000 });
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        throw new ToolFailedError(
          `could not install ${spec.requirementsFile} into a venv: ${(error as Error).message}`,
          {
            cause: error,
            hint: 'check that PyPI is reachable (pip config, PIP_INDEX_URL) and that every pinned version exists for this Python',
          },
        );
      }
      await writeFile(
        join(dir, MARKER),
        `${JSON.stringify({ requirements: spec.requirementsFile, python: version, createdAt: new Date().toISOString() })}\n`,
      );
      options.reporter?.onInfo?.(
        `Installed ${spec.name} in ${((performance.now() - started) / 1000).toFixed(1)}s -> ${dir}`,
      );
      return venv;
    },
    {
      what: `the ${spec.name} venv`,
      ...(options.reporter ? { reporter: options.reporter } : {}),
      timeoutMs: 15 * 60_000,
    },
  );
}
