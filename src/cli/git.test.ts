import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitState } from './git.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'readiness-git-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The real git binary, with an identity and no signing so commits work on any machine. */
function git(...args: string[]): string {
  const result = spawnSync(
    'git',
    ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', ...args],
    { cwd: dir, encoding: 'utf8' },
  );
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trim();
}

async function repoWithCommit(): Promise<string> {
  git('init', '-q');
  await writeFile(join(dir, '.gitignore'), 'reports/\n*.log\n');
  await writeFile(join(dir, 'tracked.txt'), 'one\n');
  git('add', '.');
  git('commit', '-q', '-m', 'first');
  return git('rev-parse', 'HEAD');
}

describe('gitState (real git)', () => {
  it('is null, not "unknown", outside a git work tree', async () => {
    expect(await gitState(dir)).toEqual({ sha: null, dirty: null });
  });

  it('gives HEAD and clean for a committed tree; ignored files do not make it dirty', async () => {
    const head = await repoWithCommit();
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    await writeFile(join(dir, 'run.log'), 'ignored\n');
    expect(await gitState(dir)).toEqual({ sha: head, dirty: false });
  });

  it('counts an untracked file as dirty', async () => {
    const head = await repoWithCommit();
    await writeFile(join(dir, 'new-file.ts'), 'export {};\n');
    expect(await gitState(dir)).toEqual({ sha: head, dirty: true });
  });

  it('counts a modified tracked file as dirty', async () => {
    const head = await repoWithCommit();
    await writeFile(join(dir, 'tracked.txt'), 'two\n');
    expect(await gitState(dir)).toEqual({ sha: head, dirty: true });
  });

  it('has no sha before the first commit, but still knows it is dirty', async () => {
    git('init', '-q');
    await writeFile(join(dir, 'a.txt'), 'a\n');
    expect(await gitState(dir)).toEqual({ sha: null, dirty: true });
  });
});
