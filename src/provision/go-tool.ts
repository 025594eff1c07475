import { createHash } from 'node:crypto';
import { access, constants, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, ToolFailedError, ToolMissingError } from '../core/errors.ts';
import { execOrThrow } from '../core/exec.ts';
import type { Reporter } from '../core/reporter.ts';
import { cachePaths, lockPath, resolveCacheDir, tempSibling, withFileLock } from './cache.ts';
import { findExecutable } from './host.ts';

/** A Go command pinned to one module version, e.g. toxiproxy's server. */
export interface GoToolSpec {
  /** Cache name of the binary: `<cache>/bin/<name>-<version>`. */
  readonly name: string;
  /** Package path of the command, e.g. `github.com/Shopify/toxiproxy/v2/cmd/server`. */
  readonly module: string;
  /** A released version (`v2.12.0`) or pseudo-version; never `latest` or a branch. */
  readonly version: string;
  /** Linker flags, e.g. `-s -w -X pkg.Version=2.12.0` as the project's release build sets them. */
  readonly ldflags?: string;
}

interface EnsureGoToolOptions {
  readonly cacheDir?: string;
  readonly reporter?: Reporter;
  /** The go binary; default: `go` on PATH, then /usr/local/go/bin/go. */
  readonly goBinary?: string;
}

const PINNED_VERSION = /^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+incompatible)?$/;

/** True for a semver tag or pseudo-version that `go install` resolves to one fixed commit. */
export function isPinnedGoVersion(version: string): boolean {
  return PINNED_VERSION.test(version);
}

/** The file `go install` writes for a package path: its last element, skipping a `/vN` major suffix. */
export function goBinaryName(packagePath: string): string {
  const parts = packagePath.split('/').filter((p) => p !== '');
  const last = parts.at(-1) ?? packagePath;
  if (/^v\d+$/.test(last) && parts.length > 1) return parts.at(-2) ?? last;
  return last;
}

/** Where the cached binary of a tool lives: `<cache>/bin/<name>-<version>`, plus a flags digest when built with ldflags. */
export function goToolPath(spec: GoToolSpec, cacheDir: string): string {
  const flags = spec.ldflags ? `-${createHash('sha256').update(spec.ldflags).digest('hex').slice(0, 8)}` : '';
  return join(cachePaths(cacheDir).bin, `${spec.name}-${spec.version}${flags}`);
}

/** What identifies a build of the tool (for recipe hashes): module, version, flags. */
export function goToolIdentity(spec: GoToolSpec): string {
  return `${spec.module}@${spec.version} CGO_ENABLED=0${spec.ldflags ? ` -ldflags=${spec.ldflags}` : ''}`;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Absolute path of a pinned Go command, built once with `go install` (static: CGO_ENABLED=0,
 * so it runs in a minbase image) into `<cache>/bin/<name>-<version>`.
 */
export async function ensureGoTool(spec: GoToolSpec, options: EnsureGoToolOptions = {}): Promise<string> {
  if (!isPinnedGoVersion(spec.version)) {
    throw new ConfigError([
      `Go tool "${spec.name}": version must be pinned (received "${spec.version}"); use a release tag such as v2.12.0`,
    ]);
  }
  if (!/^[A-Za-z0-9._-]+$/.test(spec.name)) {
    throw new ConfigError([`Go tool name must be a plain file name (received "${spec.name}")`]);
  }
  const cacheDir = options.cacheDir ?? resolveCacheDir();
  const target = goToolPath(spec, cacheDir);
  if (await isExecutable(target)) return target;

  return withFileLock(
    lockPath(cacheDir, `go-${spec.name}-${spec.version}`),
    async () => {
      if (await isExecutable(target)) return target;
      const go = options.goBinary ?? (await findExecutable('go'));
      if (go === undefined) {
        throw new ToolMissingError(`Go is needed to build ${spec.module}@${spec.version} and is not installed`, {
          hint: 'install Go >= 1.22 (https://go.dev/dl/, or `apt-get install -y golang`) and put it on PATH',
        });
      }
      const paths = cachePaths(cacheDir);
      const gobin = tempSibling(target);
      await mkdir(gobin, { recursive: true });
      options.reporter?.onInfo?.(`Building ${spec.module}@${spec.version} with go install (first time only)`);
      const started = performance.now();
      try {
        const flags = spec.ldflags ? [`-ldflags=${spec.ldflags}`] : [];
        await execOrThrow(go, ['install', ...flags, `${spec.module}@${spec.version}`], {
          env: {
            ...process.env,
            GOBIN: gobin,
            GOPATH: paths.go,
            GOMODCACHE: join(paths.go, 'mod'),
            GOCACHE: join(paths.go, 'build'),
            CGO_ENABLED: '0',
            // Module cache files are read-only by default; writable ones let users delete the cache.
            GOFLAGS: '-modcacherw -trimpath',
          },
          timeoutMs: 20 * 60_000,
        }).catch((error: unknown) => {
          throw new ToolFailedError(error instanceof Error ? error.message : String(error), {
            cause: error,
            hint: 'check that the Go module proxy is reachable (GOPROXY, default https://proxy.golang.org) and that the version exists',
          });
        });
        const built = join(gobin, goBinaryName(spec.module));
        if (!(await isExecutable(built))) {
          const seen = await readdir(gobin);
          throw new ToolMissingError(
            `go install ${spec.module}@${spec.version} wrote no ${goBinaryName(spec.module)} (saw: ${seen.join(', ') || 'nothing'})`,
            {
              hint: 'check that the module path names a main package',
            },
          );
        }
        await rename(built, target);
      } finally {
        await rm(gobin, { recursive: true, force: true });
      }
      options.reporter?.onInfo?.(
        `Built ${spec.name} ${spec.version} in ${((performance.now() - started) / 1000).toFixed(1)}s -> ${target}`,
      );
      return target;
    },
    { what: `the build of ${spec.name} ${spec.version}`, ...(options.reporter ? { reporter: options.reporter } : {}) },
  );
}
