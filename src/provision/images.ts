import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ToolFailedError } from '../core/errors.ts';
import { tail } from '../core/exec.ts';
import type { Reporter } from '../core/reporter.ts';
import { cachePaths, lockPath, resolveCacheDir, withFileLock, writeFileAtomic } from './cache.ts';
import { dockerCli, inspectImage } from './docker-cli.ts';
import type { DockerRunner, LocalImage } from './docker-cli.ts';
import { DROP_IN_FOR_LABEL, ensureDropIn } from './drop-in-build.ts';
import type { DropInBuildOptions, EnsuredDropIn } from './drop-in-build.ts';
import { findDropIn, normalizeImageRef, registryOf } from './drop-ins.ts';
import type { DropInRecipe } from './drop-ins.ts';

/** `missing`: pull what is not local; `never`: local images and drop-ins only. */
export type PullPolicy = 'missing' | 'never';

/** How an image ref was resolved; `unavailable` is data (a stage skips), not an error. */
export type ResolvedImage =
  | { readonly kind: 'official'; readonly ref: string; readonly imageId: string; readonly source: 'local' | 'pulled' }
  | {
      readonly kind: 'drop-in';
      /** The local image to run. */
      readonly ref: string;
      /** The official ref it stands in for. */
      readonly replaces: string;
      readonly imageId: string;
      readonly recipeHash: string | undefined;
      readonly built: boolean;
    }
  | { readonly kind: 'unavailable'; readonly ref: string; readonly reason: string };

export type PullOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** The operations resolution needs; the Docker implementation is `dockerImageBackend`. */
export interface ImageBackend {
  inspect(ref: string): Promise<LocalImage | undefined>;
  pull(ref: string, timeoutMs: number): Promise<PullOutcome>;
  ensureDropIn(recipe: DropInRecipe): Promise<EnsuredDropIn>;
  /** Remembers official -> local in `<cache>/images.json`. */
  recordDropIn(record: DropInRecord): Promise<void>;
}

export interface DropInRecord {
  readonly official: string;
  readonly local: string;
  readonly imageId: string;
  readonly recipeHash: string;
  readonly builtAt: string;
}

interface ResolveImageOptions {
  readonly pull: PullPolicy;
  readonly pullTimeoutMs: number;
  readonly reporter?: Reporter;
}

interface DockerResolveOptions extends ResolveImageOptions, DropInBuildOptions {}

/**
 * Resolves one ref: (1) present locally -> use it, never pull; (2) pull allowed -> pull with
 * a timeout; (3) a drop-in recipe exists -> build or reuse it; (4) else `unavailable` with why.
 */
export async function resolveImageWith(
  backend: ImageBackend,
  ref: string,
  options: ResolveImageOptions,
): Promise<ResolvedImage> {
  const entry = findDropIn(ref);
  const isLocalDropInRef = entry?.kind === 'recipe' && normalizeImageRef(entry.local) === normalizeImageRef(ref);

  if (!isLocalDropInRef) {
    const local = await backend.inspect(ref);
    if (local) {
      const standsInFor = local.labels[DROP_IN_FOR_LABEL];
      // A drop-in retagged under the official name is still a drop-in: say so on the certificate.
      if (standsInFor !== undefined) {
        return { kind: 'drop-in', ref, replaces: standsInFor, imageId: local.id, recipeHash: undefined, built: false };
      }
      return { kind: 'official', ref, imageId: local.id, source: 'local' };
    }
  }

  let pullFailure: string;
  if (isLocalDropInRef) pullFailure = `${ref} is a local drop-in tag, never pulled`;
  else if (options.pull === 'never') pullFailure = `not present locally and pulling is disabled (images.pull = never)`;
  else {
    options.reporter?.onInfo?.(`Pulling ${ref} (timeout ${options.pullTimeoutMs}ms)`);
    const pulled = await backend.pull(ref, options.pullTimeoutMs);
    if (pulled.ok) {
      const image = await backend.inspect(ref);
      if (!image) throw new ToolFailedError(`docker pull ${ref} succeeded but the image is not listed`);
      return { kind: 'official', ref, imageId: image.id, source: 'pulled' };
    }
    pullFailure = pulled.reason;
  }

  if (entry?.kind === 'recipe') {
    if (!isLocalDropInRef) options.reporter?.onInfo?.(`${ref}: ${pullFailure}; using the local drop-in ${entry.local}`);
    const ensured = await backend.ensureDropIn(entry);
    await backend.recordDropIn({
      official: entry.official,
      local: entry.local,
      imageId: ensured.image.id,
      recipeHash: ensured.recipeHash,
      builtAt: ensured.image.created,
    });
    return {
      kind: 'drop-in',
      ref: entry.local,
      replaces: entry.official,
      imageId: ensured.image.id,
      recipeHash: ensured.recipeHash,
      built: ensured.built,
    };
  }
  const noDropIn = entry?.kind === 'none' ? entry.reason : `no local drop-in recipe for ${ref} (see ci/images)`;
  return { kind: 'unavailable', ref, reason: `${pullFailure}; ${noDropIn}` };
}

const imagesFileSchema = z.object({
  schemaVersion: z.literal(1),
  images: z.record(
    z.string(),
    z.object({ local: z.string(), imageId: z.string(), recipeHash: z.string(), builtAt: z.string() }),
  ),
});
type ImagesFile = z.infer<typeof imagesFileSchema>;

/** Reads `<cache>/images.json`; a missing or unreadable file is an empty record (it is only a cache). */
async function readImagesFile(cacheDir: string): Promise<ImagesFile> {
  try {
    const parsed = imagesFileSchema.safeParse(JSON.parse(await readFile(cachePaths(cacheDir).imagesFile, 'utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // Absent or torn by a crash of an older version: start afresh, the images' labels are the truth.
  }
  return { schemaVersion: 1, images: {} };
}

async function recordDropIn(cacheDir: string, record: DropInRecord): Promise<void> {
  const known = (await readImagesFile(cacheDir)).images[record.official];
  if (known?.imageId === record.imageId && known.local === record.local && known.recipeHash === record.recipeHash)
    return;
  await withFileLock(
    lockPath(cacheDir, 'images-json'),
    async () => {
      const file = await readImagesFile(cacheDir);
      const { official, ...entry } = record;
      const next: ImagesFile = { schemaVersion: 1, images: { ...file.images, [official]: entry } };
      await writeFileAtomic(cachePaths(cacheDir).imagesFile, `${JSON.stringify(next, null, 2)}\n`);
    },
    { timeoutMs: 60_000 },
  );
}

/** Pull errors saying the registry cannot be reached at all, rather than that this image is absent. */
const UNREACHABLE =
  /no such host|i\/o timeout|connection refused|network is unreachable|TLS handshake timeout|dial tcp/i;

/**
 * Registries found unreachable in this process (a run), with the pull failure that showed it:
 * every backend of the run shares it, so provisioning and a later stage (a scanner image) do not
 * each wait out a pull timeout against the same firewalled registry.
 */
const unreachableThisRun = new Map<string, string>();

/**
 * The backend over the real docker CLI. A registry found unreachable is not asked again in this
 * run (`unreachable`, by default shared by the whole process), so a firewalled registry costs one
 * pull timeout per run, not one per image or per stage.
 */
export function dockerImageBackend(
  options: DropInBuildOptions & { readonly unreachable?: Map<string, string> } = {},
): ImageBackend {
  const docker = options.docker ?? dockerCli;
  const cacheDir = options.cacheDir ?? resolveCacheDir();
  const unreachable = options.unreachable ?? unreachableThisRun;
  return {
    inspect: (ref) => inspectImage(docker, ref),
    pull: async (ref, timeoutMs) => {
      const registry = registryOf(ref);
      const earlier = unreachable.get(registry);
      if (earlier !== undefined) {
        return {
          ok: false,
          reason: `not pulled: registry ${registry} was unreachable earlier in this run (${earlier})`,
        };
      }
      const result = await docker(['pull', '--quiet', ref], { timeoutMs });
      if (result.exitCode === 0) return { ok: true };
      const reason = result.timedOut
        ? `docker pull ${ref} timed out after ${timeoutMs}ms`
        : `docker pull ${ref} failed: ${tail(result.stderr || result.stdout, 2).replaceAll('\n', ' ')}`;
      if (result.timedOut || UNREACHABLE.test(result.stderr)) unreachable.set(registry, reason);
      return { ok: false, reason };
    },
    ensureDropIn: (recipe) => ensureDropIn(recipe, { ...options, cacheDir, docker }),
    recordDropIn: (record) => recordDropIn(cacheDir, record),
  };
}

/** Resolves one image ref against the local Docker engine (see `resolveImageWith`). */
export function resolveImage(ref: string, options: DockerResolveOptions): Promise<ResolvedImage> {
  return resolveImageWith(dockerImageBackend(options), ref, options);
}

/** Resolves several refs (deduplicated, one at a time), keyed by the ref as given. */
export async function resolveImages(
  refs: readonly string[],
  options: DockerResolveOptions,
): Promise<Record<string, ResolvedImage>> {
  const backend = dockerImageBackend(options);
  const resolved: Record<string, ResolvedImage> = {};
  for (const ref of new Set(refs)) resolved[ref] = await resolveImageWith(backend, ref, options);
  return resolved;
}

/** The image id (`sha256:...`) of a local image, for the certificate; undefined when absent. */
export async function imageDigest(ref: string, docker: DockerRunner = dockerCli): Promise<string | undefined> {
  return (await inspectImage(docker, ref))?.id;
}
