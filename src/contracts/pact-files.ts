import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';

/** The part of a pact file (spec V2-V4) the stage reads; everything else is the verifier's business. */
const pactFileSchema = z.object({
  consumer: z.object({ name: z.string().min(1) }),
  provider: z.object({ name: z.string().min(1) }),
  interactions: z
    .array(
      z.object({
        description: z.string().min(1),
        type: z.string().optional(),
        pending: z.boolean().optional(),
        providerState: z.string().optional(),
        providerStates: z.array(z.object({ name: z.string() })).optional(),
      }),
    )
    .default([]),
  metadata: z
    .object({ pactSpecification: z.object({ version: z.string() }).partial().optional() })
    .partial()
    .optional(),
});

export interface PactInteraction {
  readonly description: string;
  /** Provider state names, in the order the consumer gave them. */
  readonly providerStates: readonly string[];
  /** V4 `pending: true`: the consumer says the provider need not satisfy it yet. */
  readonly pending: boolean;
  /** V4 interaction type; undefined before V4 (always HTTP then). */
  readonly type: string | undefined;
}

export interface PactFile {
  readonly file: string;
  readonly consumer: string;
  readonly provider: string;
  readonly specification: string | undefined;
  readonly interactions: readonly PactInteraction[];
}

export interface PactFileProblem {
  readonly file: string;
  readonly problem: string;
}

/** True for HTTP interactions, the kind the provider verifier replays against the stack. */
export function isHttpInteraction(interaction: Pick<PactInteraction, 'type'>): boolean {
  return interaction.type === undefined || interaction.type === 'Synchronous/HTTP';
}

/** Parses one pact file's text; throws with what is wrong. */
export function parsePactFile(file: string, text: string): PactFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${basename(file)} is not JSON: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const parsed = pactFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${basename(file)} is not a pact file: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`);
  }
  const pact = parsed.data;
  return {
    file,
    consumer: pact.consumer.name,
    provider: pact.provider.name,
    specification: pact.metadata?.pactSpecification?.version,
    interactions: pact.interactions.map((i) => ({
      description: i.description,
      providerStates: i.providerStates?.map((s) => s.name) ?? (i.providerState ? [i.providerState] : []),
      pending: i.pending ?? false,
      type: i.type,
    })),
  };
}

/**
 * Every `*.json` pact in a folder (not recursive), sorted by name. A missing folder is no pacts;
 * an unreadable or malformed file is a problem to report, never silently skipped.
 */
export async function readPactDir(dir: string): Promise<{ pacts: PactFile[]; problems: PactFileProblem[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { pacts: [], problems: [] };
    throw error;
  }
  const pacts: PactFile[] = [];
  const problems: PactFileProblem[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      pacts.push(parsePactFile(file, await readFile(file, 'utf8')));
    } catch (error) {
      problems.push({ file, problem: error instanceof Error ? error.message : String(error) });
    }
  }
  return { pacts, problems };
}
