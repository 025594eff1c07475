import type { SignalClass, SignalsConfig } from '../config/signals.ts';

/** How lines are classified: compiled once from the config's `signals` section. */
export interface SignalRules {
  readonly fatal: readonly RegExp[];
  readonly error: readonly RegExp[];
  readonly levelFields: readonly string[];
  readonly statusFields: readonly string[];
}

/** Compiles the config's patterns and field lists. */
export function signalRules(config: Pick<SignalsConfig, 'patterns' | 'levelFields' | 'statusFields'>): SignalRules {
  return {
    fatal: config.patterns.fatal.map((source) => new RegExp(source)),
    error: config.patterns.error.map((source) => new RegExp(source)),
    levelFields: config.levelFields,
    statusFields: config.statusFields,
  };
}

const FATAL_WORDS = new Set(['fatal', 'panic', 'emerg', 'emergency', 'alert', 'crit', 'critical']);
const ERROR_WORDS = new Set(['error', 'err', 'severe']);

/** A dotted path into a parsed JSON object (`res.statusCode`); a flat key with dots (`log.level`) is tried first. */
function field(record: Record<string, unknown>, path: string): unknown {
  if (path in record) return record[path];
  let value: unknown = record;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The class of a level value: pino/bunyan numbers (60 fatal, 50 error) or a word, in any case. */
export function levelClass(level: unknown): SignalClass | null {
  if (typeof level === 'number') return level >= 60 ? 'fatal' : level >= 50 ? 'error' : null;
  if (typeof level !== 'string') return null;
  const word = level.trim().toLowerCase();
  if (FATAL_WORDS.has(word)) return 'fatal';
  if (ERROR_WORDS.has(word)) return 'error';
  return null;
}

function jsonObject(payload: string): Record<string, unknown> | null {
  const text = payload.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    // Not JSON after all (a plain line in braces): the plain-text patterns judge it.
    return null;
  }
}

/**
 * The error signal a log line carries, if any. A JSON line is judged by its level field (the first of
 * `levelFields` present) and, below error, by an HTTP status of 500 or more in `statusFields` (a
 * request log); its message text is never matched, so an info line that mentions "error" is not one.
 * A plain-text line is matched against the fatal patterns, then the error ones.
 */
export function classifyLine(payload: string, rules: SignalRules): SignalClass | null {
  const record = jsonObject(payload);
  if (record) {
    const levelField = rules.levelFields.find((f) => field(record, f) !== undefined);
    const byLevel = levelField === undefined ? null : levelClass(field(record, levelField));
    if (byLevel) return byLevel;
    for (const f of rules.statusFields) {
      const status = field(record, f);
      if (typeof status === 'number' && status >= 500 && status <= 599) return 'serverError';
    }
    return null;
  }
  if (rules.fatal.some((re) => re.test(payload))) return 'fatal';
  if (rules.error.some((re) => re.test(payload))) return 'error';
  return null;
}
