import { access, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import { ConfigError, EXIT } from '../../core/errors.ts';
import type { ExitCode } from '../../core/errors.ts';
import {
  CI_FILES,
  CI_KINDS,
  composeToConfig,
  readCompose,
  renderCi,
  renderConfig,
  starterPlan,
} from '../../init/index.ts';
import type { CiKind, InitPlan, PlanNote } from '../../init/index.ts';

/** What `readiness init` was asked for, and where it prints. */
interface InitOptions {
  /** Compose file to map; without it a starting config with placeholders is written. */
  readonly from?: string;
  /** Config file to write. */
  readonly outFile: string;
  readonly ci?: string;
  readonly force: boolean;
  readonly json: boolean;
  readonly cwd: string;
  readonly print: (text: string) => void;
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

function isCiKind(value: string): value is CiKind {
  return (CI_KINDS as readonly string[]).includes(value);
}

async function plan(options: InitOptions, outFile: string): Promise<{ plan: InitPlan; source?: string }> {
  if (options.from === undefined) return { plan: starterPlan(basename(dirname(outFile))) };
  const composeFile = resolve(options.cwd, options.from);
  const display = relative(options.cwd, composeFile) || composeFile;
  const document = await readCompose(composeFile, display);
  return {
    plan: composeToConfig(document, { composeDir: dirname(composeFile), outDir: dirname(outFile) }),
    source: display,
  };
}

const line = (file: string | undefined, note: PlanNote): string =>
  `${file ? `${file}: ` : ''}${note.key}: ${note.message}`;

/** `readiness init`: writes a starting config (from a Compose file when given) and optionally a CI job; never overwrites without --force. */
export async function init(options: InitOptions): Promise<ExitCode> {
  if (options.ci !== undefined && !isCiKind(options.ci))
    throw new ConfigError([`--ci must be one of ${CI_KINDS.join(', ')} (received "${options.ci}")`]);
  const outFile = resolve(options.cwd, options.outFile);
  const { plan: result, source } = await plan(options, outFile);
  const files: { path: string; text: string }[] = [
    { path: outFile, text: renderConfig(result, source ? { source } : {}) },
  ];
  if (options.ci !== undefined) {
    const root = dirname(outFile);
    files.push({ path: resolve(root, CI_FILES[options.ci]), text: renderCi(options.ci, relative(root, outFile)) });
  }
  const present = (await Promise.all(files.map(async (f) => ((await exists(f.path)) ? f.path : undefined)))).filter(
    (p): p is string => p !== undefined,
  );
  if (present.length > 0 && !options.force)
    throw new ConfigError(
      present.map((p) => `${relative(options.cwd, p) || p}: already exists; pass --force to overwrite it`),
    );
  for (const file of files) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(file.path, file.text);
  }
  const written = files.map((f) => relative(options.cwd, f.path) || f.path);
  if (options.json) {
    options.print(JSON.stringify({ written, todos: result.todos, warnings: result.warnings }, null, 2));
    return EXIT.certified;
  }
  for (const path of written) options.print(`wrote ${path}`);
  if (result.todos.length > 0) {
    options.print(`\nTODO (${result.todos.length}): until done, the checks they affect are unknown, never passed`);
    for (const todo of result.todos) options.print(`  ${line(source, todo)}`);
  }
  if (result.warnings.length > 0) {
    options.print(`\nNot mapped (${result.warnings.length}):`);
    for (const warning of result.warnings) options.print(`  ${line(source, warning)}`);
  }
  options.print(
    `\nNext: fill in the TODOs, then npx readiness certify --config ${written[0] ?? options.outFile} --stages boot`,
  );
  return EXIT.certified;
}
