import { execFile } from 'node:child_process';
import { access, constants, readdir, readFile, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ResolvedConfig } from '../config/load-config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Stage } from '../core/stage.ts';
// Each format is checked by the module that reads it at run time, so preflight and stage agree.
import { parsePactFile } from '../contracts/pact-files.ts';
import { experimentProblems } from '../faults/experiment-files.ts';
import { readOpenApiFile } from '../security/openapi.ts';
import { parseRulesTsv } from '../security/zap-policy.ts';

const run = promisify(execFile);

/**
 * Everything the config names on disk, checked before anything starts: the problem lines of
 * `preflight`, empty when all is there. `stages` are the stages about to run (`up` and `drill`
 * pass what their stack or experiment needs). Paths are shown relative to `cwd`.
 */
export async function preflightProblems(
  config: ResolvedConfig,
  stages: readonly Stage[],
  cwd = process.cwd(),
): Promise<string[]> {
  const at = new Shown(config, cwd);
  const chaos = stages.includes('chaos') ? await experimentProblems(config, cwd) : { experiments: [], problems: [] };
  // An experiment under load runs k6 on load.script, whether or not the load stage runs.
  const chaosLoad = chaos.experiments.some((e) => e.experiment.load !== undefined);
  const checks: Promise<string[]>[] = [buildProblems(config, at), Promise.resolve(chaos.problems)];
  if (stages.includes('load') || chaosLoad) checks.push(loadProblems(config, at, stages.includes('load')));
  if (stages.includes('contract')) checks.push(pactProblems(config, at));
  if (stages.includes('security')) checks.push(rulesProblems(config, at), openApiProblems(config, at));
  return [...new Set((await Promise.all(checks)).flat())];
}

/**
 * Checks every file and folder the config names for `stages` (build contexts and Dockerfiles, k6
 * scripts and binary, chaos experiments, pacts, the security rules file and OpenAPI file) and throws `ConfigError`
 * (exit 2) with one line per problem, naming the file and the config key. Nothing is started.
 */
export async function preflight(config: ResolvedConfig, stages: readonly Stage[], cwd = process.cwd()): Promise<void> {
  const problems = await preflightProblems(config, stages, cwd);
  if (problems.length > 0) throw new ConfigError(problems);
}

/** How problem lines show the config file and the paths it names. */
class Shown {
  readonly configFile: string;
  readonly #cwd: string;
  readonly #rootDir: string;
  constructor(config: ResolvedConfig, cwd: string) {
    this.#cwd = cwd;
    this.#rootDir = config.rootDir;
    this.configFile = this.path(config.configFile);
  }

  /** A path relative to the working directory when inside it, else absolute. */
  path(path: string): string {
    const rel = relative(this.#cwd, path);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
  }

  /** A path as the config gives it, resolved against the config's folder. */
  resolve(path: string): string {
    return resolve(this.#rootDir, path);
  }

  /** `<config>: <key> (<path>) <problem>`. */
  line(key: string, path: string, problem: string): string {
    return `${this.configFile}: ${key} (${this.path(path)}) ${problem}`;
  }
}

type Entry = 'file' | 'folder' | 'missing' | { readonly unreadable: string };

async function entryAt(path: string): Promise<Entry> {
  try {
    return (await stat(path)).isDirectory() ? 'folder' : 'file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : { unreadable: code ?? String(error) };
  }
}

/** Why `entry` is not what a key needs, or undefined when it is. */
function entryProblem(entry: Entry, want: 'file' | 'folder'): string | undefined {
  if (entry === want) return undefined;
  if (entry === 'missing') return 'does not exist';
  if (typeof entry === 'object') return `cannot be read (${entry.unreadable})`;
  return want === 'file' ? 'is a folder, not a file' : 'is a file, not a folder';
}

/** Each service's `build.context` is a folder holding its `build.dockerfile`. */
async function buildProblems(config: ResolvedConfig, at: Shown): Promise<string[]> {
  const problems: string[] = [];
  for (const [id, service] of Object.entries(config.services)) {
    if (!service.build) continue;
    const key = `services.${id}.build`;
    const context = service.build.context;
    const contextProblem = entryProblem(await entryAt(context), 'folder');
    if (contextProblem) {
      problems.push(at.line(`${key}.context`, context, contextProblem));
      continue;
    }
    const dockerfile = join(context, service.build.dockerfile);
    const problem = entryProblem(await entryAt(dockerfile), 'file');
    if (problem) problems.push(at.line(`${key}.dockerfile`, dockerfile, problem));
  }
  return problems;
}

/** JavaScript k6 scripts are syntax-checked by Node (k6 parses a subset of what Node does); others only read. */
const SYNTAX_CHECKED = new Set(['.js', '.mjs', '.cjs']);

async function scriptProblem(file: string): Promise<string | undefined> {
  const problem = entryProblem(await entryAt(file), 'file');
  if (problem) return problem;
  try {
    await access(file, constants.R_OK);
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  if (!SYNTAX_CHECKED.has(extname(file))) return undefined;
  try {
    await run(process.execPath, ['--check', file], { timeout: 20_000 });
  } catch (error) {
    const raw = (error as { stderr?: unknown }).stderr;
    const stderr = typeof raw === 'string' ? raw : '';
    const where = /:(\d+)\n/.exec(stderr)?.[1];
    const what = /^(SyntaxError: .*)$/m.exec(stderr)?.[1];
    if (what) return `is not valid JavaScript: ${what}${where ? ` (line ${where})` : ''}`;
    return `could not be syntax-checked: ${stderr.trim().split('\n')[0] ?? String(error)}`;
  }
  return undefined;
}

/** `load.script`, each scenario's and the knee's `script`, and `load.k6.binary` when given. */
async function loadProblems(config: ResolvedConfig, at: Shown, loadStage: boolean): Promise<string[]> {
  const load = config.load;
  if (!load) return [];
  const scripts: [string, string][] = [['load.script', load.script]];
  if (loadStage) {
    load.scenarios.forEach((s, i) => {
      if (s.script !== undefined) scripts.push([`load.scenarios[${i}].script`, s.script]);
    });
    if (load.knee?.script !== undefined) scripts.push(['load.knee.script', load.knee.script]);
  }
  const problems: string[] = [];
  const checked = new Map<string, Promise<string | undefined>>();
  for (const [key, script] of scripts) {
    const file = at.resolve(script);
    const pending = checked.get(file) ?? scriptProblem(file);
    checked.set(file, pending);
    const problem = await pending;
    if (problem) problems.push(at.line(key, file, problem));
  }
  const binary = load.k6.binary;
  if (binary !== undefined) {
    const file = at.resolve(binary);
    const problem = entryProblem(await entryAt(file), 'file');
    if (problem) problems.push(at.line('load.k6.binary', file, problem));
    else {
      try {
        await access(file, constants.X_OK);
      } catch {
        problems.push(at.line('load.k6.binary', file, 'is not executable'));
      }
    }
  }
  return problems;
}

/** Without a broker, `contract.pactDir` holds at least one pact file and every `*.json` there parses as a pact. */
async function pactProblems(config: ResolvedConfig, at: Shown): Promise<string[]> {
  const contract = config.contract;
  if (!contract || contract.broker) return [];
  const dir = at.resolve(contract.pactDir);
  const problem = entryProblem(await entryAt(dir), 'folder');
  if (problem)
    return [
      at.line('contract.pactDir', dir, `${problem}; run the consumer tests to write the pacts, or set contract.broker`),
    ];
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  if (names.length === 0)
    return [at.line('contract.pactDir', dir, 'has no pact file (*.json); run the consumer tests to write them')];
  const problems: string[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      parsePactFile(file, await readFile(file, 'utf8'));
    } catch (error) {
      // The parser's messages start with the file's name, which the line already shows.
      const message = error instanceof Error ? error.message : String(error);
      problems.push(at.line('contract.pactDir', file, message.replace(`${name} `, '')));
    }
  }
  return problems;
}

/** `security.rulesFile` exists and parses as ZAP's rules TSV (every malformed line reported). */
async function rulesProblems(config: ResolvedConfig, at: Shown): Promise<string[]> {
  const security = config.security;
  if (!security) return [];
  const file = at.resolve(security.rulesFile);
  const problem = entryProblem(await entryAt(file), 'file');
  if (problem) return [at.line('security.rulesFile', file, problem)];
  try {
    parseRulesTsv(await readFile(file, 'utf8'), at.path(file));
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${at.configFile}: security.rulesFile: ${p}`);
    return [at.line('security.rulesFile', file, `cannot be read (${String(error)})`)];
  }
  return [];
}

/** `security.openapi.file`, when given, exists and parses as an OpenAPI 3.x document (JSON, or YAML by extension). */
async function openApiProblems(config: ResolvedConfig, at: Shown): Promise<string[]> {
  const openapi = config.security?.openapi;
  if (openapi === undefined || openapi === false || !('file' in openapi)) return [];
  const file = at.resolve(openapi.file);
  const fix =
    'give the OpenAPI 3 document of the service, use security.openapi: { path } to fetch it from the service, or security.openapi: false when it has none';
  const problem = entryProblem(await entryAt(file), 'file');
  if (problem) return [at.line('security.openapi.file', file, `${problem}; ${fix}`)];
  try {
    await readOpenApiFile(file);
  } catch (error) {
    return [
      at.line('security.openapi.file', file, `${error instanceof Error ? error.message : String(error)}; ${fix}`),
    ];
  }
  return [];
}
