import { parseArgs } from 'node:util';
import { ConfigError, describeError } from '../core/errors.ts';

/** Every option of every command (each command reads those it knows). */
function cliOptions(configDefault: string) {
  return {
    config: { type: 'string', short: 'c', default: configDefault },
    stages: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean', default: false },
    'fail-fast': { type: 'boolean', default: false },
    handle: { type: 'string' },
    target: { type: 'string' },
    for: { type: 'string' },
    run: { type: 'string' },
    compare: { type: 'string' },
    open: { type: 'boolean', default: false },
    serve: { type: 'boolean', default: false },
    port: { type: 'string' },
    key: { type: 'string' },
    'require-signature': { type: 'boolean', default: false },
    from: { type: 'string' },
    out: { type: 'string', default: 'readiness.config.ts' },
    ci: { type: 'string' },
    force: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  } as const;
}

/** A command's arguments: option values and positionals. */
type CommandArgs = ReturnType<typeof parseCommandArgs>;
/** The option values of a command line. */
export type CommandValues = CommandArgs['values'];

/** Parses a command's arguments; a bad one is a usage error naming the command's help. */
export function parseCommandArgs(command: string, args: readonly string[], configDefault = 'readiness.config.ts') {
  try {
    return parseArgs({ args: [...args], allowPositionals: true, options: cliOptions(configDefault) });
  } catch (error) {
    throw new ConfigError([`${describeError(error)} (see readiness ${command} --help)`]);
  }
}

/** `--seed`: a non-negative safe integer, or undefined when not given. */
export function parseSeed(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new ConfigError([`--seed must be a non-negative integer (received "${text}")`]);
  return seed;
}

/** `--port`: an integer 0-65535, or undefined when not given. */
export function parsePort(text: string | undefined): number | undefined {
  const port = text === undefined ? undefined : Number(text);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
    throw new ConfigError([`--port must be an integer 0-65535 (received "${text ?? ''}")`]);
  return port;
}

/** `--stages a, b`: the stage names given, trimmed, empty ones dropped. */
export function parseStages(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
