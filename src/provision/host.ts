import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { execOrThrow } from '../core/exec.ts';
import type { Reporter } from '../core/reporter.ts';

/** Directories searched after PATH: where Debian and the Go tarball put tools non-login shells may miss. */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/go/bin'];

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of an executable on PATH (then the usual system dirs), or undefined. */
export async function findExecutable(
  name: string,
  pathEnv: string | undefined = process.env['PATH'],
): Promise<string | undefined> {
  const dirs = [...(pathEnv ?? '').split(delimiter).filter((d) => d !== ''), ...EXTRA_DIRS];
  for (const dir of new Set(dirs)) {
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** What the host allows us to install on our own. */
export interface HostFacts {
  readonly isRoot: boolean;
  readonly isDebian: boolean;
}

export async function hostFacts(): Promise<HostFacts> {
  let isDebian = true;
  try {
    await access('/etc/debian_version', constants.R_OK);
  } catch {
    isDebian = false;
  }
  return { isRoot: process.getuid?.() === 0, isDebian };
}

let aptUpdated: Promise<void> | undefined;

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

/** `apt-get update` once per process, then `apt-get install -y` the packages. */
export async function aptInstall(packages: readonly string[], reporter?: Reporter): Promise<void> {
  if (aptUpdated === undefined) {
    reporter?.onInfo?.('apt-get update');
    aptUpdated = execOrThrow('apt-get', ['update'], { env: APT_ENV, timeoutMs: 5 * 60_000 }).then(
      () => undefined,
      (error: unknown) => {
        aptUpdated = undefined;
        throw error;
      },
    );
  }
  await aptUpdated;
  reporter?.onInfo?.(`apt-get install -y ${packages.join(' ')}`);
  await execOrThrow('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
    env: APT_ENV,
    timeoutMs: 15 * 60_000,
  });
}
