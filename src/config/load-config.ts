import { access } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { configSchema } from './schema.ts';
import type { ReadinessConfigOutput } from './schema.ts';

/** The validated config with defaults filled and paths absolute; nothing downstream re-validates. */
export type ResolvedConfig = ReadinessConfigOutput & {
  readonly configFile: string;
  readonly rootDir: string;
};

const DEFAULT_CONFIG_FILE = 'readiness.config.ts';

function formatPath(path: readonly PropertyKey[]): string {
  return (
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '') || '(root)'
  );
}

/** A value as a config line shows it: JSON, cut at 60 characters; a function or symbol by its type. */
function shown(value: unknown): string {
  const text = typeof value === 'function' || typeof value === 'symbol' ? undefined : JSON.stringify(value);
  if (text === undefined) return typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function received(issue: z.core.$ZodIssue): string {
  // Custom issues sit on a parent object: echoing all of it says nothing.
  if (issue.code === 'custom' || !('input' in issue) || issue.input === undefined) return '';
  return ` (received ${shown(issue.input)})`;
}

function fixFor(issue: z.core.$ZodIssue): string {
  if (issue.code === 'too_big' && issue.origin === 'number' && issue.maximum === 1) return '; use a ratio such as 0.95';
  return '';
}

const article = (noun: string): string => `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;

/** A bound in words for zod's own size messages ("Too small: expected ..."); undefined keeps the message. */
function boundText(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code !== 'too_small' && issue.code !== 'too_big') return undefined;
  if (!/^Too (small|big)/.test(issue.message)) return undefined;
  const small = issue.code === 'too_small';
  const bound = Number(small ? issue.minimum : issue.maximum);
  const op = `${small ? '>' : '<'}${issue.inclusive === false ? '' : '='}`;
  if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') return `must be ${op} ${bound}`;
  const unit = issue.origin === 'string' ? 'character' : 'item';
  if (small && bound === 1) return issue.origin === 'string' ? 'must not be empty' : 'must list at least one item';
  return `must have ${small ? 'at least' : 'at most'} ${bound} ${unit}${bound === 1 ? '' : 's'}`;
}

/** One line per problem: file, dotted key, what is wrong, what was received, the fix. */
export function formatIssues(file: string, issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        lines.push(`${file}: ${formatPath([...issue.path, key])} is not a known key; remove it or check the spelling`);
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      const why = issue.issues.map((i) => i.message).join('; ');
      lines.push(`${file}: ${formatPath(issue.path)} is not a valid key: ${why}${received(issue)}`);
      continue;
    }
    if (issue.code === 'invalid_type' && issue.expected !== 'undefined') {
      const expected = issue.expected === 'int' ? 'integer' : issue.expected;
      lines.push(
        issue.input === undefined
          ? `${file}: ${formatPath(issue.path)} is required (${article(expected)})`
          : `${file}: ${formatPath(issue.path)} must be ${article(expected)}${received(issue)}`,
      );
      continue;
    }
    if (issue.code === 'invalid_value' && /^Invalid (option|input)/.test(issue.message)) {
      const values = issue.values.map((v) => JSON.stringify(v));
      const want = values.length === 1 ? `must be ${values[0] ?? ''}` : `must be one of ${values.join(', ')}`;
      lines.push(`${file}: ${formatPath(issue.path)} ${want}${received(issue)}`);
      continue;
    }
    if (
      issue.code === 'invalid_union' &&
      issue.inclusive !== false &&
      issue.errors.length === 0 &&
      issue.discriminator !== undefined
    ) {
      // The discriminator (a `kind`) matched no variant: the issue's input is the parent object.
      const input = issue.input as Readonly<Record<string, unknown>> | undefined;
      const value = input?.[issue.discriminator];
      const options = (issue.options ?? []).map((o) => JSON.stringify(o)).join(', ');
      lines.push(
        `${file}: ${formatPath(issue.path)} must be one of ${options}${value === undefined ? '' : ` (received ${shown(value)})`}`,
      );
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // A discriminated union reports the branch problems; show the closest branch's.
      const branch = issue.errors.reduce((best, errs) => (errs.length < best.length ? errs : best));
      lines.push(
        ...formatIssues(
          file,
          branch.map((e) => ({ ...e, path: [...issue.path, ...e.path] })),
        ),
      );
      continue;
    }
    lines.push(
      `${file}: ${formatPath(issue.path)} ${boundText(issue) ?? issue.message}${received(issue)}${fixFor(issue)}`,
    );
  }
  return [...new Set(lines)];
}

/** Every problem of a config object, one line each, as `ConfigError` would list them; empty when it is valid. */
export function configProblems(raw: unknown, configFile: string): string[] {
  try {
    resolveConfig(raw, configFile);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

/** Validates a config object; throws `ConfigError` (exit 2) with every problem. */
export function resolveConfig(raw: unknown, configFile: string): ResolvedConfig {
  const display = relative(process.cwd(), configFile) || configFile;
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ConfigError(formatIssues(display, parsed.error.issues));
  const rootDir = dirname(configFile);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(rootDir, p));
  const config = parsed.data;
  return {
    ...config,
    services: Object.fromEntries(
      Object.entries(config.services).map(([id, s]) => [
        id,
        s.build ? { ...s, build: { ...s.build, context: abs(s.build.context) } } : s,
      ]),
    ),
    reportsDir: abs(config.reportsDir),
    suitesDir: abs(config.suitesDir),
    configFile,
    rootDir,
  };
}

/** Imports and validates a config file (TypeScript runs through Node's type stripping). */
export async function loadConfig(file = DEFAULT_CONFIG_FILE, cwd = process.cwd()): Promise<ResolvedConfig> {
  const configFile = resolve(cwd, file);
  const display = relative(cwd, configFile) || configFile;
  try {
    await access(configFile);
  } catch {
    throw new ConfigError([`${display}: file not found; pass --config <file> or create ${DEFAULT_CONFIG_FILE}`]);
  }
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(configFile).href)) as { default?: unknown };
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError([`${display}: cannot be loaded: ${why}`], { cause: error });
  }
  if (mod.default === undefined) {
    throw new ConfigError([`${display}: has no default export; write export default defineConfig({ ... })`]);
  }
  return resolveConfig(mod.default, configFile);
}
