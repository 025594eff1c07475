import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveCacheDir, withFileLock, writeFileAtomic } from './cache.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'readiness-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolveCacheDir', () => {
  it('uses READINESS_CACHE when set', () => {
    expect(resolveCacheDir({ READINESS_CACHE: '/srv/cache' }, '/home/u')).toBe('/srv/cache');
  });
  it('falls back to ~/.cache/readiness when unset or blank', () => {
    expect(resolveCacheDir({}, '/home/u')).toBe('/home/u/.cache/readiness');
    expect(resolveCacheDir({ READINESS_CACHE: ' ' }, '/home/u')).toBe('/home/u/.cache/readiness');
  });
});

describe('withFileLock', () => {
  it('serialises concurrent holders', async () => {
    const lock = join(dir, 'locks', 'x.lock');
    const events: string[] = [];
    const hold = (name: string) =>
      withFileLock(lock, async () => {
        events.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 50));
        events.push(`${name}-`);
      });
    await Promise.all([hold('a'), hold('b')]);
    expect(events).toEqual(events[0] === 'a+' ? ['a+', 'a-', 'b+', 'b-'] : ['b+', 'b-', 'a+', 'a-']);
    expect(await readdir(join(dir, 'locks'))).toEqual([]);
  });

  it('takes over a lock whose owner process is dead', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
    const lock = join(dir, 'stale.lock');
    await writeFile(lock, `${dead}\n`);
    const value = await withFileLock(lock, () => Promise.resolve(42), { timeoutMs: 2000 });
    expect(value).toBe(42);
  });

  it('times out with the owner pid while a live process holds it', async () => {
    const lock = join(dir, 'live.lock');
    await writeFile(lock, `${process.ppid}\n`);
    await expect(withFileLock(lock, () => Promise.resolve(1), { timeoutMs: 300 })).rejects.toThrow(
      `held by pid ${process.ppid}`,
    );
  });
});

describe('writeFileAtomic', () => {
  it('replaces the content and leaves no temp file', async () => {
    const file = join(dir, 'sub', 'images.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(await readFile(file, 'utf8')).toBe('two');
    expect(await readdir(join(dir, 'sub'))).toEqual(['images.json']);
  });
});
