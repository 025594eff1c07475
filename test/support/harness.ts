import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { LABELS } from '../../src/stack/labels.ts';

/** Shared by the integration tests: a project spreading the reference config, the CLI, and what a run left. */
export const ROOT = resolve(import.meta.dirname, '../..');
export const MAIN = join(ROOT, 'src/cli/main.ts');

export interface Project {
  readonly dir: string;
  /** The project's reports folder (a temp folder, never the repository's `reports/`). */
  readonly reports: string;
}

/**
 * A temp project whose config is the reference one with its reports in the project. `overrides` is
 * source text appended inside the exported object (e.g. `chaos: { ...base.chaos, shuffle: false }`);
 * `preamble` is source text (imports, consts) placed before it.
 */
export async function referenceProject(prefix: string, overrides = '', preamble = ''): Promise<Project> {
  const dir = await mkdtemp(join(tmpdir(), `readiness-${prefix}-`));
  const reports = join(dir, 'reports');
  await writeFile(
    join(dir, 'readiness.config.ts'),
    `import base from ${JSON.stringify(join(ROOT, 'readiness.config.ts'))};
${preamble}
export default {
  ...base,
  ${overrides ? `${overrides.trim().replace(/,$/, '')},` : ''}
  reportsDir: ${JSON.stringify(reports)},
  suitesDir: ${JSON.stringify(join(ROOT, 'suites'))},
};\n`,
  );
  return { dir, reports };
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `readiness <args>` in `dir` with extra env; `onStderr` sees the stderr so far and can interrupt (SIGINT). */
export function runCli(
  dir: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  onStderr?: (text: string, interrupt: () => void) => void,
): Promise<CliRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: dir, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      onStderr?.(stderr, () => child.kill('SIGINT'));
    });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The one run folder in `reports` (not `latest` or the Allure history); throws unless there is exactly one. */
export async function onlyRun(reports: string): Promise<string> {
  const runs = (await readdir(reports)).filter((n) => /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(n));
  if (runs.length !== 1) throw new Error(`expected one run folder in ${reports}, found: ${runs.join(', ') || 'none'}`);
  return join(reports, runs[0] ?? '');
}

/** Containers and networks still labelled with a run (a run id or its folder). */
export async function leftovers(runIdOrFolder: string): Promise<number> {
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const filters = JSON.stringify({ label: [`${LABELS.runId}=${basename(runIdOrFolder)}`] });
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
  ]);
  return containers.length + networks.length;
}

/** Credential shapes no artifact of a run may hold: a JWT, and `Bearer` followed by a token (not a prose word). */
export const CREDENTIAL_SHAPES: readonly (readonly [string, RegExp])[] = [
  ['JWT', /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\./],
  ['Bearer token', /Bearer\s+(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}/],
];

/**
 * Every file under a run folder (binary ones read as Latin-1) holding one of the literal secrets or
 * a credential shape, one line per hit naming the file and what was found (never the value itself).
 */
export async function credentialLeaks(runDir: string, secrets: readonly string[]): Promise<string[]> {
  const entries = await readdir(runDir, { withFileTypes: true, recursive: true });
  const hits: string[] = [];
  for (const entry of entries.filter((e) => e.isFile())) {
    const file = join(entry.parentPath, entry.name);
    const text = await readFile(file, 'latin1');
    for (const secret of secrets) if (text.includes(secret)) hits.push(`${file}: secret ${secret.slice(0, 4)}...`);
    for (const [what, shape] of CREDENTIAL_SHAPES) {
      const found = shape.exec(text);
      if (found) hits.push(`${file}: ${what} ${found[0].slice(0, 12)}... at ${found.index}`);
    }
  }
  return hits;
}

/** The text of a check's evidence, read from its Allure result's attachment file; undefined when it has none of that name. */
export async function readAttachment(runDir: string, checkId: string, name: string): Promise<string | undefined> {
  const dir = join(runDir, 'allure-results');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('-result.json'))) {
    const result = JSON.parse(await readFile(join(dir, file), 'utf8')) as {
      fullName?: string;
      attachments?: { name: string; source: string }[];
    };
    const source = result.fullName === checkId ? result.attachments?.find((a) => a.name === name)?.source : undefined;
    if (source) return readFile(join(dir, source), 'utf8');
  }
  return undefined;
}
