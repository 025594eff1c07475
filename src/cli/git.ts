import { exec } from '../core/exec.ts';

/** The checkout's commit and whether it has uncommitted changes; `unknown` outside git. */
export async function gitState(cwd: string): Promise<{ sha: string; dirty: boolean }> {
  const sha = await exec('git', ['rev-parse', 'HEAD'], { cwd, timeoutMs: 5_000 }).catch(() => undefined);
  if (!sha || sha.exitCode !== 0) return { sha: 'unknown', dirty: false };
  const status = await exec('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, timeoutMs: 5_000 });
  return { sha: sha.stdout.trim(), dirty: status.stdout.trim().length > 0 };
}
