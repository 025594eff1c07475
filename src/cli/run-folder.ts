import { randomBytes } from 'node:crypto';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/** `20261123-104512-a1b2`: sortable, unique enough for one machine. */
export function newRunId(now = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const date = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`;
  const time = `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  return `${date}-${time}-${randomBytes(2).toString('hex')}`;
}

export interface RunFolder {
  readonly runId: string;
  readonly dir: string;
  readonly resultsDir: string;
  readonly logsDir: string;
  readonly reportDir: string;
  readonly handleFile: string;
}

/** Creates `reports/<run-id>/` and points `reports/latest` at it. */
export async function createRunFolder(reportsDir: string, runId: string): Promise<RunFolder> {
  const dir = join(reportsDir, runId);
  const folder: RunFolder = {
    runId,
    dir,
    resultsDir: join(dir, 'allure-results'),
    logsDir: join(dir, 'logs'),
    reportDir: join(dir, 'allure-report'),
    handleFile: join(dir, 'stack-handle.json'),
  };
  await mkdir(folder.resultsDir, { recursive: true });
  await mkdir(folder.logsDir, { recursive: true });
  const latest = join(reportsDir, 'latest');
  await rm(latest, { force: true });
  await symlink(runId, latest);
  return folder;
}
