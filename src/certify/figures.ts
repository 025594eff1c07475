import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { CheckResult } from '../core/check-result.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import type { ReadinessConfigOutput } from '../config/schema.ts';

/** How a figure compares with its target: the check passes when `value <op> target`. */
const FIGURE_TARGET_OPS = ['<', '<=', '>='] as const;
export type FigureTargetOp = (typeof FIGURE_TARGET_OPS)[number];

/** One key figure of a run, read from a check's metrics (or from the knee file), with its target when one is configured. */
export const figureSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  label: z.string().min(1),
  value: z.number(),
  unit: z.string(),
  target: z.strictObject({ value: z.number(), op: z.enum(FIGURE_TARGET_OPS) }).optional(),
  /** The check whose metric this is; null for a figure with no check (the knee without a floor). */
  check: z.string().min(1).nullable(),
  stage: z.enum(STAGES),
});
export type Figure = z.infer<typeof figureSchema>;

type Target = NonNullable<Figure['target']>;

interface Slo {
  readonly p95Ms?: number | undefined;
  readonly p99Ms?: number | undefined;
  readonly maxErrorRate?: number | undefined;
}

/** The configured targets figures are measured against (all optional: a figure without one has no target). */
export interface FigureTargets {
  /** Per load scenario: its SLO (`load.slo` with the scenario's own), and each phase's own SLO. */
  readonly loadSlo?: Readonly<
    Record<string, { readonly slo: Slo; readonly phases: Readonly<Record<string, Slo | undefined>> }>
  >;
  /** Per load scenario: the phases the config marks `fault: true`. */
  readonly loadFaultPhases?: Readonly<Record<string, readonly string[]>>;
  /** `load.knee.floorRatePerSec`. */
  readonly kneeFloorRatePerSec?: number;
  /** Per load scenario, per service (as in the check id): `maxRetainedMemoryMb`. */
  readonly retainedMemoryMb?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Per service: its health check's `timeoutMs` (the startup budget). */
  readonly startupMs?: Readonly<Record<string, number>>;
  /** `recovery.backup.rtoTargetMs` (the RTO check also records it as `rto_target_ms`). */
  readonly rtoMs?: number;
  /** `recovery.crash.withinMs`. */
  readonly crashRecoveryMs?: number;
  /** `recovery.rolling.maxFailedRequests`. */
  readonly rollingMaxFailedRequests?: number;
}

const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9._:-]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** The targets the config sets for the figures. */
export function figureTargetsFromConfig(
  config: Pick<ReadinessConfigOutput, 'services' | 'load' | 'recovery'>,
): FigureTargets {
  const startupMs = Object.fromEntries(
    Object.entries(config.services).flatMap(([id, service]) =>
      service.health ? [[id, service.health.timeoutMs] as const] : [],
    ),
  );
  const { load, recovery } = config;
  return {
    startupMs,
    ...(load
      ? {
          loadSlo: Object.fromEntries(
            load.scenarios.map((s) => [
              s.id,
              {
                slo: { ...load.slo, ...s.slo },
                phases: Object.fromEntries((s.phases ?? []).map((p) => [p.name, p.slo])),
              },
            ]),
          ),
          retainedMemoryMb: Object.fromEntries(
            load.scenarios.map((s) => [
              s.id,
              Object.fromEntries(Object.entries(s.maxRetainedMemoryMb).map(([service, mb]) => [slug(service), mb])),
            ]),
          ),
          loadFaultPhases: Object.fromEntries(
            load.scenarios.map((s) => [s.id, (s.phases ?? []).filter((p) => p.fault).map((p) => p.name)]),
          ),
          ...(load.knee?.floorRatePerSec === undefined ? {} : { kneeFloorRatePerSec: load.knee.floorRatePerSec }),
        }
      : {}),
    ...(recovery?.backup ? { rtoMs: recovery.backup.rtoTargetMs } : {}),
    ...(recovery?.crash ? { crashRecoveryMs: recovery.crash.withinMs } : {}),
    ...(recovery?.rolling ? { rollingMaxFailedRequests: recovery.rolling.maxFailedRequests } : {}),
  };
}

/** Where the load stage writes the knee's figures, relative to the run folder. */
export const KNEE_FILE = join('load', 'knee.json');

/** The fields of `<run>/load/knee.json` the figures read (the load stage writes the whole file). */
const kneeFileSchema = z.object({
  schemaVersion: z.literal(1),
  status: z.enum(['measured', 'no-requests', 'broken']),
  kneeRatePerSec: z.number().optional(),
  floorRatePerSec: z.number().optional(),
});
export type KneeFile = z.infer<typeof kneeFileSchema>;

/** Reads `<run>/load/knee.json`: undefined when the run has none; `problem` when it is unreadable. */
export async function readKneeFile(file: string): Promise<{ knee?: KneeFile; problem?: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { problem: `${file}: ${error instanceof Error ? error.message : String(error)}` };
  }
  try {
    const parsed = kneeFileSchema.safeParse(JSON.parse(text));
    if (parsed.success) return { knee: parsed.data };
    return { problem: `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  } catch (error) {
    return { problem: `${file}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * How a family of figures is read: `each` gives one figure per matching check (its id ends with the
 * pattern's first group); `max` the worst (highest) value over the matches; `median` their lower median
 * (an observed value, so it names the check it came from); `single` the one matching check.
 */
type FigureAggregation = 'each' | 'max' | 'median' | 'single';

interface Match {
  readonly check: CheckResult;
  readonly value: number;
  readonly unit: string;
  /** The pattern's groups (e.g. the service of a startup check). */
  readonly groups: readonly string[];
}

interface FigureSource {
  readonly id: string;
  readonly label: string;
  readonly stage: Stage;
  /** Check ids that feed it (anchored). */
  readonly checks: RegExp;
  readonly metric: string;
  readonly aggregate: FigureAggregation;
  readonly target?: (targets: FigureTargets, match: Match) => Target | undefined;
}

const atMost = (value: number | undefined, op: FigureTargetOp = '<='): Target | undefined =>
  value === undefined ? undefined : { value, op };

/** The id prefix of the startup figures, one per service (`boot.startup.<service>`). */
export const STARTUP_FIGURE = 'boot.startup';

/** Which metric of which checks feeds which figure, and how it is aggregated. */
const FIGURE_SOURCES: readonly FigureSource[] = [
  {
    id: STARTUP_FIGURE,
    label: 'Startup',
    stage: 'boot',
    checks: /^boot\.healthy\.(.+)$/,
    metric: 'startup_ms',
    aggregate: 'each',
    target: (t, m) => atMost(t.startupMs?.[m.groups[0] ?? '']),
  },
  {
    id: 'load.memory-retained',
    label: 'Memory retained after soak',
    stage: 'load',
    checks: /^load\.([a-z0-9-]+)\.memory-retained\.(.+)$/,
    metric: 'memory_retained_mb',
    aggregate: 'each',
    target: (t, m) => atMost(t.retainedMemoryMb?.[m.groups[0] ?? '']?.[m.groups[1] ?? ''], '<'),
  },
  {
    id: 'chaos.time-to-detect.worst',
    label: 'Time to detect, worst',
    stage: 'chaos',
    checks: /^chaos\.[a-z0-9-]+\.fault-effect$/,
    metric: 'time_to_detect_ms',
    aggregate: 'max',
  },
  {
    id: 'chaos.time-to-detect.median',
    label: 'Time to detect, median',
    stage: 'chaos',
    checks: /^chaos\.[a-z0-9-]+\.fault-effect$/,
    metric: 'time_to_detect_ms',
    aggregate: 'median',
  },
  {
    id: 'chaos.time-to-recover.worst',
    label: 'Time to recover, worst',
    stage: 'chaos',
    checks: /^chaos\.[a-z0-9-]+\.recovery$/,
    metric: 'time_to_recover_ms',
    aggregate: 'max',
  },
  {
    id: 'chaos.time-to-recover.median',
    label: 'Time to recover, median',
    stage: 'chaos',
    checks: /^chaos\.[a-z0-9-]+\.recovery$/,
    metric: 'time_to_recover_ms',
    aggregate: 'median',
  },
  {
    id: 'recovery.rto',
    label: 'RTO',
    stage: 'recovery',
    checks: /^recovery\.backup\.rto$/,
    metric: 'rto_ms',
    aggregate: 'single',
    // The check records the target it was judged on; the config's is the fallback.
    target: (t, m) => atMost(m.check.metrics.find((x) => x.name === 'rto_target_ms')?.value ?? t.rtoMs),
  },
  {
    id: 'recovery.rpo.window',
    label: 'RPO window',
    stage: 'recovery',
    checks: /^recovery\.backup\.rpo$/,
    metric: 'rpo_window_ms',
    aggregate: 'single',
  },
  {
    id: 'recovery.rpo.lost-writes',
    label: 'RPO: writes lost after backup',
    stage: 'recovery',
    checks: /^recovery\.backup\.rpo$/,
    metric: 'rpo_lost_writes',
    aggregate: 'single',
  },
  {
    id: 'recovery.crash.recovery',
    label: 'Crash recovery',
    stage: 'recovery',
    checks: /^recovery\.crash\.back$/,
    metric: 'crash_recovery_ms',
    aggregate: 'single',
    target: (t) => atMost(t.crashRecoveryMs),
  },
  {
    id: 'recovery.rolling.failed-requests',
    label: 'Rolling restart: failed requests',
    stage: 'recovery',
    checks: /^recovery\.rolling\.zero-downtime$/,
    metric: 'rolling_failed_requests',
    aggregate: 'single',
    target: (t) => atMost(t.rollingMaxFailedRequests),
  },
];

function matchesOf(checks: readonly CheckResult[], source: FigureSource): Match[] {
  return checks.flatMap((check) => {
    const found = source.checks.exec(check.id);
    const metric = check.metrics.find((m) => m.name === source.metric);
    if (!found || !metric || !Number.isFinite(metric.value)) return [];
    return [{ check, value: metric.value, unit: metric.unit, groups: found.slice(1) }];
  });
}

function figureOf(source: FigureSource, match: Match, targets: FigureTargets, id = source.id, label = source.label) {
  const target = source.target?.(targets, match);
  return {
    id,
    label,
    value: match.value,
    unit: match.unit,
    ...(target ? { target } : {}),
    check: match.check.id,
    stage: source.stage,
  } satisfies Figure;
}

/** The figures of one table row; none when no check carries its metric (never a 0). */
function sourceFigures(source: FigureSource, checks: readonly CheckResult[], targets: FigureTargets): Figure[] {
  const matches = matchesOf(checks, source);
  if (matches.length === 0) return [];
  switch (source.aggregate) {
    case 'each':
      return matches.map((m) => {
        const suffix = m.groups.length > 0 ? m.groups : [m.check.id];
        return figureOf(
          source,
          m,
          targets,
          `${source.id}.${suffix.join('.')}`,
          `${source.label}: ${suffix.join(', ')}`,
        );
      });
    case 'max': {
      const worst = matches.reduce((a, b) => (b.value > a.value ? b : a));
      return [figureOf(source, worst, targets)];
    }
    case 'median': {
      const sorted = [...matches].sort((a, b) => a.value - b.value);
      const median = sorted[Math.floor((sorted.length - 1) / 2)];
      return median ? [figureOf(source, median, targets)] : [];
    }
    case 'single':
      return matches[0] ? [figureOf(source, matches[0], targets)] : [];
  }
}

/**
 * Only a judged check (passed or failed) gives a figure: a broken one measured a harness that failed (a
 * generator short of the asked rate), an unknown one too little to judge.
 */
const isJudged = (check: CheckResult): boolean => check.status === 'passed' || check.status === 'failed';

/** The load threshold checks of a scenario: `load.<scenario>.<metric>[.<tag>-<value>].<aggregation>`. */
const THRESHOLD_CHECK =
  /^load\.([a-z0-9-]+)\.(http_req_duration|http_req_failed|http_reqs|checks)((?:\.[^.]+)*)\.[^.]+$/;

const metricValue = (check: CheckResult, name: string): number | undefined =>
  check.metrics.find((m) => m.name === name)?.value;

/**
 * p95, p99 and error rate at the baseline rate: the config's first load scenario (the stage runs them in
 * config order, so without the config the first that recorded a threshold), on the broadest of its
 * thresholds' selectors (the most requests).
 */
function baselineFigures(checks: readonly CheckResult[], targets: FigureTargets): Figure[] {
  const thresholds = checks
    .map((check) => ({ check, found: THRESHOLD_CHECK.exec(check.id) }))
    .filter((t) => t.found !== null);
  // The config's first scenario; without the config, the scenario of the first threshold recorded.
  const scenario =
    Object.keys(targets.loadSlo ?? {})[0] ??
    [...thresholds].sort((a, b) => a.check.startedAt - b.check.startedAt)[0]?.found?.[1];
  if (scenario === undefined) return [];
  // A scenario whose k6 run broke has thresholds without figures: then no baseline figure, not another scenario's.
  const ofScenario = thresholds.filter(
    (t) => t.found?.[1] === scenario && isJudged(t.check) && metricValue(t.check, 'requests') !== undefined,
  );
  const slo = targets.loadSlo?.[scenario];
  const figures: Figure[] = [];
  const rows = [
    {
      id: 'load.baseline.p95',
      label: 'p95 at baseline rate',
      metric: 'p95_ms',
      sloKey: 'p95Ms',
      k6: 'http_req_duration',
      agg: '.p95',
    },
    {
      id: 'load.baseline.p99',
      label: 'p99 at baseline rate',
      metric: 'p99_ms',
      sloKey: 'p99Ms',
      k6: 'http_req_duration',
      agg: '.p99',
    },
    {
      id: 'load.baseline.error-rate',
      label: 'Error rate at baseline rate',
      metric: 'error_rate',
      sloKey: 'maxErrorRate',
      k6: 'http_req_failed',
      agg: '.rate',
    },
  ] as const;
  for (const row of rows) {
    const broadest = ofScenario
      .filter((t) => metricValue(t.check, row.metric) !== undefined)
      .sort(
        (a, b) =>
          (metricValue(b.check, 'requests') ?? 0) - (metricValue(a.check, 'requests') ?? 0) ||
          // Equal selectors: the threshold on the figure's own k6 metric names it.
          Number(b.found?.[2] === row.k6) - Number(a.found?.[2] === row.k6) ||
          Number(b.check.id.endsWith(row.agg)) - Number(a.check.id.endsWith(row.agg)) ||
          a.check.id.localeCompare(b.check.id),
      )[0];
    const metric = broadest?.check.metrics.find((m) => m.name === row.metric);
    if (!broadest || !metric) continue;
    // A phase with its own SLO replaces the scenario's for the requests of that phase.
    const phase = /\.phase-([a-z0-9-]+)(?:\.|$)/.exec(broadest.found?.[3] ?? '')?.[1];
    const phaseSlo = phase === undefined ? undefined : slo?.phases[phase];
    const limit = (phaseSlo ?? slo?.slo)?.[row.sloKey];
    figures.push({
      id: row.id,
      label: `${row.label} (${scenario})`,
      value: metric.value,
      unit: metric.unit,
      ...(limit === undefined ? {} : { target: { value: limit, op: '<' } }),
      check: broadest.check.id,
      stage: 'load',
    });
  }
  return figures;
}

/**
 * The worst p95 under fault: the fault phase of every chaos experiment's load (`fault_p95_ms`, on each of
 * its load checks) and the phases the config marks `fault: true` of each load scenario (`<phase>_p95_ms`).
 */
function faultP95Figure(checks: readonly CheckResult[], targets: FigureTargets): Figure[] {
  const candidates = checks.flatMap((check) => {
    const chaos = /^chaos\.[a-z0-9-]+\.load\.[a-z]+$/.test(check.id);
    const scenario = /^load\.([a-z0-9-]+)\./.exec(check.id)?.[1];
    const phases = chaos ? ['fault'] : scenario === undefined ? [] : (targets.loadFaultPhases?.[scenario] ?? []);
    return phases.flatMap((phase) => {
      const metric = check.metrics.find((m) => m.name === `${phase}_p95_ms`);
      return metric ? [{ check, metric }] : [];
    });
  });
  // The same figure is on every load check of an experiment: name the fault phase's own check.
  const own = (id: string): number => Number(id.endsWith('.load.fault'));
  const worst = candidates.reduce<(typeof candidates)[number] | undefined>(
    (a, b) =>
      a === undefined ||
      b.metric.value > a.metric.value ||
      (b.metric.value === a.metric.value && own(b.check.id) > own(a.check.id))
        ? b
        : a,
    undefined,
  );
  if (!worst) return [];
  return [
    {
      id: 'fault.p95.worst',
      label: 'Worst p95 under fault',
      value: worst.metric.value,
      unit: worst.metric.unit,
      check: worst.check.id,
      stage: worst.check.stage,
    },
  ];
}

/** The capacity knee: the `load.knee` check's `knee_rps` when the knee has a floor, else `knee.json`'s figure. */
function kneeFigure(checks: readonly CheckResult[], knee: KneeFile | undefined, targets: FigureTargets): Figure[] {
  const check = checks.find((c) => c.id === 'load.knee');
  const fromCheck = check ? metricValue(check, 'knee_rps') : undefined;
  const value = fromCheck ?? (knee?.status === 'measured' ? knee.kneeRatePerSec : undefined);
  if (value === undefined) return [];
  const floor = targets.kneeFloorRatePerSec ?? knee?.floorRatePerSec;
  return [
    {
      id: 'load.knee',
      label: 'Capacity knee',
      value,
      unit: 'req/s',
      ...(floor === undefined ? {} : { target: { value: floor, op: '>=' } }),
      check: fromCheck === undefined ? null : 'load.knee',
      stage: 'load',
    },
  ];
}

interface FigureInputs {
  readonly checks: readonly CheckResult[];
  /** `<run>/load/knee.json`, when the run has one. */
  readonly knee?: KneeFile | undefined;
  readonly targets?: FigureTargets | undefined;
}

/** The key figures of a run, in stage order; a figure no judged check measured is absent (never 0). Pure. */
export function keyFigures({ checks, knee, targets = {} }: FigureInputs): Figure[] {
  const judged = checks.filter(isJudged);
  const figures = [
    ...kneeFigure(judged, knee, targets),
    ...baselineFigures(checks, targets),
    ...faultP95Figure(judged, targets),
    ...FIGURE_SOURCES.flatMap((source) => sourceFigures(source, judged, targets)),
  ];
  return STAGES.flatMap((stage) => figures.filter((f) => f.stage === stage));
}

/** Whether a figure meets its target; undefined when it has none. */
export function meetsTarget(figure: Pick<Figure, 'value' | 'target'>): boolean | undefined {
  const { target } = figure;
  if (!target) return undefined;
  switch (target.op) {
    case '<':
      return figure.value < target.value;
    case '<=':
      return figure.value <= target.value;
    case '>=':
      return figure.value >= target.value;
  }
}
