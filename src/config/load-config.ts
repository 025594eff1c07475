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

export const DEFAULT_CONFIG_FILE = 'readiness.config.ts';

function formatPath(path: readonly PropertyKey[]): string {
  return (
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '') || '(root)'
  );
}

function received(issue: z.core.$ZodIssue): string {
  // Custom issues sit on a parent object: echoing all of it says nothing.
  if (issue.code === 'custom' || !('input' in issue) || issue.input === undefined) return '';
  const text = JSON.stringify(issue.input);
  return ` (received ${text && text.length > 60 ? `${text.slice(0, 57)}...` : text})`;
}

function fixFor(issue: z.core.$ZodIssue): string {
  if (issue.code === 'too_big' && issue.origin === 'number' && issue.maximum === 1) return '; use a ratio such as 0.95';
  if (issue.code === 'invalid_type' && issue.expected !== 'undefined') {
    return `; use ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
  }
  return '';
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
    lines.push(`${file}: ${formatPath(issue.path)} ${issue.message}${received(issue)}${fixFor(issue)}`);
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
