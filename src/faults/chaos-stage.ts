import { basename, join } from 'node:path';
import { NOT_APPLICABLE_TAG } from '../core/check-result.ts';
import type { CheckResult } from '../core/check-result.ts';
import { stageAuthenticator } from '../auth/stage.ts';
import { derivedSeed, seededRandom } from '../core/seed.ts';
import { notApplicableMessage } from '../runner/not-applicable.ts';
import type { SuiteContext } from '../runner/suite.ts';
import { containerIdOf } from '../stack/stack-handle.ts';
import type { StackHandle } from '../stack/stack-handle.ts';
import { dockerClient, inspectContainer } from '../stack/containers.ts';
import { DERIVED_CHECK } from './chaos-plan.ts';
import { scopeOfHandle, stageExperiments } from './experiment-files.ts';
import type { Experiment, LoadDriver } from './experiment.ts';
import { toxiproxyOf } from './injector.ts';
import { planExperiment, runExperiment } from './run-experiment.ts';

/** The experiments' run order: file order, or shuffled with the run seed (Fisher-Yates). */
export function orderExperiments<T>(items: readonly T[], seed: number, shuffle: boolean): T[] {
  const out = [...items];
  if (!shuffle) return out;
  const random = seededRandom(seed ^ 0x5eed);
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Removes what an interrupted earlier run (kill -9 of a drill) may have left on this stack:
 * toxics named `readiness-*`, disabled proxies, paused or stopped service containers.
 */
async function cleanLeftovers(handle: StackHandle): Promise<string[]> {
  const cleaned: string[] = [];
  if (handle.toxiproxy) {
    const api = toxiproxyOf(handle);
    for (const [name, proxy] of Object.entries(await api.listProxies())) {
      if (!(name in handle.toxiproxy.proxies)) continue;
      for (const toxic of proxy.toxics.filter((t) => t.name.startsWith('readiness-'))) {
        await api.removeToxicIfPresent(name, toxic.name);
        cleaned.push(`toxic ${toxic.name} on ${name}`);
      }
      if (!proxy.enabled) {
        await api.setEnabled(name, true);
        cleaned.push(`proxy ${name} was disabled`);
      }
    }
  }
  // No Docker access (containers: "none"): no container fault ran here, none can be left.
  if (handle.containers === 'none') return cleaned;
  const docker = await dockerClient();
  for (const service of Object.keys(handle.services)) {
    const id = containerIdOf(handle, service);
    const state = await inspectContainer(docker, id).catch(() => undefined);
    if (state?.paused) {
      await docker.getContainer(id).unpause();
      cleaned.push(`${service} was paused`);
    }
  }
  return cleaned;
}

/** Every check of an experiment that cannot run on this stack, `not-applicable` with the reason; nothing is injected. */
async function recordNotApplicable(
  context: SuiteContext,
  experiment: Experiment,
  reason: string,
): Promise<CheckResult[]> {
  const at = context.clock.now();
  const results: CheckResult[] = [];
  for (const check of planExperiment(experiment))
    results.push(
      await context.record({
        id: check.id,
        name: check.name,
        feature: check.feature,
        severity: check.severity,
        status: 'not-applicable',
        message: notApplicableMessage(reason),
        tags: [...(check.tags ?? []), NOT_APPLICABLE_TAG],
        startedAt: at,
        finishedAt: at,
      }),
    );
  return results;
}

interface ChaosStageOptions {
  /** Only these experiment ids (a drill). */
  readonly only?: readonly string[];
  /** Handle files to rewrite when a restarted container gets new host ports (besides the run folder's). */
  readonly handleFiles?: readonly string[];
  /** The replay command of one experiment. */
  readonly replay?: (id: string, seed: number) => string;
  /** Starts k6 load behind experiments that declare `load` (the load stage's `startPhaseLoad`). */
  readonly loadDriver?: LoadDriver;
}

/** The chaos stage: the selected experiments of `chaos.experimentsDir` and the derived matrix (or `only`), in seeded order. */
export async function runChaosStage(context: SuiteContext, options: ChaosStageOptions = {}): Promise<CheckResult[]> {
  const { config, handle, seed, clock } = context;
  const chaos = config.chaos;
  const harnessCheck = (id: string, name: string, status: 'broken' | 'unknown', message: string, remediation: string) =>
    context.record({
      id: `chaos.${id}`,
      name,
      feature: 'harness',
      severity: 'critical',
      status,
      message,
      remediation,
      startedAt: clock.now(),
      finishedAt: clock.now(),
    });
  if (!chaos) {
    return [
      await harnessCheck(
        'config',
        'Chaos stage configured',
        'broken',
        `${config.configFile} has no chaos key`,
        'Declare chaos: { target: { service, port }, ... } in the config',
      ),
    ];
  }
  const scope = scopeOfHandle(handle, {
    links: config.links,
    ...(context.targetFile === undefined ? {} : { targetFile: context.targetFile }),
  });
  const loaded = await stageExperiments(config, { scope, shownFrom: config.rootDir });
  const where = [
    chaos.experimentsDir === false ? undefined : `chaos.experimentsDir (${chaos.experimentsDir})`,
    chaos.derived === false ? undefined : 'the derived matrix (chaos.derived)',
  ]
    .filter(Boolean)
    .join(' and ');
  const results: CheckResult[] = [];
  if (loaded.derivedNotApplicable !== undefined && !options.only)
    results.push(
      await context.record({
        ...DERIVED_CHECK,
        tags: [...(DERIVED_CHECK.tags ?? [])],
        status: 'not-applicable',
        message: `The derived matrix does not run: ${loaded.derivedNotApplicable}`,
        remediation:
          'Declare an HTTP health check for the services (services.<name>.health: { kind: "http", ... }) or chaos.ledger, or set chaos.derived: false',
        startedAt: clock.now(),
        finishedAt: clock.now(),
      }),
    );
  if (loaded.problems.length > 0) {
    results.push(
      await harnessCheck(
        'experiments',
        'Chaos experiments load',
        'broken',
        loaded.problems.join('\n'),
        'Fix the experiment files and chaos.derived named above',
      ),
    );
  }
  // A drill may run any hand-written experiment, selected by chaos.experiments or not.
  const pool = options.only
    ? [...loaded.handWritten, ...loaded.experiments.filter((e) => e.cell !== undefined)]
    : loaded.experiments;
  const known = pool.map((e) => e.experiment.id);
  const unknown = [
    ...(options.only ?? []).filter((id) => !known.includes(id)),
    ...(options.only ? [] : (chaos.experiments ?? [])).filter((id) => !known.includes(id)),
  ];
  if (unknown.length > 0) {
    results.push(
      await harnessCheck(
        'experiments.unknown',
        'Requested chaos experiments exist',
        'broken',
        `No experiment ${unknown.map((u) => `"${u}"`).join(', ')} in ${where || 'the config'} (known: ${known.join(', ')})`,
        'Use an id of an experiment file in chaos.experimentsDir or of a derived cell (derived-<link|service>-<fault>)',
      ),
    );
  }
  const selected = pool.filter((e) => !options.only || options.only.includes(e.experiment.id));
  if (selected.length === 0) {
    results.push(
      await harnessCheck(
        'no-experiments',
        'Chaos experiments ran',
        'unknown',
        `No experiment to run from ${where || 'the config (chaos.experimentsDir and chaos.derived are both false)'}: the chaos stage has no evidence`,
        'Add experiment files to chaos.experimentsDir (export default defineExperiment({...})), or let the stage derive its matrix (chaos.derived)',
      ),
    );
    return results;
  }
  if (loaded.leftOut.length > 0)
    context.reporter.onInfo?.(
      `chaos: derived cells not run: ${loaded.leftOut.map((c) => `${c.key} (${c.reason})`).join(', ')}`,
    );
  const ordered = orderExperiments(selected, seed, chaos.shuffle && !options.only);
  // Only before a fault is injected: a stage of not-applicable experiments reaches neither Toxiproxy nor Docker.
  if (ordered.some((e) => e.notApplicable === undefined)) {
    const cleaned = await cleanLeftovers(handle);
    if (cleaned.length > 0)
      context.reporter.onInfo?.(`chaos: removed leftovers of an interrupted run: ${cleaned.join(', ')}`);
  }
  context.reporter.onInfo?.(`chaos: ${ordered.map((e) => e.experiment.id).join(', ')} (seed ${seed})`);
  const runTag =
    basename(context.runDir)
      .replace(/[^a-z0-9]/gi, '')
      .slice(-10)
      .toLowerCase() || 'run';
  const replay = options.replay ?? ((id: string, s: number) => `readiness drill ${id} --seed ${s}`);
  // One per stage: a principal's credentials are obtained once and shared by the experiments.
  const authenticator = stageAuthenticator(context, chaos.target, { random: seededRandom(derivedSeed(seed, 'auth')) });
  for (const { experiment, notApplicable } of ordered) {
    if (context.signal.aborted) break;
    if (notApplicable !== undefined) {
      context.reporter.onInfo?.(`chaos: ${experiment.id}: not applicable: ${notApplicable}`);
      results.push(...(await recordNotApplicable(context, experiment, notApplicable)));
      continue;
    }
    context.reporter.onInfo?.(`chaos: ${experiment.id}: ${experiment.title}`);
    results.push(
      ...(await runExperiment(context, experiment, {
        chaos,
        handleFiles: [join(context.runDir, 'stack-handle.json'), ...(options.handleFiles ?? [])],
        runTag,
        replay: replay(experiment.id, seed),
        authenticator,
        ...(options.loadDriver ? { loadDriver: options.loadDriver } : {}),
      })),
    );
  }
  return results;
}
