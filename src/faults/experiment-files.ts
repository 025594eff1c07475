import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResolvedConfig } from '../config/load-config.ts';
import type { ChaosConfig } from '../config/stages/chaos.ts';
import { noContainerAccessReason, noToxiproxyReason } from '../stack/stack-handle.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { faultLink } from './catalog.ts';
import { deriveMatrix } from './derived-matrix.ts';
import type { LeftOutCell } from './derived-matrix.ts';
import { parseExperiment } from './experiment.ts';
import type { Experiment } from './experiment.ts';

// Finding, importing and validating experiment files, apart from running them: the CLI checks them
// before anything starts without loading the stage's Docker and Toxiproxy clients.

/** An experiment file and what it exported, validated; or a cell of the derived matrix (`cell`, and the config file). */
interface LoadedExperiment {
  readonly file: string;
  readonly experiment: Experiment;
  /** The derived matrix's cell (`postgres:slow`) when the experiment was derived from the config. */
  readonly cell?: string;
  /** Why it cannot run on this stack (a link fault on a stack without Toxiproxy): its checks are recorded not applicable. */
  readonly notApplicable?: string;
}

/** What experiments may name: the links (Toxiproxy proxies) and services of the stack or of the config. */
interface ExperimentScope {
  readonly links: readonly string[];
  readonly services: readonly string[];
  /** Why link faults cannot be injected on this stack (its handle names no Toxiproxy); unset when they can. */
  readonly linkFaultsNotApplicable?: string;
  /** Why container and signal faults cannot be injected (the handle gives no Docker access); unset when they can. */
  readonly containerFaultsNotApplicable?: string;
}

/**
 * The links and services of a running stack. A stack whose handle names no Toxiproxy (`certify --target`
 * of a stack routing its links through none) keeps the config's `links` nameable, with the reason their
 * faults are not applicable (naming `targetFile`, the handle file the run was given); one that gives no
 * Docker access to its containers (`containers: "none"`) says why container faults are not.
 */
export function scopeOfHandle(
  handle: StackHandle,
  options: { readonly links?: ResolvedConfig['links']; readonly targetFile?: string } = {},
): ExperimentScope {
  const services = Object.keys(handle.services);
  const noContainers = noContainerAccessReason(handle, options.targetFile);
  const containers = noContainers === undefined ? {} : { containerFaultsNotApplicable: noContainers };
  const reason = noToxiproxyReason(handle, options.targetFile);
  if (reason === undefined) return { links: Object.keys(handle.toxiproxy?.proxies ?? {}), services, ...containers };
  return {
    links: (options.links ?? []).map((l) => l.name ?? l.service),
    services,
    linkFaultsNotApplicable: reason,
    ...containers,
  };
}

/** The experiment, marked not applicable when the scope cannot inject its fault (on a link, or on a container). */
function withApplicability<T extends LoadedExperiment>(loaded: T, scope: ExperimentScope | undefined): T {
  const fault = loaded.experiment.fault;
  const link = faultLink(fault);
  if (link !== undefined)
    return scope?.linkFaultsNotApplicable === undefined
      ? loaded
      : { ...loaded, notApplicable: `${scope.linkFaultsNotApplicable} (the fault is on link "${link}")` };
  const service = 'service' in fault ? fault.service : undefined;
  return scope?.containerFaultsNotApplicable === undefined || service === undefined
    ? loaded
    : {
        ...loaded,
        notApplicable: `${scope.containerFaultsNotApplicable} (the fault is on the container of "${service}")`,
      };
}

/** The files of an experiments folder: `*.ts`/`*.js`, without tests, declarations and `_helpers.ts`. */
function isExperimentFile(name: string): boolean {
  return /\.(ts|js)$/.test(name) && !/\.(test|d)\.ts$/.test(name) && !name.startsWith('_');
}

/** Links and services an experiment names that the scope does not have, one line each. */
function scopeProblems(experiment: Experiment, scope: ExperimentScope, shown: string): string[] {
  const problems: string[] = [];
  const list = (names: readonly string[]): string => names.join(', ') || 'none';
  const link = faultLink(experiment.fault);
  if (link !== undefined && !scope.links.includes(link))
    problems.push(`${shown}: fault.link names unknown link "${link}" (links: ${list(scope.links)})`);
  const service = (name: string | undefined, key: string): void => {
    if (name !== undefined && !scope.services.includes(name))
      problems.push(`${shown}: ${key} names unknown service "${name}" (services: ${list(scope.services)})`);
  };
  if ('service' in experiment.fault) service(experiment.fault.service, 'fault.service');
  const groups = [
    ['steadyState', experiment.steadyState],
    ['proof', experiment.proof ?? []],
    ['during', experiment.during],
    ['recovery.probes', experiment.recovery.probes],
  ] as const;
  for (const [key, probes] of groups) {
    probes.forEach((probe, i) => {
      if (probe.kind === 'http') service(probe.request.service, `${key}[${i}].request.service`);
      if (probe.kind === 'metric') service(probe.service, `${key}[${i}].service`);
    });
  }
  return problems;
}

/** The dotted keys of the HTTP probes of an experiment that send credentials (`request.auth: true`). */
function authenticatedProbes(experiment: Experiment): string[] {
  const groups = [
    ['steadyState', experiment.steadyState],
    ['proof', experiment.proof ?? []],
    ['during', experiment.during],
    ['recovery.probes', experiment.recovery.probes],
  ] as const;
  return groups.flatMap(([key, probes]) =>
    probes.flatMap((probe, i) => (probe.kind === 'http' && probe.request.auth ? [`${key}[${i}].request.auth`] : [])),
  );
}

/**
 * Imports every experiment file of a folder and validates what each default-exports
 * (`defineExperiment({...})`) against the experiment schema: one line per problem naming the file
 * (relative to `shownFrom`) and the dotted key. With a `scope`, links and services the experiments
 * name must be in it. A folder that cannot be read is one problem.
 */
export async function loadExperiments(
  dir: string,
  options: { readonly scope?: ExperimentScope; readonly shownFrom?: string } = {},
): Promise<{ experiments: LoadedExperiment[]; problems: string[] }> {
  const show = (path: string): string => shownPath(options.shownFrom ?? dir, path);
  let names: string[];
  try {
    names = (await readdir(dir)).filter(isExperimentFile).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(error)})`;
    return { experiments: [], problems: [`${show(dir)}: ${why}`] };
  }
  const problems: string[] = [];
  const experiments: LoadedExperiment[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    const shown = show(file);
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    } catch (error) {
      problems.push(
        `${shown}: cannot be loaded: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
      continue;
    }
    if (mod.default === undefined) {
      problems.push(`${shown}: has no default export; write export default defineExperiment({ ... })`);
      continue;
    }
    const parsed = parseExperiment(mod.default, shown);
    if (parsed.problems) {
      problems.push(...parsed.problems);
      continue;
    }
    const experiment = parsed.experiment;
    const other = seen.get(experiment.id);
    if (other !== undefined) problems.push(`${shown}: id "${experiment.id}" is already used by ${other}`);
    seen.set(experiment.id, shown);
    if (options.scope) problems.push(...scopeProblems(experiment, options.scope, shown));
    experiments.push(withApplicability({ file, experiment }, options.scope));
  }
  return { experiments, problems };
}

/** A path as problem lines show it: relative to `from` when inside it, else absolute. */
function shownPath(from: string, path: string): string {
  const rel = relative(from, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** What the chaos stage runs: the hand-written experiments it selects and the derived matrix, with what went wrong. */
interface StageExperiments {
  readonly experiments: LoadedExperiment[];
  readonly problems: string[];
  /** Cells of the derived matrix that do not run, and why (skipped, or replaced by a hand-written experiment). */
  readonly leftOut: LeftOutCell[];
  /** The hand-written experiments that loaded, selected or not (ids for `chaos.experiments`). */
  readonly handWritten: LoadedExperiment[];
  /** Why the derived matrix, switched on, cannot run at all (the stage records `chaos.derived` not applicable). */
  readonly derivedNotApplicable?: string;
}

/**
 * The experiments of the chaos stage: those of `chaos.experimentsDir` that `chaos.experiments` selects
 * (none when the folder is `false`), then the cells of the derived matrix that no selected one covers,
 * each validated by the experiment schema like a file. Problem lines name the file, or the config
 * and `chaos.derived` for a derived cell; paths are shown relative to `shownFrom`.
 */
export async function stageExperiments(
  config: ResolvedConfig,
  options: { readonly scope?: ExperimentScope; readonly shownFrom?: string } = {},
): Promise<StageExperiments> {
  const chaos = config.chaos;
  if (!chaos) return { experiments: [], problems: [], leftOut: [], handWritten: [] };
  const shownFrom = options.shownFrom ?? config.rootDir;
  const dir = experimentsDirOf({ config }, chaos);
  const loaded =
    dir === undefined
      ? { experiments: [], problems: [] }
      : await loadExperiments(dir, { ...(options.scope ? { scope: options.scope } : {}), shownFrom });
  const wanted = chaos.experiments;
  const selected = loaded.experiments.filter((e) => !wanted || wanted.includes(e.experiment.id));
  const {
    experiments: cells,
    leftOut,
    notApplicable,
  } = deriveMatrix(
    { services: config.services, links: config.links, chaos },
    selected.map((e) => e.experiment),
  );
  const problems = [...loaded.problems];
  const derived: LoadedExperiment[] = [];
  const configShown = shownPath(shownFrom, config.configFile);
  for (const { key, experiment } of cells) {
    const parsed = parseExperiment(experiment, `${configShown}: chaos.derived (${key})`);
    if (parsed.problems) {
      problems.push(...parsed.problems);
      continue;
    }
    const same = loaded.experiments.find((e) => e.experiment.id === parsed.experiment.id);
    if (same)
      problems.push(
        `${shownPath(shownFrom, same.file)}: id "${same.experiment.id}" is the derived matrix's for ${key}; rename the experiment`,
      );
    derived.push(
      withApplicability({ file: config.configFile, experiment: parsed.experiment, cell: key }, options.scope),
    );
  }
  return {
    experiments: [...selected, ...derived],
    problems,
    leftOut,
    handWritten: loaded.experiments,
    ...(notApplicable === undefined ? {} : { derivedNotApplicable: notApplicable }),
  };
}

/**
 * Everything wrong with a config's chaos experiments before anything starts, one line each: the
 * folder (missing, not a folder, no experiment file without a derived matrix), each file (loads,
 * validates, names only the config's links and services), `chaos.experiments` ids no file has, and
 * what an experiment needs from the rest of the config (`chaos.ledger` for a ledger, the `load`
 * section for load), with the experiments the stage would run (derived cells included). Paths are
 * shown relative to `shownFrom`.
 */
export async function experimentProblems(
  config: ResolvedConfig,
  shownFrom: string,
): Promise<{ experiments: LoadedExperiment[]; problems: string[] }> {
  const chaos = config.chaos;
  if (!chaos) return { experiments: [], problems: [] };
  const configShown = shownPath(shownFrom, config.configFile);
  const dir = experimentsDirOf({ config }, chaos);
  if (dir !== undefined) {
    const dirKey = `${configShown}: chaos.experimentsDir (${shownPath(shownFrom, dir)})`;
    const kind = await stat(dir).then(
      (s) => (s.isDirectory() ? 'folder' : 'not a folder'),
      (error: unknown) => ((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable'),
    );
    if (kind === 'missing') return { experiments: [], problems: [`${dirKey} does not exist`] };
    if (kind !== 'folder') return { experiments: [], problems: [`${dirKey} is ${kind}`] };
  }
  const scope: ExperimentScope = {
    links: config.links.map((l) => l.name ?? l.service),
    services: Object.keys(config.services),
  };
  const { experiments, problems, handWritten } = await stageExperiments(config, { scope, shownFrom });
  if (dir !== undefined && problems.length === 0 && experiments.length === 0)
    problems.push(
      `${configShown}: chaos.experimentsDir (${shownPath(shownFrom, dir)}) has no experiment file; add one (export default defineExperiment({...}))`,
    );
  const known = handWritten.map((e) => e.experiment.id);
  (chaos.experiments ?? []).forEach((id, i) => {
    if (!known.includes(id))
      problems.push(
        `${configShown}: chaos.experiments[${i}] names no experiment of chaos.experimentsDir ("${id}"; known: ${known.join(', ') || 'none'})`,
      );
  });
  if (chaos.experiments?.length === 0)
    problems.push(`${configShown}: chaos.experiments is empty, so no experiment would run; list ids or remove the key`);
  for (const { file, experiment, cell } of experiments) {
    const shown = cell === undefined ? shownPath(shownFrom, file) : `${configShown}: chaos.derived (${cell})`;
    if (experiment.ledger && !chaos.ledger)
      problems.push(`${shown}: ledger needs chaos.ledger in ${configShown} (how to write, read and list records)`);
    if (chaos.as === undefined)
      for (const key of authenticatedProbes(experiment))
        problems.push(
          `${shown}: ${key} needs chaos.as in ${configShown} (who the experiment acts as: a principal of auth.principals, or 'disposable'; see docs/auth.md)`,
        );
    if (experiment.load && !config.load)
      problems.push(`${shown}: load needs the load section of ${configShown} (load.script and load.target drive it)`);
  }
  return { experiments, problems };
}

/** Where the hand-written experiments are: `chaos.experimentsDir`, relative to the config file; undefined when it is `false`. */
function experimentsDirOf(
  context: { readonly config: Pick<ResolvedConfig, 'rootDir'> },
  chaos: ChaosConfig,
): string | undefined {
  return chaos.experimentsDir === false ? undefined : resolve(context.config.rootDir, chaos.experimentsDir);
}
