import { z } from 'zod';

/**
 * The JSON report of the Pact verifier (pact_ffi `pactffi_verifier_json`), which pact-js 17
 * resolves `verifyProvider()` with on success and rejects with as the error message on failure.
 * `interactionResults` has one entry per verified interaction: the per-interaction verdict.
 */
const mismatchItemSchema = z.object({
  type: z.string(),
  mismatch: z.string().optional(),
  path: z.string().optional(),
  key: z.string().optional(),
  expected: z.unknown().optional(),
  actual: z.unknown().optional(),
});

const mismatchResultSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('mismatches'), mismatches: z.array(mismatchItemSchema).default([]) }),
  z.object({ type: z.literal('error'), message: z.string().default('') }),
]);
type MismatchResult = z.infer<typeof mismatchResultSchema>;

const interactionResultSchema = z.object({
  consumer: z.string(),
  provider: z.string(),
  description: z.string(),
  providerStates: z.array(z.string()).default([]),
  pending: z.boolean().default(false),
  result: z.enum(['OK', 'Error']),
  duration: z.string().optional(),
  mismatch: mismatchResultSchema.optional(),
});
type InteractionResult = z.infer<typeof interactionResultSchema>;

const verifierReportSchema = z.object({
  result: z.boolean(),
  interactionResults: z.array(interactionResultSchema).default([]),
  errors: z.array(z.object({ interaction: z.string(), mismatch: mismatchResultSchema.optional() })).default([]),
  pendingErrors: z.array(z.object({ interaction: z.string(), mismatch: mismatchResultSchema.optional() })).default([]),
  notices: z.array(z.unknown()).default([]),
  output: z.array(z.string()).default([]),
});
type VerifierReport = z.infer<typeof verifierReportSchema>;

/** Parses the verifier's JSON report; undefined when the text is not one (a crash, a usage error). */
export function parseVerifierReport(text: string): VerifierReport | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = verifierReportSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** Text without terminal colour codes. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** The verifier's console output (what `pact verify` prints), uncoloured. */
export function reportOutput(report: VerifierReport): string {
  return stripAnsi(report.output.join('\n')).trim();
}

const show = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** One line per mismatch, in Pact's words: `body $: Actual map is missing the following keys: totalCents`. */
export function describeMismatch(mismatch: MismatchResult): string[] {
  if (mismatch.type === 'error') return [`error: ${mismatch.message}`];
  return mismatch.mismatches.map((m) => {
    const where =
      m.type === 'BodyMismatch'
        ? `body ${m.path ?? '$'}`
        : m.type === 'HeaderMismatch'
          ? `header ${m.key ?? ''}`
          : m.type === 'StatusMismatch'
            ? 'status'
            : m.type.replace(/Mismatch$/, '').toLowerCase();
    const text = m.mismatch ?? `expected ${show(m.expected)} but was ${show(m.actual)}`;
    return `${where}: ${stripAnsi(text)}`;
  });
}

/** The result for one interaction, matched by description and provider states. */
export function findInteractionResult(
  report: VerifierReport,
  interaction: { readonly consumer: string; readonly description: string; readonly providerStates: readonly string[] },
): InteractionResult | undefined {
  const candidates = report.interactionResults.filter(
    (r) => r.consumer === interaction.consumer && r.description === interaction.description,
  );
  return (
    candidates.find(
      (r) =>
        r.providerStates.length === interaction.providerStates.length &&
        r.providerStates.every((s, i) => s === interaction.providerStates[i]),
    ) ?? (candidates.length === 1 ? candidates[0] : undefined)
  );
}
