import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { ServiceConfig } from '../config/schema.ts';
import type { Reporter } from '../core/reporter.ts';
import { exec, execOrThrow } from '../core/exec.ts';
import { StackStartError } from '../core/errors.ts';
import { lockPath, resolveCacheDir, withFileLock } from '../provision/cache.ts';

type BuildConfig = NonNullable<ServiceConfig['build']>;

const IGNORED = new Set(['node_modules', '.git', 'dist', 'coverage', '.venv']);

async function hashTree(dir: string, hash: ReturnType<typeof createHash>, root = dir): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (IGNORED.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await hashTree(path, hash, root);
    else if (entry.isFile()) {
      hash
        .update(relative(root, path))
        .update('\0')
        .update(await readFile(path))
        .update('\0');
    }
  }
}

/** Content hash of a build: the context (less dependency folders), dockerfile, args and prepare steps. */
async function buildKey(build: BuildConfig, resolvedArgs: Readonly<Record<string, string>>): Promise<string> {
  const hash = createHash('sha256');
  await hashTree(build.context, hash);
  hash.update(JSON.stringify({ dockerfile: build.dockerfile, args: resolvedArgs, prepare: build.prepare }));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds a service image from its context (legacy `docker build`, no buildx here), reusing an image
 * whose tag carries the same content hash. `prepare` commands run first, in the context.
 */
export async function buildServiceImage(
  stackName: string,
  build: BuildConfig,
  resolvedArgs: Readonly<Record<string, string>>,
  options: { reporter?: Reporter; signal?: AbortSignal } = {},
): Promise<string> {
  const key = await buildKey(build, resolvedArgs);
  const tag = `readiness-build/${stackName}:${key}`;
  const exists = async (): Promise<boolean> =>
    (await exec('docker', ['image', 'inspect', '--format', '{{.Id}}', tag])).exitCode === 0;
  if (await exists()) return tag;
  // `prepare` writes into the context (e.g. npm ci): two runs building from one context at once
  // (two drills, a drill and CI) would tear each other's node_modules apart, so they take turns.
  const contextId = createHash('sha256').update(build.context).digest('hex').slice(0, 12);
  return withFileLock(
    lockPath(resolveCacheDir(), `build-context-${contextId}`),
    async () => ((await exists()) ? tag : buildLocked(tag, key, build, resolvedArgs, options)),
    {
      what: `the build context ${build.context}`,
      ...(options.reporter ? { reporter: options.reporter } : {}),
    },
  );
}

async function buildLocked(
  tag: string,
  key: string,
  build: BuildConfig,
  resolvedArgs: Readonly<Record<string, string>>,
  options: { reporter?: Reporter; signal?: AbortSignal },
): Promise<string> {
  try {
    await stat(join(build.context, build.dockerfile));
  } catch {
    throw new StackStartError(`No ${build.dockerfile} in build context ${build.context}`);
  }
  for (const command of build.prepare) {
    const [file, ...args] = command;
    if (!file) continue;
    options.reporter?.onInfo?.(`prepare ${command.join(' ')} in ${build.context}`);
    await execOrThrow(file, args, {
      cwd: build.context,
      timeoutMs: 10 * 60_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  options.reporter?.onInfo?.(`docker build ${tag}`);
  const argFlags = Object.entries(resolvedArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
  await execOrThrow(
    'docker',
    [
      'build',
      '-q',
      '-f',
      join(build.context, build.dockerfile),
      ...argFlags,
      '--label',
      `dev.readiness.build-key=${key}`,
      '-t',
      tag,
      build.context,
    ],
    {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      timeoutMs: 15 * 60_000,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  return tag;
}
