// What the certify benches share: one healthy `certify` of the project's config in a child process
// (FRAGILE unset, output dropped: the figures come from the run folder), and the load averages.
import { spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';

/** One certify: when it started and ended, its exit code and its run folder. */
export interface CertifyRun {
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly code: number | null;
  readonly runDir: string;
}

/** Runs `node src/cli/main.ts certify` once; the run folder is the one `<reportsDir>/latest` points at after it. */
export const certifyOnce = (reportsDir: string): Promise<CertifyRun> =>
  new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const child = spawn(process.execPath, ['src/cli/main.ts', 'certify'], {
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, FRAGILE: '' },
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const finishedAt = Date.now();
      realpath(join(reportsDir, 'latest')).then((runDir) => resolve({ startedAt, finishedAt, code, runDir }), reject);
    });
  });

/** The 1, 5 and 15-minute load averages, for a line of figures. */
export const loadAverages = (): string =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(', ');
