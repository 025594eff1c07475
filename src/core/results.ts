import { pool } from './pool.ts';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { SEVERITIES, checkResultSchema, metricSchema } from './check-result.ts';
import type { CheckResult, CheckResultInput, CheckStatus } from './check-result.ts';
import type { Redactor } from './redact.ts';
import { STAGES } from './stage.ts';

/**
 * Check results are stored as Allure results (`<uuid>-result.json` + attachments), so the
 * Allure report and `certify` read the same files. Our own fields travel as labels:
 * `readinessId`, `parentSuite`/`epic` (stage), `feature`, `severity`, `tag`, `remediation`,
 * and `readinessMetric` (JSON of one metric).
 */
/** Allure's own statuses; a `not-applicable` check is written as `skipped` with a `readinessStatus` label. */
export const ALLURE_STATUSES = ['passed', 'failed', 'broken', 'skipped', 'unknown'] as const;
type AllureStatus = (typeof ALLURE_STATUSES)[number];

/** The Allure status of a check status: Allure has no "not applicable", so it reads `skipped`. */
function allureStatusOf(status: CheckStatus): AllureStatus {
  return status === 'not-applicable' ? 'skipped' : status;
}

/** The label carrying a check status Allure has no name for (`not-applicable`). */
const READINESS_STATUS_LABEL = 'readinessStatus';

const labelSchema = z.object({ name: z.string(), value: z.string() });
const allureResultSchema = z.object({
  uuid: z.string(),
  name: z.string(),
  fullName: z.string().optional(),
  status: z.enum(ALLURE_STATUSES).optional(),
  statusDetails: z
    .object({ message: z.string().optional(), trace: z.string().optional(), flaky: z.boolean().optional() })
    .partial()
    .optional(),
  start: z.number().optional(),
  stop: z.number().optional(),
  labels: z.array(labelSchema).default([]),
  parameters: z.array(z.object({ name: z.string(), value: z.string() })).default([]),
  attachments: z.array(z.object({ name: z.string(), source: z.string(), type: z.string() })).default([]),
});
type AllureResult = z.infer<typeof allureResultSchema>;

const EXTENSIONS: Readonly<Record<string, string>> = {
  'application/json': 'json',
  'text/plain': 'txt',
  'text/html': 'html',
  'text/csv': 'csv',
  'image/png': 'png',
};

/** Writes one check as an Allure result; message, evidence and parameters pass through `redact`. */
export async function writeCheckResult(dir: string, input: CheckResultInput, redact: Redactor): Promise<CheckResult> {
  const check = checkResultSchema.parse(input);
  await mkdir(dir, { recursive: true });
  const uuid = randomUUID();
  const attachments = [];
  for (const evidence of check.evidence) {
    const source = `${randomUUID()}-attachment.${EXTENSIONS[evidence.contentType] ?? 'txt'}`;
    await writeFile(join(dir, source), redact(evidence.content));
    attachments.push({ name: evidence.name, source, type: evidence.contentType });
  }
  const labels = [
    { name: 'readinessId', value: check.id },
    { name: 'parentSuite', value: check.stage },
    { name: 'epic', value: check.stage },
    { name: 'suite', value: check.feature },
    { name: 'feature', value: check.feature },
    { name: 'severity', value: check.severity },
    ...(check.status === 'not-applicable' ? [{ name: READINESS_STATUS_LABEL, value: check.status }] : []),
    ...check.tags.map((value) => ({ name: 'tag', value })),
    ...(check.remediation ? [{ name: 'remediation', value: redact(check.remediation) }] : []),
    ...check.metrics.map((metric) => ({ name: 'readinessMetric', value: JSON.stringify(metric) })),
  ];
  const parameters = [
    ...Object.entries(check.parameters).map(([name, value]) => ({ name, value: redact(value) })),
    // excluded: kept out of Allure's historyId, so a check keeps its history when a metric value changes.
    ...check.metrics.map((m) => ({ name: m.name, value: `${m.value} ${m.unit}`.trim(), excluded: true })),
  ];
  const result: AllureResult & Record<string, unknown> = {
    uuid,
    historyId: createHash('md5').update(check.id).digest('hex'),
    testCaseId: createHash('md5').update(check.id).digest('hex'),
    fullName: check.id,
    name: check.name,
    status: allureStatusOf(check.status),
    statusDetails: {
      ...(check.message ? { message: redact(check.message) } : {}),
      ...(check.remediation ? { trace: `Remediation: ${redact(check.remediation)}` } : {}),
      ...(check.flaky ? { flaky: true } : {}),
    },
    stage: 'finished',
    start: check.startedAt,
    stop: check.finishedAt,
    labels,
    parameters,
    attachments,
    steps: [],
    links: [],
  };
  await writeFile(join(dir, `${uuid}-result.json`), JSON.stringify(result, null, 2));
  return check;
}

const label = (r: AllureResult, name: string): string | undefined => r.labels.find((l) => l.name === name)?.value;

/** Result files read at once: enough to overlap the reads, few enough to stay far from the fd limit. */
const READ_CONCURRENCY = 16;

/**
 * Reads every `*-result.json` of a results directory back into checks. Files that are not
 * readiness checks (no `readinessId`) or do not parse are returned as `invalid`, never dropped silently.
 */
export async function readCheckResults(dir: string): Promise<{ checks: CheckResult[]; invalid: string[] }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { checks: [], invalid: [] };
    throw error;
  }
  const files = names.filter((n) => n.endsWith('-result.json')).sort();
  // Read several at once: one at a time, 100,000 results waited on each read in turn.
  const texts = await pool(files, READ_CONCURRENCY, (file) =>
    readFile(join(dir, file), 'utf8').catch((error: unknown) =>
      error instanceof Error ? error : new Error(String(error)),
    ),
  );
  const checks: CheckResult[] = [];
  const invalid: string[] = [];
  for (const [index, name] of files.entries()) {
    try {
      const text = texts[index] ?? new Error('not read');
      if (text instanceof Error) throw text;
      const raw = allureResultSchema.parse(JSON.parse(text));
      const id = label(raw, 'readinessId');
      const stage = label(raw, 'parentSuite');
      if (id === undefined || stage === undefined || !(STAGES as readonly string[]).includes(stage)) {
        invalid.push(`${name}: not a readiness check (no readinessId/parentSuite label)`);
        continue;
      }
      const severity = label(raw, 'severity');
      const notApplicable = raw.status === 'skipped' && label(raw, READINESS_STATUS_LABEL) === 'not-applicable';
      const metrics = raw.labels
        .filter((l) => l.name === 'readinessMetric')
        .map((l) => metricSchema.parse(JSON.parse(l.value)));
      checks.push(
        checkResultSchema.parse({
          id,
          stage,
          name: raw.name,
          feature: label(raw, 'feature') ?? stage,
          status: notApplicable ? 'not-applicable' : (raw.status ?? 'unknown'),
          severity: (SEVERITIES as readonly string[]).includes(severity ?? '') ? severity : 'normal',
          message: raw.statusDetails?.message,
          remediation: label(raw, 'remediation'),
          startedAt: Math.trunc(raw.start ?? 0),
          finishedAt: Math.trunc(raw.stop ?? raw.start ?? 0),
          tags: raw.labels.filter((l) => l.name === 'tag').map((l) => l.value),
          flaky: raw.statusDetails?.flaky ?? false,
          metrics,
          evidence: [],
          parameters: Object.fromEntries(
            raw.parameters.filter((p) => !metrics.some((m) => m.name === p.name)).map((p) => [p.name, p.value]),
          ),
        }),
      );
    } catch (error) {
      invalid.push(`${name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  return { checks, invalid };
}
