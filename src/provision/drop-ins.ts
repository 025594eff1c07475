import { createHash } from 'node:crypto';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ToolMissingError } from '../core/errors.ts';
import { exec } from '../core/exec.ts';
import { packagePath } from '../core/package-paths.ts';
import type { GoToolSpec } from './go-tool.ts';

/** A binary put into the build context before `docker build`, not kept in git. */
export type StagedBinary =
  | { readonly kind: 'go-tool'; readonly fileName: string; readonly tool: GoToolSpec }
  | { readonly kind: 'node'; readonly fileName: string; readonly major: number };

/** A local recipe (`ci/images/<dir>`) that builds a stand-in for an official image. */
export interface DropInRecipe {
  readonly kind: 'recipe';
  readonly official: string;
  /** The local tag the recipe builds, e.g. `readiness-local/redis:7`. */
  readonly local: string;
  /** Directory under `ci/images`. */
  readonly dir: string;
  readonly staged: readonly StagedBinary[];
}

/** An official image we know and deliberately have no stand-in for. */
interface NoDropIn {
  readonly kind: 'none';
  readonly official: string;
  readonly reason: string;
}

type DropInEntry = DropInRecipe | NoDropIn;

type TableEntry = Omit<DropInRecipe, 'official'> | Omit<NoDropIn, 'official'>;

const toxiproxy = (name: 'server' | 'cli'): GoToolSpec => ({
  name: `toxiproxy-${name}`,
  module: `github.com/Shopify/toxiproxy/v2/cmd/${name}`,
  version: 'v2.12.0',
  // As upstream's .goreleaser.yml, so `toxiproxy-server -version` and GET /version say 2.12.0.
  ldflags: '-s -w -X github.com/Shopify/toxiproxy/v2.Version=2.12.0',
});

/** The drop-in recipes, keyed by the official image ref they replace. */
const DROP_IN_TABLE = {
  'postgres:16': { kind: 'recipe', local: 'readiness-local/postgres:16', dir: 'postgres', staged: [] },
  'redis:7': { kind: 'recipe', local: 'readiness-local/redis:7', dir: 'redis', staged: [] },
  'ghcr.io/shopify/toxiproxy:2.12.0': {
    kind: 'recipe',
    local: 'readiness-local/toxiproxy:2.12.0',
    dir: 'toxiproxy',
    staged: [
      { kind: 'go-tool', fileName: 'toxiproxy-server', tool: toxiproxy('server') },
      { kind: 'go-tool', fileName: 'toxiproxy-cli', tool: toxiproxy('cli') },
    ],
  },
  'node:24-slim': {
    kind: 'recipe',
    local: 'readiness-local/node:24-slim',
    dir: 'node',
    staged: [{ kind: 'node', fileName: 'node', major: 24 }],
  },
  'haproxy:2.6': { kind: 'recipe', local: 'readiness-local/haproxy:2.6', dir: 'haproxy', staged: [] },
  // The plain base for users' own Dockerfiles: `FROM debian:bookworm-slim` (or a build arg given `{ image: ... }`).
  'debian:bookworm-slim': { kind: 'recipe', local: 'readiness-local/debian:bookworm-slim', dir: 'debian', staged: [] },
  'grafana/k6:1.8.1': {
    kind: 'recipe',
    local: 'readiness-local/k6:1.8.1',
    dir: 'k6',
    staged: [{ kind: 'go-tool', fileName: 'k6', tool: { name: 'k6', module: 'go.k6.io/k6', version: 'v1.8.1' } }],
  },
  'ghcr.io/zaproxy/zaproxy:stable': {
    kind: 'none',
    reason:
      'ZAP has no local drop-in: it is a Java application distributed only as the official image or a release download, neither of which this build makes',
  },
} as const satisfies Record<string, TableEntry>;

/** Docker's rule: a ref's first path element is a registry host when it has a dot or a port, or is localhost. */
function isRegistryHost(segment: string): boolean {
  return segment.includes('.') || segment.includes(':') || segment === 'localhost';
}

/** The registry host of a ref (`docker.io` for Docker Hub refs). */
export function registryOf(ref: string): string {
  const normalized = normalizeImageRef(ref);
  const first = normalized.slice(0, Math.max(0, normalized.indexOf('/')));
  return isRegistryHost(first) ? first : 'docker.io';
}

/**
 * Canonical form of an image ref for table lookups: Docker Hub prefixes dropped
 * (`docker.io/library/redis:7` -> `redis:7`), registry host lower-cased, `:latest` added.
 */
export function normalizeImageRef(ref: string): string {
  let rest = ref.trim();
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at);
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (isRegistryHost(first)) {
    const registry = first.toLowerCase();
    rest = rest.slice(slash + 1);
    if (registry !== 'docker.io' && registry !== 'index.docker.io' && registry !== 'registry-1.docker.io') {
      rest = `${registry}/${rest}`;
    }
  }
  if (rest.startsWith('library/') && rest.indexOf('/', 'library/'.length) < 0) rest = rest.slice('library/'.length);
  const lastSlash = rest.lastIndexOf('/');
  const hasTag = rest.indexOf(':', lastSlash + 1) >= 0;
  if (!hasTag && digest === '') rest = `${rest}:latest`;
  return rest + digest;
}

/** The table entry for a ref, matched on the official ref or on the drop-in's local tag. */
export function findDropIn(ref: string): DropInEntry | undefined {
  const wanted = normalizeImageRef(ref);
  for (const [official, entry] of Object.entries(DROP_IN_TABLE) as [string, TableEntry][]) {
    if (
      normalizeImageRef(official) === wanted ||
      (entry.kind === 'recipe' && normalizeImageRef(entry.local) === wanted)
    ) {
      return { ...entry, official };
    }
  }
  return undefined;
}

/** All recipes of the table. */
export function dropInRecipes(): DropInRecipe[] {
  return Object.entries(DROP_IN_TABLE).flatMap(([official, entry]: [string, TableEntry]) =>
    entry.kind === 'recipe' ? [{ ...entry, official }] : [],
  );
}

/** `ci/images` of the readiness package (the checkout, or the installed package). */
export function defaultRecipesDir(): string {
  return packagePath('ci', 'images');
}

/** Every file of a recipe directory except the staged binaries, as relative paths, sorted. */
export async function recipeFiles(recipeDir: string, staged: readonly StagedBinary[]): Promise<string[]> {
  const skip = new Set(staged.map((s) => s.fileName));
  const entries = await readdir(recipeDir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(recipeDir, join(e.parentPath, e.name)).split(sep).join('/'))
    .filter((path) => !skip.has(path))
    .sort();
}

interface RecipeHashInput {
  readonly recipe: DropInRecipe;
  readonly recipeDir: string;
  /** Version of each staged binary by file name (`toxiproxy-server` -> `github.com/...@v2.12.0`). */
  readonly stagedVersions: Readonly<Record<string, string>>;
  /** Image id of the base the recipe builds from: a new base means a rebuild. */
  readonly baseImageId: string;
}

/**
 * The recipe's content hash (label `dev.readiness.recipe-hash`): its files' bytes, the
 * staged binaries' versions, the base image id and the refs. Stable across machines.
 */
export async function recipeHash(input: RecipeHashInput): Promise<string> {
  const hash = createHash('sha256');
  const line = (text: string): void => {
    hash.update(text);
    hash.update('\n');
  };
  line('readiness-recipe/1');
  line(`official=${input.recipe.official}`);
  line(`local=${input.recipe.local}`);
  line(`base=${input.baseImageId}`);
  for (const path of await recipeFiles(input.recipeDir, input.recipe.staged)) {
    const digest = createHash('sha256')
      .update(await readFile(join(input.recipeDir, path)))
      .digest('hex');
    line(`file ${path} ${digest}`);
  }
  for (const staged of [...input.recipe.staged].sort((a, b) => a.fileName.localeCompare(b.fileName))) {
    const version = input.stagedVersions[staged.fileName];
    if (version === undefined) throw new Error(`recipeHash: no version for staged binary ${staged.fileName}`);
    line(`staged ${staged.fileName} ${version}`);
  }
  return `sha256:${hash.digest('hex')}`;
}

/** A Node binary of the wanted major version, and its `process.version`-style version. */
interface NodeBinary {
  readonly path: string;
  readonly version: string;
}

/**
 * Finds a Node binary of `major` to stage: the running Node when it is that major, else
 * the npm `node` package's binary under `<repo>/node_modules` (symlinks resolved).
 */
export async function resolveNodeBinary(major: number, repoRoot: string): Promise<NodeBinary> {
  if (process.versions.node.split('.')[0] === String(major)) {
    return { path: await realpath(process.execPath), version: process.version };
  }
  const candidates = [
    join(repoRoot, 'node_modules', 'node', 'bin', 'node'),
    join(repoRoot, 'node_modules', '.bin', 'node'),
  ];
  const seen: string[] = [];
  for (const candidate of candidates) {
    let path: string;
    try {
      path = await realpath(candidate);
    } catch {
      seen.push(`${candidate}: absent`);
      continue;
    }
    try {
      const result = await exec(path, ['--version'], { timeoutMs: 10_000 });
      const version = result.stdout.trim();
      if (result.exitCode === 0 && version.startsWith(`v${major}.`)) return { path, version };
      seen.push(`${path}: ${version || `exit ${result.exitCode}`}`);
    } catch (error) {
      seen.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new ToolMissingError(
    `No Node ${major} binary to stage into the node drop-in (running ${process.version}; ${seen.join('; ')})`,
    { hint: `run with Node ${major}, or \`npm install\` in ${repoRoot} so node_modules/node ships it` },
  );
}
