import { z } from 'zod';
import { STAGES } from './stage.ts';

/**
 * Only `passed` counts as passed; `broken` is a harness/environment failure, `unknown` means no evidence;
 * `not-applicable` is a check the config declares not applicable (or a family it does not configure), with
 * the reason as its message: never passed, never due, never blocking.
 */
export const CHECK_STATUSES = ['passed', 'failed', 'broken', 'skipped', 'unknown', 'not-applicable'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** Tags of a `not-applicable` check: declared in the config's `notApplicable`, or its family is not configured. */
export const NOT_APPLICABLE_TAG = 'not-applicable';
export const NOT_CONFIGURED_TAG = 'not-configured';

/** True when `id` equals a pattern, or starts with the prefix of a pattern ending in '*'. */
export function matchesIdPattern(id: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => (pattern.endsWith('*') ? id.startsWith(pattern.slice(0, -1)) : id === pattern));
}

/** The reason the config's `notApplicable` gives for `id` (an exact id before a '*' prefix), if any. */
export function notApplicableReason(id: string, notApplicable: Readonly<Record<string, string>>): string | undefined {
  const exact = notApplicable[id];
  if (exact !== undefined) return exact;
  const prefixes = Object.keys(notApplicable)
    .filter((pattern) => pattern.endsWith('*') && id.startsWith(pattern.slice(0, -1)))
    .sort((a, b) => b.length - a.length);
  const longest = prefixes[0];
  return longest === undefined ? undefined : notApplicable[longest];
}

/** Allure's severities; `blocker` and `critical` checks are critical for the policy by default. */
export const SEVERITIES = ['blocker', 'critical', 'normal', 'minor', 'trivial'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const metricSchema = z.strictObject({
  name: z.string().min(1),
  value: z.number(),
  unit: z.string(),
});
export type Metric = z.infer<typeof metricSchema>;

const evidenceSchema = z.strictObject({
  name: z.string().min(1),
  contentType: z.string(),
  content: z.string(),
});
export type Evidence = z.infer<typeof evidenceSchema>;

export const checkResultSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9._:-]*$/, 'lower-case id of letters, digits and . _ : -'),
    stage: z.enum(STAGES),
    name: z.string().min(1),
    feature: z.string().min(1),
    status: z.enum(CHECK_STATUSES),
    severity: z.enum(SEVERITIES),
    message: z.string().optional(),
    remediation: z.string().optional(),
    startedAt: z.number().int(),
    finishedAt: z.number().int(),
    tags: z.array(z.string()).default([]),
    metrics: z.array(metricSchema).default([]),
    evidence: z.array(evidenceSchema).default([]),
    parameters: z.record(z.string(), z.string()).default({}),
    /** Passed only on a retry: counted as passed, always shown as flaky. */
    flaky: z.boolean().default(false),
  })
  .superRefine((check, ctx) => {
    // A check is not applicable only with a reason, so the certificate can say why it is not covered.
    if (check.status === 'not-applicable' && !check.message?.trim())
      ctx.addIssue({
        code: 'custom',
        path: ['message'],
        message: 'a not-applicable check needs its reason as message',
      });
  });
/** One check's outcome, as a stage reports it. */
export type CheckResult = z.output<typeof checkResultSchema>;
export type CheckResultInput = z.input<typeof checkResultSchema>;
