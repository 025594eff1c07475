import { z } from 'zod';
import { CHECK_STATUSES, NOT_CONFIGURED_TAG, SEVERITIES } from '../core/check-result.ts';
import type { CheckResult, CheckStatus, Severity } from '../core/check-result.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import { PROPERTY_GROUPS, propertyDefinitionSchema } from '../config/properties.ts';
import type { PropertiesConfig, PropertyDefinition, PropertyEntry, PropertyGroup } from '../config/properties.ts';
import type { PolicyConfig } from '../config/schema.ts';
import { STATUS_SEVERITY_ORDER } from './pass-rates.ts';
import { isDue, runStages } from './policy.ts';
import { PROPERTY_CATALOGUE } from './property-catalogue.ts';
import { remediationFor } from './verdict.ts';

/** proven: every due check passed and at least one ran; failed: one failed or broke; not-covered: no evidence either way. */
export const PROPERTY_STATUSES = ['proven', 'failed', 'not-covered'] as const;
type PropertyStatus = (typeof PROPERTY_STATUSES)[number];

/**
 * Why a property is not covered: its checks are not configured (or their stage is not enabled), declared not
 * applicable, skipped (or their stage left out of the run), unknown (no evidence), or no check matched at all.
 */
const NOT_COVERED_WHYS = ['not-configured', 'not-applicable', 'skipped', 'unknown', 'no-check'] as const;

/** How the certificate names a group. */
export const PROPERTY_GROUP_LABELS: Readonly<Record<PropertyGroup, string>> = {
  availability: 'Availability',
  resilience: 'Resilience',
  'data-safety': 'Data safety',
  security: 'Security',
  performance: 'Performance and capacity',
  operability: 'Operability',
};

/** A property of the catalogue as it applies to a run: its definition with its id. */
interface ResolvedProperty extends PropertyDefinition {
  readonly id: string;
}

/** One readiness property of a run in `certification.json`: its status, the checks that decided it, and why. */
export const propertySchema = z
  .strictObject({
    id: z.string().min(1),
    title: z.string().min(1),
    group: z.enum(PROPERTY_GROUPS),
    severity: z.enum(SEVERITIES),
    status: z.enum(PROPERTY_STATUSES),
    /** Set exactly when the property is not covered. */
    why: z.enum(NOT_COVERED_WHYS).nullable(),
    /** One sentence: what proved it, what failed, or why nothing did. */
    reason: z.string().min(1),
    /** The patterns it maps to, as the catalogue or the config gives them. */
    patterns: z.array(z.string().min(1)).min(1),
    /** Every check of the run the patterns matched, with its status (worst of a repeated id). */
    checks: z.array(z.strictObject({ id: z.string().min(1), status: z.enum(CHECK_STATUSES) })),
    /** What to do: a failed check's remediation, or how to cover it; null when proven. */
    remediation: z.string().min(1).nullable(),
  })
  .refine((p) => (p.status === 'not-covered') === (p.why !== null), 'why is set exactly when not covered')
  .refine((p) => (p.status === 'proven') === (p.remediation === null), 'remediation is null exactly when proven');
export type PropertyResult = z.infer<typeof propertySchema>;

/** How many properties a run proved, of all it was certified on. */
export const propertyCoverageSchema = z.strictObject({
  total: z.number().int().nonnegative(),
  proven: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  notCovered: z.number().int().nonnegative(),
  /** proven / total; null when the catalogue is empty. */
  ratio: z.number().min(0).max(1).nullable(),
});
type PropertyCoverage = z.infer<typeof propertyCoverageSchema>;

/**
 * True when `id` matches `pattern`: a '*' at the start or the end stands for any characters (as in the
 * policy's id prefixes), a '*' in the middle for one id segment (`chaos.*.ledger` is not `chaos.x.load.ledger`).
 */
export function matchesCheckPattern(id: string, pattern: string): boolean {
  if (!pattern.includes('*')) return id === pattern;
  return patternRegExp(pattern).test(id);
}

/** Compiled patterns: a run matches every check against every property's patterns (100,000 checks × ~100). */
const compiledPatterns = new Map<string, RegExp>();

function patternRegExp(pattern: string): RegExp {
  const cached = compiledPatterns.get(pattern);
  if (cached) return cached;
  const escape = (part: string): string => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const parts = pattern.split('*');
  const body = parts.map((part, i) => {
    if (i === 0) return escape(part);
    const edge = i === 1 && parts[0] === '' ? '.*' : i === parts.length - 1 && part === '' ? '.*' : '[^.]*';
    return `${edge}${escape(part)}`;
  });
  const compiled = new RegExp(`^${body.join('')}$`);
  compiledPatterns.set(pattern, compiled);
  return compiled;
}

/** A config entry as a definition (the schema requires title, group and checks unless it omits). */
function definitionOf(id: string, entry: PropertyEntry): ResolvedProperty | undefined {
  if (entry.omit !== undefined || entry.title === undefined || entry.group === undefined || !entry.checks)
    return undefined;
  return {
    id,
    title: entry.title,
    group: entry.group,
    checks: entry.checks,
    severity: entry.severity ?? 'normal',
    ...(entry.remediation === undefined ? {} : { remediation: entry.remediation }),
  };
}

/**
 * The built-in catalogue with the config's `properties` applied (a definition adds or replaces by id,
 * `omit` leaves one out), in catalogue order then the config's; `unknownOmissions` names omitted ids that
 * match no built-in property.
 */
export function resolveProperties(config: PropertiesConfig = {}): {
  readonly properties: readonly ResolvedProperty[];
  readonly unknownOmissions: readonly string[];
} {
  const builtIn = PROPERTY_CATALOGUE.map(({ id, ...definition }) => ({
    id,
    ...propertyDefinitionSchema.parse(definition),
  }));
  const known = new Set(builtIn.map((p) => p.id));
  const properties: ResolvedProperty[] = [];
  for (const property of builtIn) {
    const entry = config[property.id];
    if (entry === undefined) properties.push(property);
    else if (entry.omit === undefined) properties.push(definitionOf(property.id, entry) ?? property);
  }
  for (const [id, entry] of Object.entries(config)) {
    const added = known.has(id) ? undefined : definitionOf(id, entry);
    if (added) properties.push(added);
  }
  const unknownOmissions = Object.entries(config)
    .filter(([id, entry]) => entry.omit !== undefined && !known.has(id))
    .map(([id]) => id);
  return { properties, unknownOmissions };
}

interface PropertyInputs {
  readonly checks: readonly CheckResult[];
  readonly properties: readonly ResolvedProperty[];
  readonly policy: Pick<PolicyConfig, 'skippable'>;
  /** Stages the config enables. */
  readonly enabledStages: readonly Stage[];
  /** Stages selected for this run. */
  readonly selectedStages: readonly Stage[];
}

const rank = (status: CheckStatus): number => STATUS_SEVERITY_ORDER.indexOf(status);

/** One result per id, the worst when an id was recorded twice, in result order. */
function worstById(checks: readonly CheckResult[]): CheckResult[] {
  const byId = new Map<string, CheckResult>();
  for (const check of checks) {
    const seen = byId.get(check.id);
    if (seen === undefined || rank(check.status) < rank(seen.status)) byId.set(check.id, check);
  }
  return [...byId.values()];
}

const MAX_LISTED = 3;
const listOf = (checks: readonly CheckResult[]): string => {
  const ids = checks.slice(0, MAX_LISTED).map((c) => c.id);
  return checks.length > MAX_LISTED
    ? `${ids.join(', ')} and ${(checks.length - MAX_LISTED).toString()} more`
    : ids.join(', ');
};
const firstLine = (text: string | undefined): string => text?.trim().split('\n')[0]?.trim() ?? '';

/** The stage a pattern names by its first segment, if it names one. */
function stageOfPattern(pattern: string): Stage | undefined {
  const head = pattern.split('.')[0] ?? '';
  return STAGES.find((stage) => stage === head);
}

type Verdict = Pick<PropertyResult, 'status' | 'why' | 'reason' | 'remediation'>;

/** A property no check of the run matched: its stages were not enabled or not run, or no check has its ids. */
function unmatched(property: ResolvedProperty, inputs: PropertyInputs): Verdict {
  const running = runStages(inputs.enabledStages, inputs.selectedStages);
  const stages = property.checks.map(stageOfPattern);
  const named = [...new Set(stages.filter((s): s is Stage => s !== undefined))];
  const allNamed = stages.every((s) => s !== undefined);
  // The not-configured records are listed so a family left unset reads as such; they prove nothing, so the text leaves them out.
  const proving = property.checks.filter((pattern) => !pattern.endsWith('.not-configured'));
  const patterns = (proving.length > 0 ? proving : property.checks).join(', ');
  if (allNamed && named.every((s) => !running.includes(s))) {
    const notEnabled = named.filter((s) => !inputs.enabledStages.includes(s));
    if (notEnabled.length === named.length) {
      return {
        status: 'not-covered',
        why: 'not-configured',
        reason: `Stage ${named.join(', ')} is not enabled in the config (stages).`,
        remediation: property.remediation ?? `Enable stage ${named.join(', ')} in the config's stages.`,
      };
    }
    return {
      status: 'not-covered',
      why: 'skipped',
      reason: `Stage ${named.join(', ')} was left out of this run.`,
      remediation: `Run every enabled stage (no --stages) to cover it.`,
    };
  }
  return {
    status: 'not-covered',
    why: 'no-check',
    reason: `No check of this run matched ${patterns}.`,
    remediation:
      property.remediation ??
      `Configure what records ${patterns}, or map your own checks in properties.${property.id}.`,
  };
}

/** The status of one property from the checks its patterns matched (see PROPERTY_STATUSES). */
function judge(property: ResolvedProperty, matched: readonly CheckResult[], inputs: PropertyInputs): Verdict {
  if (matched.length === 0) return unmatched(property, inputs);
  const failed = matched.filter((c) => c.status === 'failed');
  const broken = matched.filter((c) => c.status === 'broken');
  if (failed.length + broken.length > 0) {
    const parts = [
      failed.length > 0 ? `${listOf(failed)} failed` : '',
      broken.length > 0 ? `${listOf(broken)} broken (the harness or environment failed)` : '',
    ].filter((part) => part !== '');
    const first = failed[0] ?? broken[0];
    const message = firstLine(first?.message);
    return {
      status: 'failed',
      why: null,
      reason: `${parts.join('; ')}${message ? `: ${message}` : ''}`,
      remediation: first === undefined ? 'See the report.' : remediationFor(first),
    };
  }
  const due = matched.filter((c) => isDue(c, inputs.policy));
  const unknown = due.filter((c) => c.status === 'unknown');
  if (unknown.length > 0) {
    return {
      status: 'not-covered',
      why: 'unknown',
      reason: `No evidence (unknown): ${listOf(unknown)}${firstLine(unknown[0]?.message) ? `: ${firstLine(unknown[0]?.message)}` : ''}`,
      remediation: `Read the evidence of ${unknown[0]?.id ?? 'its checks'} in the report: the check could not judge.`,
    };
  }
  const skipped = matched.filter((c) => c.status === 'skipped');
  const passed = due.filter((c) => c.status === 'passed');
  if (skipped.some((c) => isDue(c, inputs.policy)) || (passed.length === 0 && skipped.length > 0)) {
    return {
      status: 'not-covered',
      why: 'skipped',
      reason: `Skipped: ${listOf(skipped)}${firstLine(skipped[0]?.message) ? `: ${firstLine(skipped[0]?.message)}` : ''}`,
      remediation: property.remediation ?? `Make ${skipped[0]?.id ?? 'its checks'} run: see its reason.`,
    };
  }
  if (passed.length > 0) {
    return {
      status: 'proven',
      why: null,
      reason: `${passed.length.toString()} check(s) passed: ${listOf(passed)}.`,
      remediation: null,
    };
  }
  // Left: every matched check is not applicable.
  const notConfigured = matched.filter((c) => c.tags.includes(NOT_CONFIGURED_TAG));
  const shown = notConfigured[0] ?? matched[0];
  // The check's own message already says what it is ("Not applicable: ...", "Not configured: ..."): said once here.
  const fullMessage = firstLine(shown?.message);
  const message = fullMessage.replace(/^(Not applicable|Not configured):\s*/i, '');
  return notConfigured.length > 0
    ? {
        status: 'not-covered',
        why: 'not-configured',
        reason: `Not configured: ${listOf(notConfigured)}${message ? `: ${message}` : ''}`,
        remediation: property.remediation ?? (fullMessage || `Configure ${notConfigured[0]?.id ?? 'its checks'}.`),
      }
    : {
        status: 'not-covered',
        why: 'not-applicable',
        reason: `Not applicable: ${message || listOf(matched)}`,
        remediation: `Declared not applicable in the config (notApplicable): ${message || listOf(matched)}`,
      };
}

/** A property's reason in certification.json is clipped to this length; the report has the checks' whole messages. */
const MAX_REASON_CHARS = 500;
const clipReason = (text: string): string =>
  text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS - 1)}…` : text;

/** Each property's status on a run's checks (only the stages that ran count), in catalogue order. Pure. */
export function evaluateProperties(inputs: PropertyInputs): PropertyResult[] {
  const running = runStages(inputs.enabledStages, inputs.selectedStages);
  const checks = worstById(inputs.checks.filter((c) => running.includes(c.stage)));
  return inputs.properties.map((property) => {
    const matched = checks.filter((c) => property.checks.some((pattern) => matchesCheckPattern(c.id, pattern)));
    const verdict = judge(property, matched, inputs);
    return {
      id: property.id,
      title: property.title,
      group: property.group,
      severity: property.severity,
      ...verdict,
      reason: clipReason(verdict.reason),
      patterns: [...property.checks],
      checks: matched.map((c) => ({ id: c.id, status: c.status })),
    };
  });
}

/** The coverage figure of a run's properties. */
export function propertyCoverage(properties: readonly Pick<PropertyResult, 'status'>[]): PropertyCoverage {
  const count = (status: PropertyStatus): number => properties.filter((p) => p.status === status).length;
  const total = properties.length;
  return {
    total,
    proven: count('proven'),
    failed: count('failed'),
    notCovered: count('not-covered'),
    ratio: total === 0 ? null : count('proven') / total,
  };
}

/** Severities that make a property critical: it heads the risks when not proven. */
const CRITICAL_SEVERITIES: readonly Severity[] = ['blocker', 'critical'];

/** Whether a failed property failed by a failed check (the system) rather than only broken ones (the harness). */
const failedBySystem = (p: PropertyResult): boolean => p.checks.some((c) => c.status === 'failed');

/**
 * The risks of a run: every critical (blocker or critical) property not proven, most severe first: failed by
 * the system, then broken, then not covered; within each, blocker before critical, then in catalogue order.
 */
export function propertyRisks(properties: readonly PropertyResult[]): PropertyResult[] {
  const order = (p: PropertyResult): number =>
    p.status === 'failed' ? (failedBySystem(p) ? 0 : 1) : p.status === 'not-covered' ? 2 : 3;
  return properties
    .map((p, index) => ({ p, index }))
    .filter(({ p }) => p.status !== 'proven' && CRITICAL_SEVERITIES.includes(p.severity))
    .sort(
      (a, b) =>
        order(a.p) - order(b.p) ||
        SEVERITIES.indexOf(a.p.severity) - SEVERITIES.indexOf(b.p.severity) ||
        a.index - b.index,
    )
    .map(({ p }) => p);
}
