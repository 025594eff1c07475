import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CHECK_STATUSES } from '../core/check-result.ts';
import type { CheckResult } from '../core/check-result.ts';
import { ReadinessError } from '../core/errors.ts';
import { readCheckResults } from '../core/results.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import type { PolicyConfig } from '../config/schema.ts';
import { VERDICTS, evaluateVerdict } from './verdict.ts';

/** The file name of a run's certification, inside the run folder. */
export const CERTIFICATION_FILE = 'certification.json';

const DAY_MS = 24 * 60 * 60 * 1000;
const ratio = z.number().min(0).max(1);
const count = z.number().int().nonnegative();

const stageEntrySchema = z.strictObject({
  status: z.enum(CHECK_STATUSES),
  /** passed / due; null when nothing was due or the stage was not evaluated. */
  passRate: ratio.nullable(),
  counts: z.strictObject({ passed: count, failed: count, broken: count, skipped: count, unknown: count }),
  /** Checks counted in the pass rate (all but skippable skipped ones). */
  due: count,
  minPassRate: ratio,
  mandatory: z.boolean(),
});

const stagesSchema = z.strictObject({
  boot: stageEntrySchema,
  contract: stageEntrySchema,
  security: stageEntrySchema,
  load: stageEntrySchema,
  chaos: stageEntrySchema,
  recovery: stageEntrySchema,
} satisfies Record<Stage, typeof stageEntrySchema>);

const criticalFailureSchema = z.strictObject({
  stage: z.enum(STAGES),
  check: z.string().min(1),
  name: z.string().min(1),
  message: z.string(),
  remediation: z.string().min(1),
});

/** `certification.json` (schemaVersion 1): the verdict of one run, read by the CLI, the certificate and outside tools. */
export const certificationSchema = z
  .strictObject({
    schemaVersion: z.literal(1),
    runId: z.string().min(1),
    /** True when the run left out a stage the config enables. */
    partial: z.boolean(),
    verdict: z.enum(VERDICTS),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    seed: z.number().int(),
    git: z.strictObject({ sha: z.string().min(1).nullable(), dirty: z.boolean().nullable() }),
    stages: stagesSchema,
    criticalFailures: z.array(criticalFailureSchema),
    reasons: z.array(z.string().min(1)),
    score: ratio,
    exitCode: z.union([z.literal(0), z.literal(1), z.literal(3), z.literal(4)]),
    /** The Allure report, relative to the run folder; null when it could not be generated. */
    reportPath: z.string().min(1).nullable(),
    validUntil: z.iso.datetime().nullable(),
    invalidResults: z.array(z.string()),
  })
  .superRefine((cert, ctx) => {
    const issue = (path: string, message: string): void => {
      ctx.addIssue({ code: 'custom', path: [path], message });
    };
    if (Date.parse(cert.finishedAt) < Date.parse(cert.startedAt)) issue('finishedAt', 'is before startedAt');
    const isPassing = cert.verdict === 'CERTIFIED' || cert.verdict === 'CONDITIONAL';
    if (isPassing && cert.validUntil === null) issue('validUntil', `must be set for a ${cert.verdict} verdict`);
    if (!isPassing && cert.validUntil !== null) issue('validUntil', 'must be null for a NOT_CERTIFIED verdict');
    if (isPassing && cert.criticalFailures.length > 0) issue('criticalFailures', `must be empty for ${cert.verdict}`);
    if (isPassing && cert.invalidResults.length > 0) issue('invalidResults', `must be empty for ${cert.verdict}`);
    if (cert.verdict === 'CERTIFIED' && cert.reasons.length > 0) issue('reasons', 'must be empty for CERTIFIED');
    if (cert.verdict !== 'CERTIFIED' && cert.reasons.length === 0)
      issue('reasons', `must explain a ${cert.verdict} verdict`);
    const allowed = { CERTIFIED: [0], CONDITIONAL: [0, 4], NOT_CERTIFIED: [1, 3] }[cert.verdict];
    if (!allowed.includes(cert.exitCode))
      issue('exitCode', `${cert.exitCode.toString()} does not match ${cert.verdict}`);
  });

export type Certification = z.output<typeof certificationSchema>;

function formatIssues(file: string, error: z.ZodError): string {
  return error.issues
    .map((i) => `${file}: ${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('\n');
}

/** Validates `cert` and writes it to `<runDir>/certification.json`; returns the file path. */
export async function writeCertification(runDir: string, cert: Certification): Promise<string> {
  const file = join(runDir, CERTIFICATION_FILE);
  const checked = certificationSchema.safeParse(cert);
  if (!checked.success) {
    throw new ReadinessError(
      'CERTIFICATION_INVALID',
      `Refusing to write an invalid certification:\n${formatIssues(file, checked.error)}`,
    );
  }
  await mkdir(runDir, { recursive: true });
  await writeFile(file, `${JSON.stringify(checked.data, null, 2)}\n`);
  return file;
}

/** Reads and validates a `certification.json`; throws naming the file and every invalid key. */
export async function readCertification(file: string): Promise<Certification> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ReadinessError(
      'CERTIFICATION_UNREADABLE',
      `${file}: cannot read certification (${error instanceof Error ? error.message : String(error)})`,
      { cause: error, hint: 'run `readiness certify` to produce it again' },
    );
  }
  const parsed = certificationSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ReadinessError('CERTIFICATION_INVALID', formatIssues(file, parsed.error), {
      hint: 'the file was edited or written by another version; run `readiness certify` again',
    });
  }
  return parsed.data;
}

export interface CertifyRunOptions {
  /** The Allure results directory the stages wrote. */
  readonly resultsDir: string;
  readonly runId: string;
  readonly policy: PolicyConfig;
  /** Stages the config enables. */
  readonly enabledStages: readonly Stage[];
  /** Stages selected for this run; equal to `enabledStages` for a full run. */
  readonly selectedStages: readonly Stage[];
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly seed: number;
  readonly git: { readonly sha: string | null; readonly dirty: boolean | null };
  /** Report path relative to the run folder, or null when no report was generated. */
  readonly reportPath: string | null;
}

/** Reads a run's results directory and returns its certification (the caller writes it). */
export async function certifyRun(options: CertifyRunOptions): Promise<Certification> {
  return certifyChecks({ ...options, ...(await readCheckResults(options.resultsDir)) });
}

export interface CertifyChecksOptions extends Omit<CertifyRunOptions, 'resultsDir'> {
  /** The checks read from the run's results directory (`readCheckResults`). */
  readonly checks: readonly CheckResult[];
  /** Result files that could not be read as checks; each one blocks. */
  readonly invalid: readonly string[];
}

/** The certification of checks already read from a results directory, for callers that also need the checks. */
export function certifyChecks(options: CertifyChecksOptions): Certification {
  const { checks, invalid } = options;
  const result = evaluateVerdict({
    checks,
    enabledStages: options.enabledStages,
    selectedStages: options.selectedStages,
    policy: options.policy,
    invalidResults: invalid,
  });
  const isPassing = result.verdict !== 'NOT_CERTIFIED';
  return certificationSchema.parse({
    schemaVersion: 1,
    runId: options.runId,
    partial: result.partial,
    verdict: result.verdict,
    startedAt: options.startedAt.toISOString(),
    finishedAt: options.finishedAt.toISOString(),
    seed: options.seed,
    git: { sha: options.git.sha, dirty: options.git.dirty },
    stages: result.stages,
    criticalFailures: [...result.criticalFailures],
    reasons: result.reasons.map((reason) => reason.text),
    score: result.score,
    exitCode: result.exitCode,
    reportPath: options.reportPath,
    validUntil: isPassing
      ? new Date(options.finishedAt.getTime() + options.policy.validityDays * DAY_MS).toISOString()
      : null,
    invalidResults: [...invalid],
  } satisfies z.input<typeof certificationSchema>);
}
