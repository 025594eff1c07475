import { z } from 'zod';
import { STAGES } from './stage.ts';

/** Only `passed` counts as passed; `broken` is a harness/environment failure, `unknown` means no evidence. */
export const CHECK_STATUSES = ['passed', 'failed', 'broken', 'skipped', 'unknown'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** Allure's severities; `blocker` and `critical` checks are critical for the policy by default. */
export const SEVERITIES = ['blocker', 'critical', 'normal', 'minor', 'trivial'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const metricSchema = z.strictObject({
  name: z.string().min(1),
  value: z.number(),
  unit: z.string(),
});
export type Metric = z.infer<typeof metricSchema>;

export const evidenceSchema = z.strictObject({
  name: z.string().min(1),
  contentType: z.string(),
  content: z.string(),
});
export type Evidence = z.infer<typeof evidenceSchema>;

export const checkResultSchema = z.strictObject({
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
});
/** One check's outcome, as a stage reports it. */
export type CheckResult = z.output<typeof checkResultSchema>;
export type CheckResultInput = z.input<typeof checkResultSchema>;
