import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { systemClock } from '../core/clock.ts';
import type { Clock } from '../core/clock.ts';
import { ToolFailedError } from '../core/errors.ts';
import type { Reporter } from '../core/reporter.ts';

/**
 * The provisioning cache: `READINESS_CACHE` when set, else `~/.cache/readiness`.
 * The environment is an explicit argument so callers below `cli/` can pass what the CLI read.
 */
export function resolveCacheDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  home = homedir(),
): string {
  const override = env['READINESS_CACHE'];
  if (override !== undefined && override.trim() !== '') return override;
  return join(home, '.cache', 'readiness');
}

/** A unique sibling path for build-then-rename (same directory, so `rename` stays atomic). */
export function tempSibling(path: string): string {
  return join(dirname(path), `.tmp-${process.pid}-${randomBytes(4).toString('hex')}-${basenameOf(path)}`);
}

function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Writes a file atomically: readers see the old content or the new, never a torn one. */
export async function writeFileAtomic(path: string, content: string | Uint8Array, mode?: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempSibling(path);
  try {
    await writeFile(temp, content, mode === undefined ? undefined : { mode });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

interface FileLockOptions {
  /** How long to wait for another process to release the lock. */
  readonly timeoutMs?: number;
  readonly reporter?: Reporter;
  readonly clock?: Clock;
  /** What the lock protects, for the waiting message. */
  readonly what?: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes a lock whose owner died. The lock is renamed away first and only deleted when
 * the renamed file still names the dead owner, so two processes stealing at once cannot
 * delete a lock that a third has just taken.
 */
async function stealIfStale(path: string, deadPid: number): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  if ((await readOwner(aside)) === deadPid) {
    await rm(aside, { force: true });
    return;
  }
  // We moved a live lock away: put it back unless a new one was taken meanwhile.
  try {
    await rename(aside, path);
  } catch {
    await rm(aside, { force: true });
  }
}

/**
 * Runs `task` holding an exclusive lock file (`O_EXCL` create, owner pid inside) so two
 * processes provisioning at once serialise instead of building the same thing twice.
 * A lock left by a dead process is taken over.
 */
export async function withFileLock<T>(
  lockPath: string,
  task: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 20 * 60_000;
  const start = clock.monotonicMs();
  let announced = false;
  await mkdir(dirname(lockPath), { recursive: true });
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(lockPath);
    if (owner !== undefined && !isAlive(owner)) {
      await stealIfStale(lockPath, owner);
      continue;
    }
    const elapsedMs = clock.monotonicMs() - start;
    if (elapsedMs >= timeoutMs) {
      throw new ToolFailedError(
        `Timed out after ${timeoutMs}ms waiting for the lock ${lockPath}${owner === undefined ? '' : ` held by pid ${owner}`}`,
        { hint: `wait for the other readiness process to finish, or remove ${lockPath} if no such process runs` },
      );
    }
    if (!announced) {
      options.reporter?.onInfo?.(
        `Waiting for ${options.what ?? lockPath}: another readiness process${owner === undefined ? '' : ` (pid ${owner})`} holds the lock`,
      );
      announced = true;
    }
    await clock.sleep(250);
  }
  try {
    return await task();
  } finally {
    await rm(lockPath, { force: true });
  }
}

/** Paths inside the cache, in one place. */
export function cachePaths(cacheDir: string) {
  return {
    root: cacheDir,
    bin: join(cacheDir, 'bin'),
    go: join(cacheDir, 'go'),
    rootfs: join(cacheDir, 'rootfs'),
    build: join(cacheDir, 'build'),
    logs: join(cacheDir, 'logs'),
    locks: join(cacheDir, 'locks'),
    imagesFile: join(cacheDir, 'images.json'),
    dockerdLog: join(cacheDir, 'dockerd.log'),
  } as const;
}

/** The lock file for a named resource (`base-image`, `image-redis-7`, ...). */
export function lockPath(cacheDir: string, resource: string): string {
  return join(cachePaths(cacheDir).locks, `${resource.replace(/[^A-Za-z0-9._-]+/g, '-')}.lock`);
}
