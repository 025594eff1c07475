import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultRecipesDir,
  dropInRecipes,
  findDropIn,
  normalizeImageRef,
  recipeFiles,
  recipeHash,
} from './drop-ins.ts';
import type { DropInRecipe } from './drop-ins.ts';

describe('normalizeImageRef', () => {
  it.each([
    ['redis:7', 'redis:7'],
    ['docker.io/library/redis:7', 'redis:7'],
    ['index.docker.io/library/redis:7', 'redis:7'],
    ['library/redis:7', 'redis:7'],
    ['redis', 'redis:latest'],
    ['grafana/k6:1.8.1', 'grafana/k6:1.8.1'],
    ['docker.io/grafana/k6:1.8.1', 'grafana/k6:1.8.1'],
    ['GHCR.IO/shopify/toxiproxy:2.12.0', 'ghcr.io/shopify/toxiproxy:2.12.0'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['redis@sha256:abc', 'redis@sha256:abc'],
  ])('%s -> %s', (ref, expected) => {
    expect(normalizeImageRef(ref)).toBe(expected);
  });
});

describe('findDropIn', () => {
  it('finds a recipe by the official ref in any spelling', () => {
    expect(findDropIn('docker.io/library/postgres:16')).toMatchObject({
      kind: 'recipe',
      official: 'postgres:16',
      local: 'readiness-local/postgres:16',
    });
  });
  it('finds a recipe by its local tag', () => {
    expect(findDropIn('readiness-local/toxiproxy:2.12.0')).toMatchObject({
      kind: 'recipe',
      official: 'ghcr.io/shopify/toxiproxy:2.12.0',
    });
  });
  it('knows ZAP has no drop-in, with the reason', () => {
    const entry = findDropIn('ghcr.io/zaproxy/zaproxy:stable');
    expect(entry?.kind).toBe('none');
    expect(entry?.kind === 'none' && entry.reason).toMatch(/no local drop-in/);
  });
  it('does not match another tag of a known image', () => {
    expect(findDropIn('redis:6')).toBeUndefined();
    expect(findDropIn('postgres')).toBeUndefined();
  });
});

describe('the recipes in ci/images', () => {
  it.each(dropInRecipes().map((r) => [r.official, r] as const))(
    '%s has a Dockerfile building FROM ${BASE} and copying its staged files',
    (_, recipe) => {
      const dockerfile = readFileSync(join(defaultRecipesDir(), recipe.dir, 'Dockerfile'), 'utf8');
      expect(dockerfile).toMatch(/^ARG BASE=readiness-local\/debian:bookworm$/m);
      expect(dockerfile).toMatch(/^FROM \$\{BASE\}$/m);
      for (const staged of recipe.staged) expect(dockerfile).toMatch(new RegExp(`^COPY ${staged.fileName} `, 'm'));
    },
  );
  it('gives each recipe its own directory and local tag', () => {
    const recipes = dropInRecipes();
    expect(new Set(recipes.map((r) => r.dir)).size).toBe(recipes.length);
    expect(new Set(recipes.map((r) => r.local)).size).toBe(recipes.length);
    for (const r of recipes) expect(existsSync(join(defaultRecipesDir(), r.dir))).toBe(true);
  });
});

describe('recipeHash', () => {
  let dir: string;
  const recipe: DropInRecipe = {
    kind: 'recipe',
    official: 'example:1',
    local: 'readiness-local/example:1',
    dir: 'example',
    staged: [
      { kind: 'go-tool', fileName: 'tool', tool: { name: 'tool', module: 'example.com/tool', version: 'v1.0.0' } },
    ],
  };
  const hash = (overrides: { stagedVersions?: Record<string, string>; baseImageId?: string } = {}) =>
    recipeHash({
      recipe,
      recipeDir: dir,
      stagedVersions: overrides.stagedVersions ?? { tool: 'example.com/tool@v1.0.0' },
      baseImageId: overrides.baseImageId ?? 'sha256:base',
    });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'readiness-recipe-'));
    await writeFile(join(dir, 'Dockerfile'), 'FROM ${BASE}\nCOPY tool /tool\n');
    await mkdir(join(dir, 'conf'));
    await writeFile(join(dir, 'conf', 'a.conf'), 'a=1\n');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is stable for the same inputs', async () => {
    const first = await hash();
    expect(first).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await hash()).toBe(first);
  });
  it('changes when any file of the recipe changes, nested ones included', async () => {
    const before = await hash();
    await writeFile(join(dir, 'conf', 'a.conf'), 'a=2\n');
    const afterNested = await hash();
    expect(afterNested).not.toBe(before);
    await writeFile(join(dir, 'Dockerfile'), 'FROM ${BASE}\nCOPY tool /usr/bin/tool\n');
    expect(await hash()).not.toBe(afterNested);
  });
  it('changes when a file is added', async () => {
    const before = await hash();
    await writeFile(join(dir, 'extra.sh'), 'echo\n');
    expect(await hash()).not.toBe(before);
  });
  it('changes with the staged binary version and the base image, not with the staged file bytes', async () => {
    const before = await hash();
    expect(await hash({ stagedVersions: { tool: 'example.com/tool@v1.0.1' } })).not.toBe(before);
    expect(await hash({ baseImageId: 'sha256:other' })).not.toBe(before);
    await writeFile(join(dir, 'tool'), 'a binary staged by an older run');
    expect(await hash()).toBe(before);
    expect(await recipeFiles(dir, recipe.staged)).toEqual(['Dockerfile', 'conf/a.conf']);
  });
  it('refuses to hash without a version for a staged binary', async () => {
    await expect(hash({ stagedVersions: {} })).rejects.toThrow('no version for staged binary tool');
  });
});
