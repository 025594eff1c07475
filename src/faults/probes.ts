import { ReadinessError } from '../core/errors.ts';
import { assertNever } from '../core/stage.ts';
import type { ChaosApi, HttpExpect, Probe, ProbeOutcome } from './experiment.ts';
import type { HttpOutcome } from '../runner/http.ts';
import { getPath, renderString } from '../runner/templates.ts';

/** A check-id-safe slug of a probe name. */
export function slug(name: string): string {
  const full = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  // Cut long names at a word boundary, never in the middle of a word.
  const cut = full.length > 64 ? full.slice(0, 65).replace(/-[^-]*$/, '') : full;
  return cut || 'probe';
}

const statusOk = (expect: HttpExpect, status: number): boolean => {
  const want = expect.status ?? '2xx';
  if (want === 'any') return status !== 0;
  if (want === '2xx') return status >= 200 && status < 300;
  if (typeof want === 'number') return status === want;
  return want.includes(status);
};

/** Judges one HTTP answer against an expectation; pure, for tests. */
export function judgeHttp(expect: HttpExpect, outcome: HttpOutcome): ProbeOutcome {
  const latency = Math.round(outcome.latencyMs);
  const seen =
    outcome.status === 0
      ? `no answer (${outcome.error ?? 'unknown'}) after ${latency}ms`
      : `${outcome.status} in ${latency}ms`;
  const problems: string[] = [];
  if (!statusOk(expect, outcome.status))
    problems.push(
      `status ${outcome.status === 0 ? 'none' : outcome.status}, expected ${JSON.stringify(expect.status ?? '2xx')}`,
    );
  if (expect.maxLatencyMs !== undefined && outcome.latencyMs > expect.maxLatencyMs)
    problems.push(`took ${latency}ms > ${expect.maxLatencyMs}ms`);
  if (expect.minLatencyMs !== undefined && outcome.latencyMs < expect.minLatencyMs)
    problems.push(`took ${latency}ms < ${expect.minLatencyMs}ms`);
  for (const [path, want] of Object.entries(expect.json ?? {})) {
    const got = getPath(outcome.json, path);
    const ok =
      want !== null && typeof want === 'object' && 'oneOf' in want && Array.isArray(want.oneOf)
        ? want.oneOf.some((w) => JSON.stringify(w) === JSON.stringify(got))
        : JSON.stringify(want) === JSON.stringify(got);
    if (!ok)
      problems.push(
        `${path} = ${got === undefined ? 'absent' : JSON.stringify(got)}, expected ${JSON.stringify(want)}`,
      );
  }
  const body = outcome.body ? ` body ${outcome.body.replace(/\s+/g, ' ').slice(0, 160)}` : '';
  return problems.length === 0
    ? { ok: true, detail: seen }
    : { ok: false, detail: `${seen}: ${problems.join('; ')}${body}` };
}

const compare = (op: '==' | '>=' | '<=' | '>' | '<', a: number, b: number): boolean => {
  switch (op) {
    case '==':
      return a === b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    default:
      return assertNever(op, 'operator');
  }
};

type MetricProbe = Extract<Probe, { kind: 'metric' }>;

const seriesOf = (probe: MetricProbe): string => `${probe.metric}${probe.labels ? JSON.stringify(probe.labels) : ''}`;

/** A key for a metric probe's series, for its baseline at injection time. */
export function metricKey(probe: MetricProbe): string {
  return JSON.stringify([probe.service ?? '', probe.port ?? 0, probe.metric, probe.labels ?? {}]);
}

/** A `sinceFault` metric probe with no value read at injection: its check is broken, never judged from 0. */
export class MissingBaselineError extends ReadinessError {
  constructor(series: string) {
    super(
      'METRIC_BASELINE_MISSING',
      `${series}: its value at injection could not be read, so the rise since the fault cannot be measured`,
    );
  }
}

/** The metric values `sinceFault` probes count from, read right before the injection. */
export interface MetricBaselines {
  readonly values: ReadonlyMap<string, number>;
  /** A read that failed (no answer, not 200, unparsable): the experiment has no baseline for that series. */
  readonly problems: readonly string[];
  readonly lines: readonly string[];
}

/**
 * Reads the baseline of every `sinceFault` metric probe. A series the service does not export yet
 * counts from 0 (a Prometheus counter appears on its first increment); a read that fails is a
 * problem, never a baseline of 0.
 */
export async function readMetricBaselines(
  probes: readonly Probe[],
  metric: (...args: Parameters<ChaosApi['metric']>) => ReturnType<ChaosApi['metric']>,
): Promise<MetricBaselines> {
  const values = new Map<string, number>();
  const problems: string[] = [];
  const lines: string[] = [];
  for (const probe of probes) {
    if (probe.kind !== 'metric' || !probe.expect.sinceFault || values.has(metricKey(probe))) continue;
    const from = {
      ...(probe.service === undefined ? {} : { service: probe.service }),
      ...(probe.port === undefined ? {} : { port: probe.port }),
    };
    try {
      const value = await metric(probe.metric, probe.labels, from);
      values.set(metricKey(probe), value ?? 0);
      lines.push(
        `${seriesOf(probe)} = ${value === undefined ? 'not exported yet, counted from 0' : value} before the fault`,
      );
    } catch (error) {
      problems.push(`${seriesOf(probe)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { values, problems, lines };
}

/** Runs a probe once. `baselines` holds metric values at injection time for `sinceFault` probes. */
export async function runProbe(
  probe: Probe,
  api: ChaosApi,
  baselines: ReadonlyMap<string, number>,
): Promise<ProbeOutcome> {
  switch (probe.kind) {
    case 'http': {
      const { headers } = probe.request;
      const outcome = await api.request(
        headers === undefined
          ? probe.request
          : {
              ...probe.request,
              headers: Object.fromEntries(
                Object.entries(headers).map(([name, value]) => [name, renderString(value, {}, () => api.random())]),
              ),
            },
      );
      const verdict = judgeHttp(probe.expect, outcome);
      return { ...verdict, detail: `${probe.request.method ?? 'GET'} ${probe.request.path} -> ${verdict.detail}` };
    }
    case 'metric': {
      const value = await api.metric(probe.metric, probe.labels, {
        ...(probe.service === undefined ? {} : { service: probe.service }),
        ...(probe.port === undefined ? {} : { port: probe.port }),
      });
      const series = seriesOf(probe);
      const base = probe.expect.sinceFault ? baselines.get(metricKey(probe)) : 0;
      if (base === undefined) throw new MissingBaselineError(series);
      if (value === undefined) return { ok: false, detail: `${series} is not exported` };
      const observed = value - base;
      const what = probe.expect.sinceFault ? `${series} rose by ${observed} since the fault` : `${series} = ${value}`;
      return {
        ok: compare(probe.expect.op, observed, probe.expect.value),
        detail: `${what} (expected ${probe.expect.op} ${probe.expect.value})`,
      };
    }
    case 'fn':
      return probe.run(api);
    default:
      return assertNever(probe, 'probe');
  }
}
