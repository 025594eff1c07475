import { z } from 'zod';
import type { Stage } from '../core/stage.ts';
import { checkService } from './stages/refine-context.ts';
import type { RefinementCtx } from './stages/refine-context.ts';

/** Classes of error signal a service's log can show, worst first. */
export const SIGNAL_CLASSES = ['fatal', 'error', 'serverError'] as const;
export type SignalClass = (typeof SIGNAL_CLASSES)[number];

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
  /** Per class, how many lines one service may show in one stage before its check fails. */
  budgets: z
    .strictObject({ fatal: budget.default(0), error: budget.default(3), serverError: budget.default(3) })
    .default({ fatal: 0, error: 3, serverError: 3 }),
  /** How long after a fault ends its aftermath (reconnects, retries draining) is left out too. */
  settleMs: z.number().int().min(0).default(10_000),
  /** How many offending lines a failed check carries as evidence. */
  evidenceLines: z.number().int().min(1).max(200).default(20),
});

export type SignalsConfig = z.output<typeof signalsConfigSchema>;

/** The section as the defaults fill it in. */
export const defaultSignals = (): SignalsConfig => signalsConfigSchema.parse({});

/** Every service `signals.services` names must be declared. */
export function refineSignals(
  config: RefinementCtx['config'] & { readonly signals: SignalsConfig },
  ctx: RefinementCtx['ctx'],
): void {
  config.signals.services?.forEach((service, i) => {
    checkService(config, ctx, ['signals', 'services', i], service);
  });
}
