import { beforeAll, describe, expect, it } from 'vitest';
import { execOrThrow } from '../core/exec.ts';
import { probeDocker } from './docker-engine.ts';
import { RECIPE_HASH_LABEL, DROP_IN_FOR_LABEL } from './drop-in-build.ts';
import { imageDigest, resolveImage } from './images.ts';
import { provision } from './provision.ts';

beforeAll(async () => {
  const probe = await probeDocker();
  if (!probe.ok) {
    throw new Error(
      `These tests need a Docker engine and none answers \`docker info\` (${probe.reason}); start one (\`dockerd &\`) or run \`readiness provision\` first`,
    );
  }
  const official = await probeOfficialRedis();
  if (official)
    throw new Error(
      `redis:7 is present locally (${official}), so it cannot resolve to the drop-in; remove it with \`docker rmi redis:7\``,
    );
});

async function probeOfficialRedis(): Promise<string | undefined> {
  return imageDigest('redis:7');
}

async function labelsOf(ref: string): Promise<Record<string, string>> {
  const { stdout } = await execOrThrow('docker', ['image', 'inspect', '--format', '{{json .Config.Labels}}', ref]);
  return JSON.parse(stdout) as Record<string, string>;
}

describe('resolveImage against the real engine', () => {
  it('resolves redis:7 to the drop-in built from ci/images/redis, labelled with its recipe hash', async () => {
    const resolved = await resolveImage('redis:7', { pull: 'never', pullTimeoutMs: 1000 });
    expect(resolved).toMatchObject({ kind: 'drop-in', ref: 'readiness-local/redis:7', replaces: 'redis:7' });
    if (resolved.kind !== 'drop-in') return;
    const labels = await labelsOf('readiness-local/redis:7');
    expect(labels[RECIPE_HASH_LABEL]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(labels[RECIPE_HASH_LABEL]).toBe(resolved.recipeHash);
    expect(labels[DROP_IN_FOR_LABEL]).toBe('redis:7');
    expect(await imageDigest('readiness-local/redis:7')).toBe(resolved.imageId);
    const { stdout } = await execOrThrow('docker', [
      'run',
      '--rm',
      'readiness-local/redis:7',
      'redis-server',
      '--version',
    ]);
    expect(stdout).toMatch(/^Redis server v=7\./);
  });

  it('reuses the drop-in on the next resolution instead of rebuilding it', async () => {
    const first = await resolveImage('redis:7', { pull: 'never', pullTimeoutMs: 1000 });
    const second = await resolveImage('readiness-local/redis:7', { pull: 'missing', pullTimeoutMs: 1000 });
    expect(second).toMatchObject({ kind: 'drop-in', built: false, replaces: 'redis:7' });
    expect(second.kind === 'drop-in' && second.imageId).toBe(first.kind === 'drop-in' && first.imageId);
  });

  it('gives ZAP as unavailable with the reason, without throwing', async () => {
    const resolved = await resolveImage('ghcr.io/zaproxy/zaproxy:stable', { pull: 'never', pullTimeoutMs: 1000 });
    expect(resolved.kind).toBe('unavailable');
    expect(resolved.kind === 'unavailable' && resolved.reason).toMatch(/pulling is disabled.*ZAP has no local drop-in/);
  });

  it('gives an image from a registry that cannot exist as unavailable with the pull error', async () => {
    const resolved = await resolveImage('registry.invalid/readiness/nothing:1', {
      pull: 'missing',
      pullTimeoutMs: 30_000,
    });
    expect(resolved.kind).toBe('unavailable');
    expect(resolved.kind === 'unavailable' && resolved.reason).toMatch(
      /^docker pull registry\.invalid\/readiness\/nothing:1 (failed: .+|timed out after 30000ms); no local drop-in recipe/,
    );
  });
});

describe('provision', () => {
  it('reports the engine and every image', async () => {
    const result = await provision({
      imageRefs: ['redis:7', 'ghcr.io/zaproxy/zaproxy:stable', 'redis:7'],
      pull: 'never',
      pullTimeoutMs: 1000,
      installEngine: false,
    });
    expect(result.docker.serverVersion).not.toBe('');
    expect(Object.keys(result.images)).toEqual(['redis:7', 'ghcr.io/zaproxy/zaproxy:stable']);
    expect(result.images['redis:7']?.kind).toBe('drop-in');
    expect(result.images['ghcr.io/zaproxy/zaproxy:stable']?.kind).toBe('unavailable');
  });
});
