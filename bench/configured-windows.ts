// What a certify run must wait by its config, per stage: load phases, experiment fault and
// recovery windows, drill traffic, the rate limit's window. Pure over the resolved config and the
// loaded experiments; bench/certify-wall.ts sets each stage's wall time against it.
import type { ResolvedConfig } from '../src/config/load-config.ts';
import type { Stage } from '../src/core/stage.ts';
import type { Experiment } from '../src/faults/experiment.ts';

/** Kinds of configured time: a `window` the run waits in full; a `bound` it may wait at most (not summed). */
export const WINDOW_KINDS = ['window', 'bound'] as const;
export type WindowKind = (typeof WINDOW_KINDS)[number];

/** One configured time of a stage, with the config key it comes from. */
export interface ConfiguredWindow {
  readonly stage: Stage;
  readonly kind: WindowKind;
  readonly label: string;
  readonly ms: number;
}

type WindowConfig = Pick<ResolvedConfig, 'stages' | 'security' | 'load' | 'recovery'>;

const sec = (s: number): number => s * 1000;
/** An expectation samples 3 times (1 for a function) spaced by 200 ms unless it says otherwise. */
const DEFAULT_SAMPLES = { fn: 1, other: 3 } as const;
const DEFAULT_INTERVAL_MS = 200;
/** Each load phase behind an experiment lasts at least this (experiment `load.minPhaseSec`). */
const DEFAULT_MIN_PHASE_SEC = 5;

function loadWindows(load: NonNullable<WindowConfig['load']>): ConfiguredWindow[] {
  const out: ConfiguredWindow[] = [];
  for (const scenario of load.scenarios) {
    const parts = scenario.phases
      ? scenario.phases.map((p) => ({ label: `${p.name} ${p.durationSec.toString()} s`, s: p.durationSec }))
      : scenario.stages
        ? scenario.stages.map((st) => ({ label: `ramp ${st.durationSec.toString()} s`, s: st.durationSec }))
        : [{ label: `${(scenario.durationSec ?? 0).toString()} s`, s: scenario.durationSec ?? 0 }];
    out.push({
      stage: 'load',
      kind: 'window',
      label: `load.scenarios.${scenario.id}: ${parts.map((p) => p.label).join(' + ')}`,
      ms: sec(parts.reduce((n, p) => n + p.s, 0)),
    });
    // The quiet after the load is waited only when retained memory is judged.
    if (Object.keys(scenario.maxRetainedMemoryMb).length > 0)
      out.push({
        stage: 'load',
        kind: 'window',
        label: `load.scenarios.${scenario.id}.settleSec`,
        ms: sec(scenario.settleSec),
      });
  }
  if (load.knee)
    out.push({ stage: 'load', kind: 'window', label: 'load.knee.durationSec', ms: sec(load.knee.durationSec) });
  return out;
}

function experimentWindows(experiment: Experiment): ConfiguredWindow[] {
  const at = `experiment ${experiment.id}`;
  // Sampled expectations wait between samples; `withinMs` ones poll until they hold (a bound).
  const spacingMs = experiment.during
    .filter((e) => e.withinMs === undefined)
    .reduce((n, e) => {
      const samples = e.samples ?? (e.kind === 'fn' ? DEFAULT_SAMPLES.fn : DEFAULT_SAMPLES.other);
      return n + (samples - 1) * (e.intervalMs ?? DEFAULT_INTERVAL_MS);
    }, 0);
  const eventual = experiment.during.filter((e) => e.withinMs !== undefined);
  const minPhaseMs = experiment.load ? sec(experiment.load.minPhaseSec ?? DEFAULT_MIN_PHASE_SEC) : 0;
  const out: ConfiguredWindow[] = [];
  if (experiment.load)
    out.push({ stage: 'chaos', kind: 'window', label: `${at}: load baseline phase (minPhaseSec)`, ms: minPhaseMs });
  // An experiment whose expectations are single samples or eventual ones has no fixed fault window.
  const faultMs = Math.max(spacingMs, minPhaseMs);
  if (faultMs > 0)
    out.push({
      stage: 'chaos',
      kind: 'window',
      label: `${at}: fault window (${experiment.load ? 'load minPhaseSec, ' : ''}sample spacing of during)`,
      ms: faultMs,
    });
  for (const e of eventual)
    out.push({ stage: 'chaos', kind: 'bound', label: `${at}: during "${e.name}" withinMs`, ms: e.withinMs ?? 0 });
  if (experiment.load)
    out.push({ stage: 'chaos', kind: 'window', label: `${at}: load recovery phase (minPhaseSec)`, ms: minPhaseMs });
  out.push({ stage: 'chaos', kind: 'bound', label: `${at}: recovery.withinMs`, ms: experiment.recovery.withinMs });
  return out;
}

function recoveryWindows(recovery: NonNullable<WindowConfig['recovery']>): ConfiguredWindow[] {
  const out: ConfiguredWindow[] = [];
  const drills = recovery.drills ?? ['backup-restore', 'crash', 'rolling-restart'];
  if (recovery.backup && drills.includes('backup-restore'))
    out.push({
      stage: 'recovery',
      kind: 'bound',
      label: 'recovery.backup.rtoTargetMs',
      ms: recovery.backup.rtoTargetMs,
    });
  if (recovery.crash && drills.includes('crash')) {
    const c = recovery.crash;
    out.push({
      stage: 'recovery',
      kind: 'window',
      label: `recovery.crash traffic: warmupMs ${c.warmupMs.toString()} + restartDelayMs ${c.restartDelayMs.toString()} + afterMs ${c.afterMs.toString()}`,
      ms: c.warmupMs + c.restartDelayMs + c.afterMs,
    });
    out.push({ stage: 'recovery', kind: 'bound', label: 'recovery.crash.withinMs', ms: c.withinMs });
  }
  if (recovery.rolling && drills.includes('rolling-restart')) {
    const r = recovery.rolling;
    const n = r.replicas.length;
    out.push({
      stage: 'recovery',
      kind: 'window',
      label: `recovery.rolling traffic: warmupMs ${r.warmupMs.toString()} + ${n.toString()} x betweenMs ${r.betweenMs.toString()} + afterMs ${r.afterMs.toString()}`,
      ms: r.warmupMs + n * r.betweenMs + r.afterMs,
    });
    out.push({
      stage: 'recovery',
      kind: 'bound',
      label: `recovery.rolling.withinMs (x ${n.toString()})`,
      ms: n * r.withinMs,
    });
  }
  return out;
}

function securityWindows(security: NonNullable<WindowConfig['security']>): ConfiguredWindow[] {
  const out: ConfiguredWindow[] = [];
  // The recovery check of the rate limit waits for the limit's window to lapse.
  if (security.rateLimit)
    out.push({
      stage: 'security',
      kind: 'window',
      label: 'security.rateLimit.windowMs',
      ms: security.rateLimit.windowMs,
    });
  if (security.zap.enabled)
    out.push({
      stage: 'security',
      kind: 'bound',
      label: 'security.zap.maxScanMinutes',
      ms: security.zap.maxScanMinutes * 60_000,
    });
  return out;
}

/**
 * Every configured window and bound of the config's enabled stages, in stage order. Chaos windows
 * come from the loaded experiments (what `chaos.experimentsDir` holds).
 */
export function configuredWindows(config: WindowConfig, experiments: readonly Experiment[]): ConfiguredWindow[] {
  const byStage: Partial<Record<Stage, () => ConfiguredWindow[]>> = {
    security: () => (config.security ? securityWindows(config.security) : []),
    load: () => (config.load ? loadWindows(config.load) : []),
    chaos: () => experiments.flatMap(experimentWindows),
    recovery: () => (config.recovery ? recoveryWindows(config.recovery) : []),
  };
  return config.stages.flatMap((stage) => byStage[stage]?.() ?? []);
}

/** Milliseconds of configured `window`s of a stage (bounds are not waited in full, so not summed). */
export function windowMsOf(windows: readonly ConfiguredWindow[], stage: Stage): number {
  return windows.filter((w) => w.stage === stage && w.kind === 'window').reduce((n, w) => n + w.ms, 0);
}
