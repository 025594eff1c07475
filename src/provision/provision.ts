import type { Reporter } from '../core/reporter.ts';
import { resolveCacheDir } from './cache.ts';
import { ensureDockerEngine } from './docker-engine.ts';
import type { DockerEngineInfo } from './docker-engine.ts';
import { resolveImages } from './images.ts';
import type { PullPolicy, ResolvedImage } from './images.ts';

interface ProvisionOptions {
  readonly imageRefs: readonly string[];
  readonly pull: PullPolicy;
  readonly pullTimeoutMs: number;
  /** Allow installing docker.io / debootstrap with apt and starting dockerd (root on Debian only). */
  readonly installEngine: boolean;
  readonly reporter?: Reporter;
  /** Default: `READINESS_CACHE` or `~/.cache/readiness` (see `resolveCacheDir`). */
  readonly cacheDir?: string;
  /** Default: `<repo>/ci/images`. */
  readonly recipesDir?: string;
}

interface ProvisionResult {
  readonly images: Record<string, ResolvedImage>;
  readonly docker: DockerEngineInfo;
  readonly durationMs: number;
}

/**
 * Makes the machine ready to run a stack: a Docker engine that answers, then every image
 * resolved (local, pulled, or a local drop-in built from ci/images). Idempotent; a warm
 * call only asks Docker questions.
 */
export async function provision(options: ProvisionOptions): Promise<ProvisionResult> {
  const started = performance.now();
  const cacheDir = options.cacheDir ?? resolveCacheDir();
  const docker = await ensureDockerEngine({
    install: options.installEngine,
    cacheDir,
    ...(options.reporter ? { reporter: options.reporter } : {}),
  });
  const images = await resolveImages(options.imageRefs, {
    pull: options.pull,
    pullTimeoutMs: options.pullTimeoutMs,
    install: options.installEngine,
    cacheDir,
    ...(options.reporter ? { reporter: options.reporter } : {}),
    ...(options.recipesDir ? { recipesDir: options.recipesDir } : {}),
  });
  return { images, docker, durationMs: performance.now() - started };
}
