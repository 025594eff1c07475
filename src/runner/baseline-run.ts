import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { describeError } from '../core/errors.ts';

/** The verdict file of a run folder. */
export const CERTIFICATION_FILE = 'certification.json';

/** Folders of a reports directory that are not runs. */
const NOT_RUNS = new Set(['latest', 'history']);

/** Names of the run folders of a reports directory (those holding a certification.json), oldest first. */
export async function listRunIds(reportsDir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(reportsDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const ids: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || NOT_RUNS.has(entry.name)) continue;
    const isRun = await stat(join(reportsDir, entry.name, CERTIFICATION_FILE)).then(
      (s) => s.isFile(),
      () => false,
    );
    if (isRun) ids.push(entry.name);
  }
  return ids.sort();
}

/** The fields of a certification file a baseline is chosen by (the whole file is certify's). */
const runHeaderSchema = z.object({ runId: z.string().min(1), name: z.string().min(1).optional(), verdict: z.string() });
export type RunHeader = z.infer<typeof runHeaderSchema>;

/** Reads the verdict and config name of a certification file (throws on a file that is not one). */
export async function readRunHeader(file: string): Promise<RunHeader> {
  return runHeaderSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

/** The previous CERTIFIED run of a config, as found in a reports directory, read by `read`. */
export type BaselineRun<T> =
  | { readonly found: true; readonly runDir: string; readonly cert: T; readonly skipped: readonly string[] }
  | { readonly found: false; readonly note: string; readonly skipped: readonly string[] };

/**
 * The newest run before `current` that is CERTIFIED and recorded the same config name; `read` parses its
 * certification file (strictly or leniently), and `skipped` names the unreadable ones passed over.
 */
export async function findCertifiedRun<T extends { readonly verdict: string; readonly name?: string | undefined }>(
  reportsDir: string,
  current: { readonly runId: string; readonly name?: string | undefined },
  read: (file: string) => Promise<T>,
): Promise<BaselineRun<T>> {
  const skipped: string[] = [];
  const name = current.name;
  if (name === undefined)
    return { found: false, note: 'This run records no config name: it is compared with no other run.', skipped };
  const ids = (await listRunIds(reportsDir)).filter((id) => id < current.runId).reverse();
  for (const id of ids) {
    const runDir = join(reportsDir, id);
    try {
      const cert = await read(join(runDir, CERTIFICATION_FILE));
      if (cert.verdict === 'CERTIFIED' && cert.name === name) return { found: true, runDir, cert, skipped };
    } catch (error) {
      skipped.push(`${id}/${CERTIFICATION_FILE}: ${describeError(error).split('\n')[0] ?? ''}`);
    }
  }
  return { found: false, note: `No earlier CERTIFIED run of config "${name}" in the reports folder.`, skipped };
}
