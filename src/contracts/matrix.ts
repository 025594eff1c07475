import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CHECK_STATUSES } from '../core/check-result.ts';
import type { CheckStatus } from '../core/check-result.ts';
import { exec } from '../core/exec.ts';

const countsSchema = z.strictObject({
  passed: z.number().int(),
  failed: z.number().int(),
  broken: z.number().int(),
  skipped: z.number().int(),
  unknown: z.number().int(),
  'not-applicable': z.number().int().default(0),
});
type MatrixCounts = z.infer<typeof countsSchema>;

/** One consumer/provider pair: which versions were verified together, and how it went. */
const matrixRowSchema = z.strictObject({
  consumer: z.string(),
  consumerVersion: z.string(),
  provider: z.string(),
  providerVersion: z.string(),
  /** The pact verified (relative to the config folder when inside it); absent for a broker source. */
  pact: z.string().optional(),
  interactions: z.number().int(),
  counts: countsSchema,
  /** `passed` only when every interaction passed; otherwise the worst status, `unknown` with none. */
  status: z.enum(CHECK_STATUSES),
});
export type MatrixRow = z.infer<typeof matrixRowSchema>;

/** `contracts/matrix.json` in the run folder (crosses a process boundary: the report reads it). */
export const contractMatrixSchema = z.strictObject({
  schemaVersion: z.literal(1),
  generatedAt: z.string(),
  source: z.enum(['files', 'broker']),
  rows: z.array(matrixRowSchema),
});
type ContractMatrix = z.infer<typeof contractMatrixSchema>;

const WORST_FIRST: readonly CheckStatus[] = ['failed', 'broken', 'unknown', 'skipped', 'passed', 'not-applicable'];

/** Row status from its interactions' statuses. */
export function rowStatus(statuses: readonly CheckStatus[]): CheckStatus {
  if (statuses.length === 0) return 'unknown';
  return WORST_FIRST.find((s) => statuses.includes(s)) ?? 'unknown';
}

export function countStatuses(statuses: readonly CheckStatus[]): MatrixCounts {
  const counts: MatrixCounts = { passed: 0, failed: 0, broken: 0, skipped: 0, unknown: 0, 'not-applicable': 0 };
  for (const s of statuses) counts[s] += 1;
  return counts;
}

/** The matrix as a Markdown table, for people. */
export function matrixMarkdown(matrix: ContractMatrix): string {
  const lines = [
    `# Pact matrix (${matrix.source}, ${matrix.generatedAt})`,
    '',
    '| consumer | consumer version | provider | provider version | interactions | passed | failed | broken | skipped | unknown | status |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...matrix.rows.map(
      (r) =>
        `| ${r.consumer} | ${r.consumerVersion} | ${r.provider} | ${r.providerVersion} | ${r.interactions} | ${r.counts.passed} | ${r.counts.failed} | ${r.counts.broken} | ${r.counts.skipped} | ${r.counts.unknown} | ${r.status} |`,
    ),
  ];
  if (matrix.rows.length === 0) lines.push('', 'No pact was verified.');
  return `${lines.join('\n')}\n`;
}

/** Writes `matrix.json` and `matrix.md` into `dir`; returns the JSON file. */
export async function writeMatrix(dir: string, matrix: ContractMatrix): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'matrix.json');
  await writeFile(file, `${JSON.stringify(contractMatrixSchema.parse(matrix), null, 2)}\n`);
  await writeFile(join(dir, 'matrix.md'), matrixMarkdown(matrix));
  return file;
}

const git = async (cwd: string, args: readonly string[]): Promise<string | undefined> => {
  const result = await exec('git', args, { cwd, timeoutMs: 5_000 }).catch(() => undefined);
  return result?.exitCode === 0 ? result.stdout.trim() : undefined;
};

/**
 * The version of what a path holds, from git: the last commit that changed it, `-dirty` when the
 * working copy differs from that commit, `uncommitted` when git has never seen it, `unknown`
 * outside a git checkout. Consumer versions are this for the pact file; provider versions for the
 * provider's build context.
 */
export async function gitPathVersion(path: string): Promise<string> {
  const cwd = (await stat(path).catch(() => undefined))?.isDirectory() ? path : dirname(path);
  if ((await git(cwd, ['rev-parse', '--is-inside-work-tree'])) !== 'true') return 'unknown';
  const sha = await git(cwd, ['log', '-1', '--format=%H', '--', path]);
  if (!sha) return 'uncommitted';
  const status = await git(cwd, ['status', '--porcelain', '--', path]);
  return status ? `${sha}-dirty` : sha;
}
