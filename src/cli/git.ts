import { exec } from '../core/exec.ts';

/** A checkout's commit and whether it differs from it; both null when unknown. */
interface GitState {
  /** HEAD's commit; null outside a git work tree, without git, or before the first commit. */
  readonly sha: string | null;
  /** Modified, staged or untracked files (ignored ones do not count); null when git cannot tell. */
  readonly dirty: boolean | null;
}

const GIT_TIMEOUT_MS = 5_000;

async function git(cwd: string, args: readonly string[]): Promise<string | null> {
  const result = await exec('git', args, { cwd, timeoutMs: GIT_TIMEOUT_MS }).catch(() => null);
  return result !== null && result.exitCode === 0 ? result.stdout : null;
}

/** The checkout's commit and whether it has uncommitted changes, untracked files included; nulls outside git. */
export async function gitState(cwd: string): Promise<GitState> {
  if ((await git(cwd, ['rev-parse', '--is-inside-work-tree']))?.trim() !== 'true') return { sha: null, dirty: null };
  const sha = (await git(cwd, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']))?.trim() || null;
  const status = await git(cwd, ['status', '--porcelain', '--untracked-files=normal', '--ignored=no']);
  return { sha, dirty: status === null ? null : status.trim().length > 0 };
}
