import { access, constants, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ToolFailedError, ToolMissingError } from '../core/errors.ts';
import { execOrThrow } from '../core/exec.ts';
import type { Reporter } from '../core/reporter.ts';
import { cachePaths, lockPath, resolveCacheDir, tempSibling, withFileLock } from './cache.ts';
import { dockerCli, inspectImage } from './docker-cli.ts';
import type { DockerRunner, LocalImage } from './docker-cli.ts';
import { aptInstall, findExecutable, hostFacts } from './host.ts';

/** The local base every drop-in recipe builds `FROM`. */
export const BASE_IMAGE = 'readiness-local/debian:bookworm';
const BASE_SUITE = 'bookworm';
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
const BASE_LABEL = 'dev.readiness.base=debian-bookworm-minbase';

interface EnsureBaseImageOptions {
  readonly cacheDir?: string;
  readonly reporter?: Reporter;
  /** Allow `apt-get install debootstrap` when it is missing (root on Debian only). */
  readonly install?: boolean;
  readonly mirror?: string;
  readonly docker?: DockerRunner;
}

/** The rootfs tarball kept in the cache, reused to re-import the base without debootstrap. */
function baseRootfsTarball(cacheDir: string): string {
  return join(cachePaths(cacheDir).rootfs, `${BASE_SUITE}-minbase.tar`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

async function findOrInstallDebootstrap(options: EnsureBaseImageOptions): Promise<string> {
  const found = await findExecutable('debootstrap');
  if (found) return found;
  const host = await hostFacts();
  if (options.install !== false && host.isRoot && host.isDebian) {
    await aptInstall(['debootstrap', 'debian-archive-keyring'], options.reporter);
    const installed = await findExecutable('debootstrap');
    if (installed) return installed;
  }
  throw new ToolMissingError(`debootstrap is needed to build the base image ${BASE_IMAGE} and is not installed`, {
    hint: host.isRoot
      ? 'install debootstrap (`apt-get install -y debootstrap debian-archive-keyring`), or pull the official images instead'
      : 'run `readiness provision` as root (debootstrap needs root), or pull the official images instead',
  });
}

/** debootstrap a minbase rootfs and pack it into the cached tarball (temp dir, then rename). */
async function buildRootfsTarball(tarball: string, options: EnsureBaseImageOptions): Promise<void> {
  const debootstrap = await findOrInstallDebootstrap(options);
  const rootfs = tempSibling(join(cachePaths(options.cacheDir ?? resolveCacheDir()).rootfs, BASE_SUITE));
  const tempTar = tempSibling(tarball);
  await mkdir(rootfs, { recursive: true });
  const mirror = options.mirror ?? DEFAULT_MIRROR;
  options.reporter?.onInfo?.(`debootstrap --variant=minbase ${BASE_SUITE} (about 35 s) from ${mirror}`);
  try {
    await execOrThrow(debootstrap, ['--variant=minbase', BASE_SUITE, rootfs, mirror], { timeoutMs: 15 * 60_000 }).catch(
      (error: unknown) => {
        throw new ToolFailedError(error instanceof Error ? error.message : String(error), {
          cause: error,
          hint: `check that ${mirror} is reachable (or pass another Debian mirror) and that we run as root`,
        });
      },
    );
    await execOrThrow('tar', ['-C', rootfs, '--numeric-owner', '-cf', tempTar, '.'], { timeoutMs: 10 * 60_000 });
    await rename(tempTar, tarball);
  } finally {
    await rm(rootfs, { recursive: true, force: true });
    await rm(tempTar, { force: true });
  }
}

/**
 * Makes sure `readiness-local/debian:bookworm` exists: present -> done; else `docker import`
 * of the cached rootfs tarball, debootstrapping it first when there is none.
 */
export async function ensureBaseImage(options: EnsureBaseImageOptions = {}): Promise<LocalImage> {
  const docker = options.docker ?? dockerCli;
  const present = await inspectImage(docker, BASE_IMAGE);
  if (present) return present;
  const cacheDir = options.cacheDir ?? resolveCacheDir();
  return withFileLock(
    lockPath(cacheDir, 'base-image'),
    async () => {
      const raced = await inspectImage(docker, BASE_IMAGE);
      if (raced) return raced;
      const tarball = baseRootfsTarball(cacheDir);
      await mkdir(cachePaths(cacheDir).rootfs, { recursive: true });
      if (await exists(tarball)) options.reporter?.onInfo?.(`Importing ${BASE_IMAGE} from ${tarball}`);
      else await buildRootfsTarball(tarball, { ...options, cacheDir });
      const imported = await docker(['import', '--change', `LABEL ${BASE_LABEL}`, tarball, BASE_IMAGE], {
        timeoutMs: 10 * 60_000,
      });
      if (imported.exitCode !== 0) {
        throw new ToolFailedError(
          `docker import ${tarball} ${BASE_IMAGE} exited ${imported.exitCode ?? imported.signal}: ${imported.stderr.trim()}`,
          {
            hint: `delete ${tarball} if it is damaged and run again`,
          },
        );
      }
      const image = await inspectImage(docker, BASE_IMAGE);
      if (!image) throw new ToolFailedError(`docker import reported success but ${BASE_IMAGE} is not listed`);
      options.reporter?.onInfo?.(`Base image ${BASE_IMAGE} ready (${image.id.slice(0, 19)})`);
      return image;
    },
    { what: `the base image ${BASE_IMAGE}`, ...(options.reporter ? { reporter: options.reporter } : {}) },
  );
}
