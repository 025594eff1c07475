import { describe, expect, it } from 'vitest';
import type { DockerRunner, LocalImage } from './docker-cli.ts';
import type { DropInRecipe } from './drop-ins.ts';
import { registryOf } from './drop-ins.ts';
import { dockerImageBackend, resolveImageWith } from './images.ts';
import type { DropInRecord, ImageBackend, PullOutcome } from './images.ts';

/** A scripted backend: which images exist, what a pull does; records every call. */
function fakeBackend(script: { local?: Record<string, Partial<LocalImage>>; pull?: (ref: string) => PullOutcome }) {
  const images = new Map(
    Object.entries(script.local ?? {}).map(([ref, img]) => [
      ref,
      { id: `sha256:${ref}`, labels: {}, repoDigests: [], created: '2026-01-01T00:00:00Z', ...img },
    ]),
  );
  const calls: string[] = [];
  const records: DropInRecord[] = [];
  const backend: ImageBackend = {
    inspect: (ref) => {
      calls.push(`inspect ${ref}`);
      return Promise.resolve(images.get(ref));
    },
    pull: (ref) => {
      calls.push(`pull ${ref}`);
      const outcome = script.pull?.(ref) ?? { ok: false, reason: `docker pull ${ref} failed: no such host` };
      if (outcome.ok) images.set(ref, { id: `sha256:pulled-${ref}`, labels: {}, repoDigests: [], created: '' });
      return Promise.resolve(outcome);
    },
    ensureDropIn: (recipe: DropInRecipe) => {
      calls.push(`build ${recipe.local}`);
      return Promise.resolve({
        image: { id: `sha256:${recipe.local}`, labels: {}, repoDigests: [], created: '2026-02-02T00:00:00Z' },
        recipeHash: 'sha256:hash',
        built: true,
      });
    },
    recordDropIn: (record) => {
      records.push(record);
      return Promise.resolve();
    },
  };
  return { backend, calls, records };
}

const missing = { pull: 'missing', pullTimeoutMs: 1000 } as const;
const never = { pull: 'never', pullTimeoutMs: 1000 } as const;

describe('resolveImageWith', () => {
  it('uses a local image and never pulls it', async () => {
    const { backend, calls } = fakeBackend({ local: { 'redis:7': {} } });
    expect(await resolveImageWith(backend, 'redis:7', missing)).toEqual({
      kind: 'official',
      ref: 'redis:7',
      imageId: 'sha256:redis:7',
      source: 'local',
    });
    expect(calls).toEqual(['inspect redis:7']);
  });

  it('pulls a missing image when allowed', async () => {
    const { backend, calls } = fakeBackend({ pull: () => ({ ok: true }) });
    expect(await resolveImageWith(backend, 'redis:7', missing)).toMatchObject({
      kind: 'official',
      source: 'pulled',
      imageId: 'sha256:pulled-redis:7',
    });
    expect(calls).toEqual(['inspect redis:7', 'pull redis:7', 'inspect redis:7']);
  });

  it('falls back to the drop-in when the pull fails, and records the mapping', async () => {
    const { backend, calls, records } = fakeBackend({});
    expect(await resolveImageWith(backend, 'redis:7', missing)).toEqual({
      kind: 'drop-in',
      ref: 'readiness-local/redis:7',
      replaces: 'redis:7',
      imageId: 'sha256:readiness-local/redis:7',
      recipeHash: 'sha256:hash',
      built: true,
    });
    expect(calls).toEqual(['inspect redis:7', 'pull redis:7', 'build readiness-local/redis:7']);
    expect(records).toEqual([
      {
        official: 'redis:7',
        local: 'readiness-local/redis:7',
        imageId: 'sha256:readiness-local/redis:7',
        recipeHash: 'sha256:hash',
        builtAt: '2026-02-02T00:00:00Z',
      },
    ]);
  });

  it('does not pull under pull=never and goes straight to the drop-in', async () => {
    const { backend, calls } = fakeBackend({});
    expect(await resolveImageWith(backend, 'docker.io/library/postgres:16', never)).toMatchObject({
      kind: 'drop-in',
      replaces: 'postgres:16',
    });
    expect(calls).toEqual(['inspect docker.io/library/postgres:16', 'build readiness-local/postgres:16']);
  });

  it('never pulls a readiness-local tag and keeps it up to date through the recipe', async () => {
    const { backend, calls } = fakeBackend({ local: { 'readiness-local/node:24-slim': {} } });
    expect(await resolveImageWith(backend, 'readiness-local/node:24-slim', missing)).toMatchObject({
      kind: 'drop-in',
      replaces: 'node:24-slim',
    });
    expect(calls).toEqual(['build readiness-local/node:24-slim']);
  });

  it('reports a drop-in retagged under the official name as a drop-in', async () => {
    const { backend } = fakeBackend({ local: { 'redis:7': { labels: { 'dev.readiness.drop-in-for': 'redis:7' } } } });
    expect(await resolveImageWith(backend, 'redis:7', missing)).toMatchObject({
      kind: 'drop-in',
      ref: 'redis:7',
      replaces: 'redis:7',
      built: false,
    });
  });

  it('gives ZAP as unavailable with the pull error and why there is no drop-in, without throwing', async () => {
    const { backend, calls } = fakeBackend({});
    const resolved = await resolveImageWith(backend, 'ghcr.io/zaproxy/zaproxy:stable', missing);
    expect(resolved.kind).toBe('unavailable');
    expect(resolved.kind === 'unavailable' && resolved.reason).toMatch(
      /docker pull ghcr\.io\/zaproxy\/zaproxy:stable failed: no such host; ZAP has no local drop-in/,
    );
    expect(calls).not.toContain('build');
  });

  it('gives an unknown image that cannot be had as unavailable', async () => {
    const { backend } = fakeBackend({});
    expect(await resolveImageWith(backend, 'example/app:1', never)).toEqual({
      kind: 'unavailable',
      ref: 'example/app:1',
      reason:
        'not present locally and pulling is disabled (images.pull = never); no local drop-in recipe for example/app:1 (see ci/images)',
    });
  });

  it('uses an official image pulled even when a recipe exists', async () => {
    const { backend, calls } = fakeBackend({ pull: () => ({ ok: true }) });
    expect((await resolveImageWith(backend, 'ghcr.io/shopify/toxiproxy:2.12.0', missing)).kind).toBe('official');
    expect(calls.some((c) => c.startsWith('build'))).toBe(false);
  });
});

describe('registryOf', () => {
  it.each([
    ['redis:7', 'docker.io'],
    ['grafana/k6:1.8.1', 'docker.io'],
    ['docker.io/library/redis:7', 'docker.io'],
    ['ghcr.io/zaproxy/zaproxy:stable', 'ghcr.io'],
    ['localhost:5000/app:1', 'localhost:5000'],
  ])('%s -> %s', (ref, registry) => {
    expect(registryOf(ref)).toBe(registry);
  });
});

describe('dockerImageBackend pull', () => {
  /** A docker CLI stand-in that fails every pull the way an unreachable registry does. */
  function unreachableDocker(stderr: string) {
    const pulls: string[] = [];
    const docker: DockerRunner = (args) => {
      pulls.push(args.join(' '));
      return Promise.resolve({
        command: `docker ${args.join(' ')}`,
        exitCode: 1,
        signal: null,
        stdout: '',
        stderr,
        timedOut: false,
        durationMs: 1,
      });
    };
    return { docker, pulls };
  }

  it('asks an unreachable registry once per backend, then reuses the reason', async () => {
    const { docker, pulls } = unreachableDocker(
      'Error response from daemon: Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io: no such host\n',
    );
    const backend = dockerImageBackend({ docker, cacheDir: '/nonexistent', unreachable: new Map() });
    expect(await backend.pull('ghcr.io/a/one:1', 1000)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^docker pull ghcr.io\/a\/one:1 failed: .*no such host/),
    });
    expect(await backend.pull('ghcr.io/b/two:1', 1000)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/registry ghcr.io was unreachable earlier/),
    });
    expect(pulls).toEqual(['pull --quiet ghcr.io/a/one:1']);
  });

  it('keeps asking a reachable registry when only an image is missing', async () => {
    const { docker, pulls } = unreachableDocker('Error response from daemon: manifest unknown\n');
    const backend = dockerImageBackend({ docker, cacheDir: '/nonexistent', unreachable: new Map() });
    await backend.pull('ghcr.io/a/one:1', 1000);
    await backend.pull('ghcr.io/b/two:1', 1000);
    expect(pulls).toHaveLength(2);
  });

  it('does not ask a registry again in the same run from another backend (provisioning, then a stage)', async () => {
    const { docker, pulls } = unreachableDocker(
      'Error response from daemon: Get "https://unreachable.test/v2/": dial tcp: lookup unreachable.test: no such host\n',
    );
    await dockerImageBackend({ docker, cacheDir: '/nonexistent' }).pull('unreachable.test/a/one:1', 1000);
    expect(
      await dockerImageBackend({ docker, cacheDir: '/nonexistent' }).pull('unreachable.test/b/two:1', 1000),
    ).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/registry unreachable.test was unreachable earlier in this run/),
    });
    expect(pulls).toEqual(['pull --quiet unreachable.test/a/one:1']);
  });
});
