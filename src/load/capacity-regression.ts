import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import type { LoadConfig } from '../config/stages/load.ts';
import { findCertifiedRun, readRunHeader } from '../runner/baseline-run.ts';
import type { BaselineRun, RunHeader } from '../runner/baseline-run.ts';
import { notApplicableMessage } from '../runner/not-applicable.ts';
import type { CheckOutcome, CheckSpec } from '../runner/suite.ts';
import { saturationReason } from '../runner/host-load.ts';
import type { HostLoad } from '../runner/host-load.ts';
import type { Evidence } from '../core/check-result.ts';
import { parseK6Summary } from './k6-summary.ts';
import type { K6Summary } from './k6-summary.ts';

/** The id of the check that compares this run's capacity with the last CERTIFIED run's. */
export const CAPACITY_REGRESSION_CHECK = 'load.capacity.regression';

/** The figure kinds compared, each with the way that is worse. */
type CapacityFigureKind = 'knee' | 'p95' | 'p99' | 'error-rate';

/** One capacity figure of a run: the knee, or a p95/p99/error rate of a scenario (or of one of its phases). */
interface CapacityFigure {
  /** `knee`, `<scenario>.<kind>` or `<scenario>.<phase>.<kind>` */
  readonly id: string;
  readonly kind: CapacityFigureKind;
  readonly value: number;
}

/** A figure that could not be read, and why. */
interface MissingFigure {
  readonly id: string;
  readonly why: string;
}

type RegressionBand = LoadConfig['regression'];

const kneeFileSchema = z.object({ status: z.string(), kneeRatePerSec: z.number().optional() });

const UNIT: Readonly<Record<CapacityFigureKind, string>> = {
  knee: 'req/s',
  p95: 'ms',
  p99: 'ms',
  'error-rate': '',
};

/**
 * Fewest requests a figure rests on: `load.minSamples` for a p95 and an error rate, five times as many for a
 * p99, so that its tail holds as many samples as a p95's does (on fewer, a p99 is the run's slowest request).
 */
const needed = (kind: CapacityFigureKind, minSamples: number): number => (kind === 'p99' ? minSamples * 5 : minSamples);

/**
 * The capacity figures the config asks for, from k6 summaries and the knee file of one run: per scenario its
 * p95, p99 and error rate (per phase when it has phases; a fault phase its p95 and error rate), and the knee
 * when `load.knee` is set. A figure on too few requests (see `needed`) is missing, not a figure. Pure.
 */
function capacityFigures(
  load: Pick<LoadConfig, 'scenarios' | 'knee' | 'minSamples'>,
  summaries: Readonly<Record<string, K6Summary | undefined>>,
  knee: { readonly status: string; readonly kneeRatePerSec?: number | undefined } | undefined,
): { figures: CapacityFigure[]; missing: MissingFigure[] } {
  const figures: CapacityFigure[] = [];
  const missing: MissingFigure[] = [];
  if (load.knee) {
    if (knee?.status === 'measured' && knee.kneeRatePerSec !== undefined)
      figures.push({ id: 'knee', kind: 'knee', value: knee.kneeRatePerSec });
    else missing.push({ id: 'knee', why: knee ? `knee probe ${knee.status}` : 'no knee.json' });
  }
  for (const scenario of load.scenarios) {
    const summary = summaries[scenario.id];
    const groups = scenario.phases
      ? scenario.phases.map((p) => ({
          prefix: `${scenario.id}.${p.name}`,
          filter: `{phase:${p.name}}`,
          fault: p.fault,
        }))
      : [{ prefix: scenario.id, filter: `{scenario:${scenario.id}}`, fault: false }];
    for (const group of groups) {
      const kinds: CapacityFigureKind[] = group.fault ? ['p95', 'error-rate'] : ['p95', 'p99', 'error-rate'];
      if (!summary) {
        for (const kind of kinds) missing.push({ id: `${group.prefix}.${kind}`, why: 'no k6 summary' });
        continue;
      }
      const duration = summary.metrics[`http_req_duration${group.filter}`];
      const failed = summary.metrics[`http_req_failed${group.filter}`];
      const requests = summary.metrics[`http_reqs${group.filter}`]?.count;
      for (const kind of kinds) {
        const id = `${group.prefix}.${kind}`;
        const value =
          kind === 'error-rate' ? failed?.value : kind === 'p95' ? duration?.['p(95)'] : duration?.['p(99)'];
        if (value === undefined || !Number.isFinite(value)) {
          missing.push({
            id,
            why: `k6 summary has no ${kind === 'error-rate' ? 'http_req_failed' : 'http_req_duration'}${group.filter}`,
          });
        } else if (requests === undefined || requests < needed(kind, load.minSamples)) {
          missing.push({
            id,
            why:
              requests === undefined
                ? `k6 summary has no http_reqs${group.filter}`
                : `only ${requests} requests (${kind} needs ${needed(kind, load.minSamples)})`,
          });
        } else {
          figures.push({ id, kind, value });
        }
      }
    }
  }
  return { figures, missing };
}

/** Reads the capacity figures of a run's load folder (`<scenario>.summary.json`, `knee.json`). */
export async function readCapacityFigures(
  load: Pick<LoadConfig, 'scenarios' | 'knee' | 'minSamples'>,
  loadDir: string,
): Promise<{ figures: CapacityFigure[]; missing: MissingFigure[] }> {
  const readJson = async (file: string): Promise<unknown> => {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as unknown;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  const summaries: Record<string, K6Summary | undefined> = {};
  for (const scenario of load.scenarios) {
    const json = await readJson(join(loadDir, `${scenario.id}.summary.json`));
    summaries[scenario.id] = json === undefined ? undefined : parseK6Summary(json);
  }
  const kneeJson = load.knee ? await readJson(join(loadDir, 'knee.json')) : undefined;
  return capacityFigures(load, summaries, kneeJson === undefined ? undefined : kneeFileSchema.parse(kneeJson));
}

/** One compared figure: its values in the baseline and now, the limit the band allows, and whether it regressed. */
interface FigureComparison {
  readonly id: string;
  readonly kind: CapacityFigureKind;
  readonly before: number;
  readonly after: number;
  /** The worst value the band allows (a floor for the knee, a ceiling otherwise). */
  readonly limit: number;
  readonly band: string;
  readonly regressed: boolean;
}

const round = (n: number): number => Math.round(n * 1000) / 1000;
const pct = (r: number): string => `${round(r * 100)}%`;

/** Compares one figure with its baseline value under the band. Pure. */
export function compareFigure(before: CapacityFigure, after: CapacityFigure, band: RegressionBand): FigureComparison {
  const base = { id: after.id, kind: after.kind, before: before.value, after: after.value };
  switch (after.kind) {
    case 'knee': {
      const limit = round(before.value * (1 - band.kneeDrop));
      return { ...base, limit, band: `a drop of at most ${pct(band.kneeDrop)}`, regressed: after.value < limit };
    }
    case 'p95':
    case 'p99': {
      const rise = after.kind === 'p95' ? band.p95Rise : band.p99Rise;
      const limit = round(Math.max(before.value * (1 + rise), before.value + band.absoluteFloorMs));
      return {
        ...base,
        limit,
        band: `a rise of at most ${pct(rise)} or ${band.absoluteFloorMs} ms, whichever is more`,
        regressed: after.value > limit,
      };
    }
    case 'error-rate': {
      const limit = round(before.value + band.errorRateRise);
      return {
        ...base,
        limit,
        band: `a rise of at most ${band.errorRateRise} (absolute)`,
        regressed: after.value > limit,
      };
    }
  }
}

const show = (kind: CapacityFigureKind, value: number): string =>
  `${round(value)}${UNIT[kind] === '' ? '' : ` ${UNIT[kind]}`}`;

const line = (c: FigureComparison): string =>
  `${c.id}: ${show(c.kind, c.after)} now, ${show(c.kind, c.before)} in the baseline (band: ${c.band}; limit ${show(c.kind, c.limit)})`;

/**
 * The host's load over the k6 run that measured each figure: the knee probe's (`knee`) and each
 * scenario's (by id), with the thresholds that make a window saturated (config `hostSaturation`).
 */
interface FigureWindows {
  readonly byRun: ReadonlyMap<string, HostLoad | undefined>;
  readonly thresholds: Parameters<typeof saturationReason>[1];
}

/** The k6 run a figure comes from: the knee probe, or the scenario its id starts with. */
const runOf = (figureId: string): string => (figureId === 'knee' ? 'knee' : (figureId.split('.')[0] ?? figureId));

/** Why the run that measured a figure was saturated; undefined when it was calm (and measured). */
function saturatedWindow(windows: FigureWindows, figureId: string): string | undefined {
  const load = windows.byRun.get(runOf(figureId));
  if (!load) return 'the host load of its run was not measured';
  return saturationReason(load, windows.thresholds);
}

interface RegressionInputs {
  readonly configName: string;
  readonly band: RegressionBand;
  /** When given, a figure that regressed during a calm run is the system's even if another run saturated the host. */
  readonly windows?: FigureWindows | undefined;
  readonly current: { readonly figures: readonly CapacityFigure[]; readonly missing: readonly MissingFigure[] };
  /** Undefined when there is no earlier CERTIFIED run of the config. */
  readonly baseline:
    | {
        readonly runId: string;
        readonly figures: readonly CapacityFigure[];
        readonly missing: readonly MissingFigure[];
      }
    | undefined;
}

/**
 * `load.capacity.regression`: every capacity figure of this run against the same figure of the last CERTIFIED
 * run of the config. Any beyond its band fails (with both values and the band); no baseline, or a baseline
 * with none of this run's figures, is not applicable with the reason; this run measuring none is unknown. Pure.
 */
function judgeCapacityRegression({ configName, band, current, baseline, windows }: RegressionInputs): CheckOutcome {
  if (!baseline)
    return {
      status: 'not-applicable',
      message: notApplicableMessage(`no earlier CERTIFIED run of ${configName}: this run's figures are the baseline`),
    };
  const before = new Map(baseline.figures.map((f) => [f.id, f]));
  const compared = current.figures.flatMap((f) => {
    const earlier = before.get(f.id);
    return earlier ? [compareFigure(earlier, f, band)] : [];
  });
  const notInBaseline = current.figures
    .filter((f) => !before.has(f.id))
    .map((f) => `${f.id} (${baseline.missing.find((m) => m.id === f.id)?.why ?? 'not configured then'})`);
  const notNow = current.missing.map((m) => `${m.id} (${m.why})`);
  const table = [
    'figure,baseline,now,limit,band,regressed',
    ...compared.map((c) => `${c.id},${c.before},${c.after},${c.limit},"${c.band}",${c.regressed}`),
  ].join('\n');
  const evidence: Evidence[] = [{ name: 'capacity vs baseline', contentType: 'text/csv', content: table }];
  const parameters = { baseline: baseline.runId };
  const metrics = compared.flatMap((c) => [
    { name: c.id, value: c.after, unit: UNIT[c.kind] || 'ratio' },
    { name: `baseline.${c.id}`, value: c.before, unit: UNIT[c.kind] || 'ratio' },
  ]);
  if (compared.length === 0) {
    if (current.figures.length === 0)
      return {
        status: 'unknown',
        message: `this run measured no capacity figure to compare with ${baseline.runId}: ${notNow.join('; ') || 'none configured'}`,
        parameters,
      };
    return {
      status: 'not-applicable',
      message: notApplicableMessage(
        `the baseline run ${baseline.runId} has no figure comparable with this run's: ${notInBaseline.join('; ')}`,
      ),
      parameters,
    };
  }
  const regressed = compared.filter((c) => c.regressed);
  const uncompared = [
    ...(notInBaseline.length > 0 ? [`not in the baseline: ${notInBaseline.join('; ')}`] : []),
    ...(notNow.length > 0 ? [`not measured now: ${notNow.join('; ')}`] : []),
  ];
  const tail = uncompared.length > 0 ? `\n${uncompared.join('\n')}` : '';
  if (regressed.length > 0) {
    const since = `since ${baseline.runId}, the last CERTIFIED run of ${configName}`;
    // Figure by figure: a regression measured while the host was calm is the system's, whatever another run saw.
    const calm = windows ? regressed.filter((c) => saturatedWindow(windows, c.id) === undefined) : [];
    if (windows && calm.length > 0) {
      const busy = regressed.filter((c) => !calm.includes(c));
      const busyLines = busy.map((c) => `${line(c)} [${saturatedWindow(windows, c.id) ?? ''}]`);
      return {
        status: 'failed',
        // The host's load was judged per figure here: the check's own saturation rule must not undo it.
        judgesTiming: false,
        message: `${calm.length} of ${compared.length} capacity figures regressed beyond the band ${since}, measured while the host was calm:\n${calm.map(line).join('\n')}${busy.length > 0 ? `\nalso beyond the band, but measured on a saturated host (not judged):\n${busyLines.join('\n')}` : ''}${tail}`,
        metrics,
        evidence,
        parameters,
      };
    }
    return {
      status: 'failed',
      message: `${regressed.length} of ${compared.length} capacity figures regressed beyond the band ${since}:\n${regressed.map(line).join('\n')}${tail}`,
      metrics,
      evidence,
      parameters,
    };
  }
  return {
    status: 'passed',
    message: `${compared.length} capacity figures within the band of ${baseline.runId}, the last CERTIFIED run of ${configName}${tail}`,
    metrics,
    evidence,
    parameters,
  };
}

/**
 * The check spec of `load.capacity.regression` (recorded and planned alike). It judges timing (p95, p99,
 * knee): a regression seen while the host was saturated, during the runs that measured the figures
 * (`measured`) or during the comparison, is the host's (broken), not the system's.
 */
export function capacityRegressionSpec(band: RegressionBand, measured?: HostLoad): CheckSpec {
  return {
    id: CAPACITY_REGRESSION_CHECK,
    judgesTiming: true,
    ...(measured ? { figuresHostLoad: measured } : {}),
    name: `capacity does not regress since the last CERTIFIED run (knee -${pct(band.kneeDrop)}, p95 +${pct(band.p95Rise)}, p99 +${pct(band.p99Rise)}, error rate +${band.errorRateRise})`,
    feature: 'load: capacity',
    severity: 'critical',
    remediation:
      'Compare with the baseline run named in the check: find what made the service slower or smaller (pool sizes, new queries, resource limits); if the change is intended, certify a new baseline',
  };
}

/**
 * Judges this run's load folder against the last CERTIFIED run of the config in the reports folder (the
 * folder holding `runDir`); `skipped` unreadable certification files are named in the message.
 */
export async function capacityRegressionOutcome(
  load: LoadConfig,
  configName: string,
  runDir: string,
  windows?: FigureWindows,
): Promise<CheckOutcome> {
  const current = await readCapacityFigures(load, join(runDir, 'load'));
  const found: BaselineRun<RunHeader> = await findCertifiedRun(
    dirname(runDir),
    { runId: basename(runDir), name: configName },
    readRunHeader,
  );
  const baseline = found.found
    ? { runId: found.cert.runId, ...(await readCapacityFigures(load, join(found.runDir, 'load'))) }
    : undefined;
  const outcome = judgeCapacityRegression({ configName, band: load.regression, current, baseline, windows });
  if (found.skipped.length === 0) return outcome;
  return { ...outcome, message: `${outcome.message ?? ''}\nunreadable runs passed over: ${found.skipped.join('; ')}` };
}
