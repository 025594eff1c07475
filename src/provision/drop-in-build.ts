import { createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ToolFailedError } from '../core/errors.ts';
import { tail } from '../core/exec.ts';
import type { Reporter } from '../core/reporter.ts';
import { assertNever } from '../core/stage.ts';
import { ensureBaseImage, BASE_IMAGE } from './base-image.ts';
import { cachePaths, lockPath, resolveCacheDir, tempSibling, withFileLock } from './cache.ts';
import { dockerCli, inspectImage } from './docker-cli.ts';
import type { DockerRunner, LocalImage } from './docker-cli.ts';
import { defaultRecipesDir, recipeFiles, recipeHash, resolveNodeBinary } from './drop-ins.ts';
import type { DropInRecipe, StagedBinary } from './drop-ins.ts';
import { ensureGoTool, goToolIdentity } from './go-tool.ts';

/** Label holding the recipe hash an image was built from. */
export const RECIPE_HASH_LABEL = 'dev.readiness.recipe-hash';
/** Label naming the official ref a local image stands in for. */
export const DROP_IN_FOR_LABEL = 'dev.readiness.drop-in-for';

export interface DropInBuildOptions {
  readonly cacheDir?: string;
  readonly reporter?: Reporter;
  /** `<repo>/ci/images` by default. */
  readonly recipesDir?: string;
  /** Allow installing debootstrap for the base image (root on Debian only). */
  readonly install?: boolean;
  readonly docker?: DockerRunner;
}

export interface EnsuredDropIn {
  readonly image: LocalImage;
  readonly recipeHash: string;
  /** False when an image with the current recipe hash was already there. */
  readonly built: boolean;
}

/** What a staged binary is, for the hash; and where to get the file, only when building. */
interface StagedSource {
  readonly staged: StagedBinary;
  readonly version: string;
  readonly path: () => Promise<string>;
}

async function stagedSources(
  recipe: DropInRecipe,
  repoRoot: string,
  options: DropInBuildOptions & { readonly cacheDir: string },
): Promise<StagedSource[]> {
  const sources: StagedSource[] = [];
  for (const staged of recipe.staged) {
    switch (staged.kind) {
      case 'go-tool':
        sources.push({
          staged,
          version: goToolIdentity(staged.tool),
          path: () =>
            ensureGoTool(staged.tool, {
              cacheDir: options.cacheDir,
              ...(options.reporter ? { reporter: options.reporter } : {}),
            }),
        });
        break;
      case 'node': {
        const node = await resolveNodeBinary(staged.major, repoRoot);
        sources.push({ staged, version: `node ${node.version}`, path: () => Promise.resolve(node.path) });
        break;
      }
      default:
        assertNever(staged);
    }
  }
  return sources;
}

/** Hard link when on the same filesystem (instant for the 120 MB node binary), else copy. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

async function dockerBuild(
  docker: DockerRunner,
  recipe: DropInRecipe,
  context: string,
  hash: string,
  logPath: string,
  reporter: Reporter | undefined,
): Promise<void> {
  await mkdir(dirname(logPath), { recursive: true });
  const log = createWriteStream(logPath, { flags: 'w' });
  const args = [
    'build',
    '--rm',
    '--force-rm',
    '--build-arg',
    `BASE=${BASE_IMAGE}`,
    '--label',
    `${RECIPE_HASH_LABEL}=${hash}`,
    '--label',
    `${DROP_IN_FOR_LABEL}=${recipe.official}`,
    '--tag',
    recipe.local,
    context,
  ];
  let result;
  try {
    result = await docker(args, {
      // The legacy builder: buildx is not installed on the CI machines.
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      timeoutMs: 30 * 60_000,
      onOutput: (chunk) => {
        log.write(chunk);
        for (const line of chunk.split('\n'))
          if (/^Step \d+\/\d+ : /.test(line)) reporter?.onInfo?.(`  ${recipe.local}: ${line.trim()}`);
      },
    });
  } finally {
    await new Promise<void>((done) => log.end(done));
  }
  if (result.exitCode !== 0) {
    const why = result.timedOut ? 'timed out' : `exited ${result.exitCode ?? result.signal}`;
    throw new ToolFailedError(
      `docker build of ${recipe.local} (${recipe.dir}) ${why}:\n${tail(result.stdout + result.stderr, 15)}\nFull log: ${logPath}`,
      {
        hint: 'read the build log; recipes install Debian packages, so the build containers need to reach deb.debian.org',
      },
    );
  }
}

/**
 * Makes sure the drop-in image of `recipe` exists with the current recipe hash: reuses it
 * when the label matches, else builds it (base image first, binaries staged into a temp
 * context under the cache, `docker build` with the legacy builder).
 */
export async function ensureDropIn(recipe: DropInRecipe, options: DropInBuildOptions = {}): Promise<EnsuredDropIn> {
  const docker = options.docker ?? dockerCli;
  const cacheDir = options.cacheDir ?? resolveCacheDir();
  const recipesDir = options.recipesDir ?? defaultRecipesDir();
  const recipeDir = join(recipesDir, recipe.dir);
  const repoRoot = resolve(recipesDir, '..', '..');
  const withCache = { ...options, cacheDir, docker };

  const base = await ensureBaseImage(withCache);
  const sources = await stagedSources(recipe, repoRoot, withCache);
  const stagedVersions = Object.fromEntries(sources.map((s) => [s.staged.fileName, s.version]));
  const hash = await recipeHash({ recipe, recipeDir, stagedVersions, baseImageId: base.id });

  const current = await inspectImage(docker, recipe.local);
  if (current?.labels[RECIPE_HASH_LABEL] === hash) return { image: current, recipeHash: hash, built: false };

  return withFileLock(
    lockPath(cacheDir, `image-${recipe.local}`),
    async () => {
      const raced = await inspectImage(docker, recipe.local);
      if (raced?.labels[RECIPE_HASH_LABEL] === hash) return { image: raced, recipeHash: hash, built: false };
      options.reporter?.onInfo?.(
        `Building drop-in ${recipe.local} for ${recipe.official} from ci/images/${recipe.dir}${raced ? ' (recipe changed)' : ''}`,
      );
      const started = performance.now();
      const paths = cachePaths(cacheDir);
      const context = tempSibling(join(paths.build, recipe.dir));
      try {
        await mkdir(context, { recursive: true });
        for (const file of await recipeFiles(recipeDir, recipe.staged)) {
          await mkdir(dirname(join(context, file)), { recursive: true });
          await copyFile(join(recipeDir, file), join(context, file));
        }
        for (const source of sources) await linkOrCopy(await source.path(), join(context, source.staged.fileName));
        await dockerBuild(docker, recipe, context, hash, join(paths.logs, `build-${recipe.dir}.log`), options.reporter);
      } finally {
        await rm(context, { recursive: true, force: true });
      }
      const image = await inspectImage(docker, recipe.local);
      if (image?.labels[RECIPE_HASH_LABEL] !== hash) {
        throw new ToolFailedError(
          `docker build reported success but ${recipe.local} does not carry ${RECIPE_HASH_LABEL}=${hash}`,
          {
            hint: 'check that nothing else retags the image meanwhile and run again',
          },
        );
      }
      if (raced && raced.id !== image.id) {
        // Best effort: drop the stale image; docker refuses while a container or another tag uses it.
        await docker(['image', 'rm', raced.id], { timeoutMs: 30_000 });
      }
      options.reporter?.onInfo?.(`Built ${recipe.local} in ${((performance.now() - started) / 1000).toFixed(1)}s`);
      return { image, recipeHash: hash, built: true };
    },
    { what: `the build of ${recipe.local}`, ...(options.reporter ? { reporter: options.reporter } : {}) },
  );
}
