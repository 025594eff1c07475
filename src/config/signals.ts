import { z } from 'zod';
import type { Stage } from '../core/stage.ts';
import { checkService, checkServicePort } from './stages/refine-context.ts';
import type { RefinementCtx } from './stages/refine-context.ts';

/** Classes of error signal a service's log can show, worst first. */
export const SIGNAL_CLASSES = ['fatal', 'error', 'serverError'] as const;
export type SignalClass = (typeof SIGNAL_CLASSES)[number];

/** One label matcher of a counter selector; a label a series lacks has the value `''`, as in PromQL. */
export interface LabelMatcher {
  readonly label: string;
  /** PromQL's equality and inequality; regular-expression matchers are refused at config load. */
  readonly op: '=' | '!=';
  readonly value: string;
}

/** A Prometheus counter as the config selects it: a metric name and label matchers (`name{label="v",other!="w"}`). */
export interface CounterSelector {
  /** As written in the config (named in messages and metrics). */
  readonly text: string;
  readonly name: string;
  readonly matchers: readonly LabelMatcher[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const MATCHER = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(!~|=~|!=|=)\s*"((?:[^"\\\n]|\\.)*)"\s*(,|$)/y;
const SELECTOR_HINT =
  'write a metric name with optional label matchers, e.g. errors_total{dependency="redis",outcome!="ok"}';

/** Parses `name{label="value",label!="value"}`; returns why when it is not one. */
export function parseCounterSelector(text: string): CounterSelector | string {
  const trimmed = text.trim();
  const name = METRIC_NAME.exec(trimmed)?.[0];
  if (name === undefined) return `does not start with a Prometheus metric name; ${SELECTOR_HINT}`;
  const rest = trimmed.slice(name.length).trim();
  if (rest === '') return { text: trimmed, name, matchers: [] };
  if (!rest.startsWith('{'))
    return `has "${rest}" after the metric name, not label matchers in braces; ${SELECTOR_HINT}`;
  if (!rest.endsWith('}')) return `does not close its label matchers with }; ${SELECTOR_HINT}`;
  const body = rest.slice(1, -1);
  const matchers: LabelMatcher[] = [];
  MATCHER.lastIndex = 0;
  while (MATCHER.lastIndex < body.length && body.slice(MATCHER.lastIndex).trim() !== '') {
    const at = MATCHER.lastIndex;
    const match = MATCHER.exec(body);
    if (!match) return `has a label matcher that does not parse at "${body.slice(at).trim()}"; ${SELECTOR_HINT}`;
    const [, label = '', op = '', value = ''] = match;
    if (op !== '=' && op !== '!=')
      return `uses ${op} on ${label}: regular-expression matchers are not supported; list one selector per value with = or !=`;
    matchers.push({ label, op, value: value.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c)) });
    if (match[4] === '') break;
  }
  return { text: trimmed, name, matchers };
}

const counterSelector = z.string().transform((text, ctx): CounterSelector => {
  const parsed = parseCounterSelector(text);
  if (typeof parsed !== 'string') return parsed;
  ctx.addIssue({ code: 'custom', message: parsed, input: text });
  return z.NEVER;
});

/** Where one service's Prometheus metrics are, and which of its counters count dependency errors. */
const metricsSourceSchema = z.strictObject({
  /** The container port that serves the metrics (scraped through its host-mapped port). */
  port: z.number().int().positive(),
  path: z.string().startsWith('/').default('/metrics'),
  /** Counters whose increase outside fault windows is a dependency error: a fallback taken, a failed call. */
  counters: z
    .array(counterSelector)
    .min(1)
    .refine((list) => new Set(list.map((c) => c.text)).size === list.length, 'lists a counter twice'),
});

/**
 * Stages whose logs can be judged. Not `security`: it sends hostile input on purpose, and what a
 * service does with it (5xx, error bodies, fuzzing findings) is judged by the security checks.
 */
export const SIGNAL_STAGES = ['boot', 'contract', 'load', 'chaos', 'recovery'] as const satisfies readonly Stage[];

/**
 * Stages judged by default. Not chaos and recovery: they are made of faults and drills. Not load: it
 * drives services to their capacity, and on a saturated host a healthy service times out on its own
 * dependencies (measured: a healthy orders logged 177 Postgres pool-timeout errors, 179 answers 503,
 * during a soak whose checks the load stage itself recorded broken for the saturated host); until the
 * load stage marks such phases in the fault journal, judging it would cry wolf.
 */
export const DEFAULT_SIGNAL_STAGES: readonly (typeof SIGNAL_STAGES)[number][] = ['boot', 'contract'];

/**
 * Plain-text lines (a JSON line is judged by its level field instead): upper-case level words as
 * Postgres (`FATAL:`), HAProxy (`[ALERT]`), Python (`CRITICAL`), Java (`SEVERE`) and most loggers
 * write them, and logfmt's `level=`.
 */
const DEFAULT_SIGNAL_PATTERNS = {
  fatal: ['\\b(FATAL|PANIC|EMERG|EMERGENCY|ALERT|CRIT|CRITICAL)\\b', '\\blevel="?(fatal|panic|critical|crit)\\b'],
  error: ['\\b(ERROR|ERR|SEVERE)\\b', '\\blevel="?(error|err)\\b'],
} as const;

/** JSON fields that hold a line's level (pino and bunyan numbers, or words), first present wins. */
const DEFAULT_LEVEL_FIELDS = ['level', 'severity', 'lvl', 'log.level'] as const;

/** JSON fields that hold the HTTP status of an answer a request log line records. */
const DEFAULT_STATUS_FIELDS = ['res.statusCode', 'statusCode', 'status', 'http.response.status_code'] as const;

const regexSource = z.string().refine(
  (source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not a valid regular expression; give a JavaScript RegExp source such as \\bERROR\\b' },
);

const budget = z.number().int().min(0);
const dottedField = z
  .string()
  .regex(/^[A-Za-z_@][\w@-]*(\.[A-Za-z_@][\w@-]*)*$/, 'a JSON field path such as log.level');

/** The `signals` section: error signals in the services' logs during the phases without a fault. */
export const signalsConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Services whose logs are judged; default: every service the config builds (its own code, not a datastore image). */
  services: z.array(z.string().min(1)).optional(),
  /** Stages judged, each over its whole run minus the fault windows. */
  stages: z
    .array(z.enum(SIGNAL_STAGES))
    .refine((list) => new Set(list).size === list.length, 'lists a stage twice')
    .default([...DEFAULT_SIGNAL_STAGES]),
  /** Regular expressions (JavaScript source, case-sensitive) that make a plain-text line fatal or error. */
  patterns: z
    .strictObject({
      fatal: z.array(regexSource).default([...DEFAULT_SIGNAL_PATTERNS.fatal]),
      error: z.array(regexSource).default([...DEFAULT_SIGNAL_PATTERNS.error]),
    })
    .default({ fatal: [...DEFAULT_SIGNAL_PATTERNS.fatal], error: [...DEFAULT_SIGNAL_PATTERNS.error] }),
  levelFields: z
    .array(dottedField)
    .min(1)
    .default([...DEFAULT_LEVEL_FIELDS]),
  statusFields: z.array(dottedField).default([...DEFAULT_STATUS_FIELDS]),
  /**
   * Per class, how many lines one service may show in one stage before its check fails; `dependencyErrors`:
   * how much the service's `metrics` counters may rise in one stage, together. 0, unlike the log classes: a
   * team names a counter here because it moves only when a dependency failed (a fallback taken, a failed
   * call), not a line that a healthy service also logs now and then.
   */
  budgets: z
    .strictObject({
      fatal: budget.default(0),
      error: budget.default(3),
      serverError: budget.default(3),
      dependencyErrors: budget.default(0),
    })
    .default({ fatal: 0, error: 3, serverError: 3, dependencyErrors: 0 }),
  /**
   * Per service, its Prometheus endpoint and the counters that count dependency errors: scraped at the start
   * and end of each judged stage and every `scrapeIntervalMs` between, their increase outside fault windows
   * judged against `budgets.dependencyErrors` in the same check as the service's log.
   */
  metrics: z.record(z.string(), metricsSourceSchema).default({}),
  /** How often the `metrics` counters are scraped during a judged stage. */
  scrapeIntervalMs: z.number().int().min(250).default(2_000),
  /** How long after a fault ends its aftermath (reconnects, retries draining) is left out too. */
  settleMs: z.number().int().min(0).default(10_000),
  /** How many offending lines a failed check carries as evidence. */
  evidenceLines: z.number().int().min(1).max(200).default(20),
});

export type SignalsConfig = z.output<typeof signalsConfigSchema>;

/** The section as the defaults fill it in. */
export const defaultSignals = (): SignalsConfig => signalsConfigSchema.parse({});

/**
 * Every service `signals.services` names must be declared; each `signals.metrics` key a declared service
 * whose signals are judged (listed in `signals.services`, or built by the config when that is unset), its
 * port one the service exposes.
 */
export function refineSignals(
  config: RefinementCtx['config'] & {
    readonly signals: SignalsConfig;
    readonly services: Readonly<Record<string, { readonly build?: unknown }>>;
  },
  ctx: RefinementCtx['ctx'],
): void {
  const { signals } = config;
  signals.services?.forEach((service, i) => {
    checkService(config, ctx, ['signals', 'services', i], service);
  });
  for (const [service, source] of Object.entries(signals.metrics)) {
    const at = ['signals', 'metrics', service];
    if (!checkServicePort(config, ctx, at, { service, port: source.port }, at)) continue;
    const built = config.services[service]?.build !== undefined;
    const judgedService = signals.services ? signals.services.includes(service) : built;
    if (!judgedService)
      ctx.addIssue({
        code: 'custom',
        path: at,
        message: signals.services
          ? `names "${service}", whose signals are not judged: add it to signals.services`
          : `names "${service}", whose signals are not judged by default (the config does not build it): list the judged services in signals.services`,
      });
  }
}
