import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CHECK_STATUSES } from '../core/check-result.ts';
import type { CheckResult } from '../core/check-result.ts';
import { EXIT, ReadinessError } from '../core/errors.ts';
import { readCheckResults } from '../core/results.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import type { PropertiesConfig } from '../config/properties.ts';
import type { PolicyConfig } from '../config/schema.ts';
import { changesSchema } from './changes.ts';
import { figureSchema, keyFigures } from './figures.ts';
import type { FigureTargets, KneeFile } from './figures.ts';
import { mapStages } from './pass-rates.ts';
import {
  evaluateProperties,
  propertyCoverage,
  propertyCoverageSchema,
  propertySchema,
  resolveProperties,
} from './properties.ts';
import { NOT_COVERED_KINDS, STAGE_ROLES, VERDICTS, evaluateVerdict, isCertifying } from './verdict.ts';
import type { Verdict } from './verdict.ts';

import { CERTIFICATION_FILE } from '../runner/baseline-run.ts';

export { CERTIFICATION_FILE };

const DAY_MS = 24 * 60 * 60 * 1000;
const ratio = z.number().min(0).max(1);
const count = z.number().int().nonnegative();

const notPassedSchema = z.strictObject({
  check: z.string().min(1),
  name: z.string().min(1),
  status: z.enum(['failed', 'broken', 'skipped', 'unknown']),
  /** False: a skipped check the policy lists as skippable, not counted against the stage. */
  due: z.boolean(),
  /** The check's own message. */
  reason: z.string().min(1),
});

const stageEntrySchema = z.strictObject({
  status: z.enum(CHECK_STATUSES),
  /** mandatory: gates the verdict; optional: ran, reported only; not-run: enabled but left out; not-enabled. */
  role: z.enum(STAGE_ROLES),
  /** passed / due; null when nothing was due or the stage did not run. */
  passRate: ratio.nullable(),
  counts: z.strictObject({
    passed: count,
    failed: count,
    broken: count,
    skipped: count,
    unknown: count,
    /** Added within schemaVersion 2: a file written before it has none (0). */
    'not-applicable': count.default(0),
  }),
  /** Checks counted in the pass rate (all but skippable skipped ones). */
  due: count,
  minPassRate: ratio,
  /** Every check that did not pass, skipped ones included, with its reason. */
  notPassed: z.array(notPassedSchema),
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

const notCoveredSchema = z.strictObject({
  check: z.string().min(1),
  stage: z.enum(STAGES),
  /** The config's reason (`notApplicable`), or which config key is not set. */
  reason: z.string().min(1),
  kind: z.enum(NOT_COVERED_KINDS),
  /** Critical by the policy: it would have had to pass, had it applied. */
  critical: z.boolean(),
});

const policyExceptionSchema = z.strictObject({
  /** The dotted config key, e.g. `policy.stages.load.minPassRate`. */
  key: z.string().regex(/^policy\./),
  value: z.union([z.number(), z.boolean(), z.string(), z.array(z.string())]),
  text: z.string().min(1),
});

/** The certification schema version this code writes and reads. */
const CERTIFICATION_SCHEMA_VERSION = 2;

const EXIT_CODES_OF: Readonly<Record<Verdict, readonly number[]>> = {
  CERTIFIED: [0],
  CONDITIONAL: [0, 4],
  NOT_CERTIFIED: [1, 3],
  PASSED_PARTIAL: [0],
  FAILED_PARTIAL: [1, 3],
};

/** `certification.json` (schemaVersion 2): the verdict of one run, read by the CLI, the certificate and outside tools. */
export const certificationSchema = z
  .strictObject({
    schemaVersion: z.literal(CERTIFICATION_SCHEMA_VERSION),
    runId: z.string().min(1),
    /** The config's `name` (added within schemaVersion 2: older files have none); what changed compares runs of one name. */
    name: z.string().min(1).optional(),
    /** True when the run left out a stage the config enables: then the verdict is PASSED_PARTIAL or FAILED_PARTIAL. */
    partial: z.boolean(),
    verdict: z.enum(VERDICTS),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    seed: z.number().int(),
    git: z.strictObject({ sha: z.string().min(1).nullable(), dirty: z.boolean().nullable() }),
    /** Stages the config enables that this run left out. */
    stagesNotRun: z.array(z.enum(STAGES)),
    /** Every way the policy is weaker than the strictest one (see policy.strict). */
    policyExceptions: z.array(policyExceptionSchema),
    stages: stagesSchema,
    criticalFailures: z.array(criticalFailureSchema),
    /** Checks of the stages that ran that are not applicable (with the config's reason) or not configured: never passed, never due. */
    notCovered: z.array(notCoveredSchema).default([]),
    /** Key figures read from the checks' metrics, with their targets (added within schemaVersion 2: older files read as []). */
    figures: z
      .array(figureSchema)
      .refine((figures) => new Set(figures.map((f) => f.id)).size === figures.length, 'figure ids must be unique')
      .default([]),
    /** Readiness properties: proven, failed or not covered, with the checks that decided each (added within schemaVersion 2: older files read as []). */
    properties: z
      .array(propertySchema)
      .refine(
        (properties) => new Set(properties.map((p) => p.id)).size === properties.length,
        'property ids must be unique',
      )
      .default([]),
    /** How many properties were proven, of all (null in a file written before properties). */
    propertyCoverage: propertyCoverageSchema.nullable().default(null),
    /** What changed since the previous CERTIFIED run of the same config name; null when not evaluated (an older file). */
    changes: changesSchema.nullable().default(null),
    reasons: z.array(z.string().min(1)),
    score: ratio,
    exitCode: z.union([z.literal(0), z.literal(1), z.literal(3), z.literal(4)]),
    /** Allure's quality gate reads the same results independently; the policy's verdict stands only when it agrees. */
    crossCheck: z.strictObject({
      qualityGate: z.enum(['not-evaluated', 'agrees', 'disagrees']),
      /** The verdict of the policy alone; `verdict` differs from it when the gate disagreed. */
      policyVerdict: z.enum(VERDICTS),
    }),
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
    const certifying = isCertifying(cert.verdict);
    const isPartialVerdict = cert.verdict === 'PASSED_PARTIAL' || cert.verdict === 'FAILED_PARTIAL';
    if (certifying && cert.validUntil === null) issue('validUntil', `must be set for a ${cert.verdict} verdict`);
    if (!certifying && cert.validUntil !== null) issue('validUntil', `must be null for a ${cert.verdict} verdict`);
    if (cert.partial !== isPartialVerdict)
      issue(
        'verdict',
        `${cert.verdict} is ${isPartialVerdict ? 'a partial' : 'a full-run'} verdict but partial is ${String(cert.partial)}`,
      );
    if (cert.partial !== cert.stagesNotRun.length > 0)
      issue(
        'stagesNotRun',
        `must ${cert.partial ? 'list the stages not run' : 'be empty'} when partial is ${String(cert.partial)}`,
      );
    const notRun = STAGES.filter((stage) => cert.stages[stage].role === 'not-run');
    if (notRun.join() !== cert.stagesNotRun.join())
      issue('stagesNotRun', `must equal the stages whose role is not-run [${notRun.join(', ')}]`);
    const clean = certifying || cert.verdict === 'PASSED_PARTIAL';
    if (clean && cert.criticalFailures.length > 0) issue('criticalFailures', `must be empty for ${cert.verdict}`);
    if (clean && cert.invalidResults.length > 0) issue('invalidResults', `must be empty for ${cert.verdict}`);
    const noReasons = cert.verdict === 'CERTIFIED' || cert.verdict === 'PASSED_PARTIAL';
    if (noReasons && cert.reasons.length > 0) issue('reasons', `must be empty for ${cert.verdict}`);
    if (!noReasons && cert.reasons.length === 0) issue('reasons', `must explain a ${cert.verdict} verdict`);
    if (cert.propertyCoverage !== null) {
      const expected = propertyCoverage(cert.properties);
      if (JSON.stringify(expected) !== JSON.stringify(cert.propertyCoverage))
        issue('propertyCoverage', `must count the properties: ${JSON.stringify(expected)}`);
    }
    if (!EXIT_CODES_OF[cert.verdict].includes(cert.exitCode))
      issue('exitCode', `${cert.exitCode.toString()} does not match ${cert.verdict}`);
    const { qualityGate, policyVerdict } = cert.crossCheck;
    if (qualityGate !== 'disagrees' && policyVerdict !== cert.verdict)
      issue(
        'crossCheck',
        `policyVerdict ${policyVerdict} differs from the verdict ${cert.verdict} although the gate did not disagree`,
      );
    if (qualityGate === 'disagrees' && (clean || cert.exitCode !== 3))
      issue(
        'crossCheck',
        `the quality gate disagreed, so the verdict cannot be ${cert.verdict} with exit ${cert.exitCode.toString()}`,
      );
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
  const version =
    typeof raw === 'object' && raw !== null ? (raw as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (typeof version === 'number' && version !== CERTIFICATION_SCHEMA_VERSION) {
    throw new ReadinessError(
      'CERTIFICATION_VERSION',
      `${file}: certification schemaVersion ${version.toString()} is not supported: this readiness reads schemaVersion ${CERTIFICATION_SCHEMA_VERSION.toString()} only`,
      {
        hint: 'a run certified by another readiness version; run `readiness certify` again to write it in this format',
      },
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
  /** The config's targets for the key figures; figures have no target without them. */
  readonly figureTargets?: FigureTargets | undefined;
  /** The run's `load/knee.json` (`readKneeFile`), for the knee figure when the knee is not a check. */
  readonly knee?: KneeFile | undefined;
  /** The config's `name`, recorded so runs of one config can be compared. */
  readonly name?: string | undefined;
  /** The config's `properties`, applied to the built-in catalogue. */
  readonly properties?: PropertiesConfig | undefined;
}

/** Reads a run's results directory and returns its certification (the caller writes it). */
export async function certifyRun(options: CertifyRunOptions): Promise<Certification> {
  return certifyChecks({ ...options, ...(await readCheckResults(options.resultsDir)) });
}

interface CertifyChecksOptions extends Omit<CertifyRunOptions, 'resultsDir'> {
  /** The checks read from the run's results directory (`readCheckResults`). */
  readonly checks: readonly CheckResult[];
  /** Result files that could not be read as checks; each one blocks. */
  readonly invalid: readonly string[];
}

/** The certification of checks already read from a results directory, for callers that also need the checks. */
export function certifyChecks(options: CertifyChecksOptions): Certification {
  const { checks, invalid } = options;
  const properties = evaluateProperties({
    checks,
    properties: resolveProperties(options.properties).properties,
    policy: options.policy,
    enabledStages: options.enabledStages,
    selectedStages: options.selectedStages,
  });
  const result = evaluateVerdict({
    checks,
    enabledStages: options.enabledStages,
    selectedStages: options.selectedStages,
    policy: options.policy,
    invalidResults: invalid,
  });
  return certificationSchema.parse({
    schemaVersion: CERTIFICATION_SCHEMA_VERSION,
    runId: options.runId,
    ...(options.name === undefined ? {} : { name: options.name }),
    partial: result.partial,
    verdict: result.verdict,
    startedAt: options.startedAt.toISOString(),
    finishedAt: options.finishedAt.toISOString(),
    seed: options.seed,
    git: { sha: options.git.sha, dirty: options.git.dirty },
    stagesNotRun: [...result.stagesNotRun],
    policyExceptions: result.policyExceptions.map((exception) => ({
      ...exception,
      value: typeof exception.value === 'object' ? [...exception.value] : exception.value,
    })),
    stages: mapStages((stage) => ({ ...result.stages[stage], notPassed: [...result.stages[stage].notPassed] })),
    criticalFailures: [...result.criticalFailures],
    notCovered: [...result.notCovered],
    figures: keyFigures({ checks, knee: options.knee, targets: options.figureTargets }),
    properties,
    propertyCoverage: propertyCoverage(properties),
    reasons: result.reasons.map((reason) => reason.text),
    score: result.score,
    exitCode: result.exitCode,
    crossCheck: { qualityGate: 'not-evaluated', policyVerdict: result.verdict },
    reportPath: options.reportPath,
    validUntil: isCertifying(result.verdict)
      ? new Date(options.finishedAt.getTime() + options.policy.validityDays * DAY_MS).toISOString()
      : null,
    invalidResults: [...invalid],
  } satisfies z.input<typeof certificationSchema>);
}

/**
 * The certification after Allure's quality gate read the same results: unchanged but for `crossCheck` when
 * the gate agrees; when it disagrees (or could not evaluate) the verdict is withdrawn: NOT_CERTIFIED (or
 * FAILED_PARTIAL), exit 3, no validity, with `why` as the first reason.
 */
export function applyQualityGate(
  cert: Certification,
  gate: { readonly agrees: boolean; readonly why: string },
): Certification {
  if (gate.agrees)
    return certificationSchema.parse({ ...cert, crossCheck: { ...cert.crossCheck, qualityGate: 'agrees' } });
  return certificationSchema.parse({
    ...cert,
    verdict: cert.partial ? 'FAILED_PARTIAL' : 'NOT_CERTIFIED',
    exitCode: EXIT.harness,
    validUntil: null,
    reasons: [gate.why, ...cert.reasons],
    crossCheck: { qualityGate: 'disagrees', policyVerdict: cert.crossCheck.policyVerdict },
  } satisfies z.input<typeof certificationSchema>);
}
