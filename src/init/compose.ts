import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.ts';
import composeSpecSchema from './compose-spec.schema.json' with { type: 'json' };

/** A note on one key of the Compose file: something to do by hand (todo) or to know (warning). */
export interface InitNote {
  /** Dotted key path in the Compose file, e.g. `services.db.healthcheck.test`. */
  readonly key: string;
  readonly message: string;
}

/** A Compose file parsed, interpolated and validated against the Compose Specification's schema. */
export interface ComposeDocument {
  /** The file as the user named it, for messages. */
  readonly file: string;
  /** The interpolated document: it fits the Compose Specification's JSON schema. */
  readonly model: ComposeModel;
  /** Variables without a default, replaced by an empty string as Compose does when they are unset. */
  readonly todos: readonly InitNote[];
}

/** The parts of the Compose model that `init` reads; the schema has checked their shapes. */
interface ComposeModel {
  readonly name?: string;
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly [key: string]: unknown;
}

/** One service as the Compose Specification allows it (after interpolation). */
export interface ComposeService {
  readonly image?: string;
  readonly build?: string | ComposeBuild;
  readonly command?: string | readonly string[] | null;
  readonly entrypoint?: string | readonly string[] | null;
  readonly environment?: Readonly<Record<string, string | number | boolean | null>> | readonly string[];
  readonly env_file?: unknown;
  readonly ports?: readonly (number | string | ComposePortLong)[];
  readonly expose?: readonly (number | string)[];
  readonly healthcheck?: ComposeHealthcheck;
  readonly depends_on?: readonly string[] | Readonly<Record<string, { condition?: string; required?: boolean }>>;
  readonly tmpfs?: string | readonly string[];
  readonly [key: string]: unknown;
}

/** `build` in its long form. */
export interface ComposeBuild {
  readonly context?: string;
  readonly dockerfile?: string;
  readonly args?: Readonly<Record<string, string | number | boolean | null>> | readonly string[];
  readonly target?: string;
  readonly [key: string]: unknown;
}

/** A port in the long form (`target`, `published`, `protocol`). */
interface ComposePortLong {
  readonly target: number | string;
  readonly published?: number | string;
  readonly protocol?: string;
  readonly [key: string]: unknown;
}

/** A service's `healthcheck`; durations are Go durations such as `1m30s`. */
export interface ComposeHealthcheck {
  readonly test?: string | readonly string[];
  readonly disable?: boolean | string;
  readonly interval?: string;
  readonly timeout?: string;
  readonly retries?: number | string;
  readonly start_period?: string;
  readonly [key: string]: unknown;
}

/** `Array.isArray` that keeps the element type of a readonly array. */
export function isList<T>(value: T | readonly T[] | object | string | null | undefined): value is readonly T[] {
  return Array.isArray(value);
}

/** Dotted key path of a YAML/JSON path: `services.db.ports[0]`. */
export function dotted(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(root)';
}

let validator: ReturnType<Ajv['compile']> | undefined;
function validateSchema(document: unknown): readonly ErrorObject[] {
  if (!validator) {
    // The vendored schema names draft-07 by an https URL Ajv does not list; it is plain draft-07.
    const { $schema: _ignored, ...schema } = composeSpecSchema as Record<string, unknown>;
    validator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  return validator(document) ? [] : (validator.errors ?? []);
}

function received(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) return '';
  return ` (received ${text.length > 60 ? `${text.slice(0, 57)}...` : text})`;
}

function valueAt(document: unknown, pointer: readonly string[]): unknown {
  let node = document;
  for (const key of pointer) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Schema errors as one line per key: union branches merged, the most specific kept. */
function formatSchemaErrors(file: string, document: unknown, errors: readonly ErrorObject[]): string[] {
  const segments = (e: ErrorObject): string[] =>
    e.instancePath === ''
      ? []
      : e.instancePath
          .slice(1)
          .split('/')
          .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const path = (segs: readonly string[]): (string | number)[] =>
    segs.map((s, i) => (/^\d+$/.test(s) && Array.isArray(valueAt(document, segs.slice(0, i))) ? Number(s) : s));
  const byPath = new Map<string, ErrorObject[]>();
  for (const error of errors) {
    const list = byPath.get(error.instancePath) ?? [];
    list.push(error);
    byPath.set(error.instancePath, list);
  }
  const lines: string[] = [];
  for (const [pointer, list] of byPath) {
    // A union failure is explained by the branch errors at this path or below: keep those.
    const deeper = [...byPath.keys()].some((p) => p !== pointer && p.startsWith(`${pointer}/`));
    const first = list[0];
    if (!first) continue;
    const segs = segments(first);
    const key = dotted(path(segs));
    const value = valueAt(document, segs);
    for (const error of list.filter((e) => e.keyword === 'additionalProperties')) {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      lines.push(
        `${file}: ${dotted(path([...segs, extra]))} is not a Compose Specification key; remove it or check the spelling`,
      );
    }
    const types = [
      ...new Set(list.filter((e) => e.keyword === 'type').flatMap((e) => [(e.params as { type: string }).type].flat())),
    ];
    const others = list.filter((e) => !['additionalProperties', 'type', 'oneOf', 'anyOf', 'if'].includes(e.keyword));
    if (types.length > 0 && others.length === 0 && !deeper) {
      lines.push(`${file}: ${key} must be ${types.join(' or ')}${received(value)}`);
      continue;
    }
    for (const error of others) {
      if (error.keyword === 'enum') {
        const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v));
        lines.push(`${file}: ${key} must be one of ${allowed.join(', ')}${received(value)}`);
      } else if (error.keyword === 'required') {
        lines.push(`${file}: ${key} needs "${(error.params as { missingProperty: string }).missingProperty}"`);
      } else {
        lines.push(`${file}: ${key} ${error.message ?? 'is invalid'}${received(value)}`);
      }
    }
    if (types.length === 0 && others.length === 0 && !deeper && list.some((e) => e.keyword !== 'additionalProperties'))
      lines.push(`${file}: ${key} does not fit the Compose Specification${received(value)}`);
  }
  return [...new Set(lines)];
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*/;

/**
 * Compose interpolation with no variable set (init never reads the environment): `${VAR:-d}` and
 * `${VAR-d}` give their default, `$$` a dollar, `${VAR:+x}` nothing; `${VAR}`, `$VAR` and `${VAR:?e}`
 * give an empty string, as Compose does for an unset variable, and a TODO naming the variable.
 */
export function interpolate(text: string, onUnset: (name: string, required: string | undefined) => void): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c !== '$') {
      out += c;
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      let depth = 1;
      let j = i + 2;
      while (j < text.length && depth > 0) {
        if (text[j] === '{') depth += 1;
        else if (text[j] === '}') depth -= 1;
        if (depth > 0) j += 1;
      }
      const body = text.slice(i + 2, j);
      const name = VARIABLE.exec(body)?.[0];
      if (depth > 0 || !name) throw new Error(`invalid interpolation "${text.slice(i, j + 1)}"`);
      const rest = body.slice(name.length);
      const operator = /^(:-|-|:\?|\?|:\+|\+)?/.exec(rest)?.[0] ?? '';
      const argument = rest.slice(operator.length);
      if (operator === '' && argument !== '') throw new Error(`invalid interpolation "\${${body}}"`);
      if (operator === ':-' || operator === '-') out += interpolate(argument, onUnset);
      else if (operator === ':?' || operator === '?') onUnset(name, argument || `${name} is required`);
      else if (operator === '') onUnset(name, undefined);
      i = j + 1;
      continue;
    }
    const name = VARIABLE.exec(text.slice(i + 1))?.[0];
    if (!name) {
      out += '$';
      i += 1;
      continue;
    }
    onUnset(name, undefined);
    i += 1 + name.length;
  }
  return out;
}

function interpolateTree(
  node: unknown,
  path: (string | number)[],
  todos: InitNote[],
  problems: string[],
  file: string,
): unknown {
  if (typeof node === 'string') {
    try {
      return interpolate(node, (name, required) => {
        const key = dotted(path);
        if (todos.some((t) => t.key === key && t.message.startsWith(`\${${name}}`))) return;
        todos.push({
          key,
          message: required
            ? `\${${name}} is required (${required}) and init does not read the environment; set the value in the config`
            : `\${${name}} has no default and init does not read the environment; it became "" — set the value in the config`,
        });
      });
    } catch (error) {
      problems.push(`${file}: ${dotted(path)} has an ${error instanceof Error ? error.message : String(error)}`);
      return node;
    }
  }
  if (Array.isArray(node))
    return node.map((item: unknown, i) => interpolateTree(item, [...path, i], todos, problems, file));
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [
        k,
        k.startsWith('x-') ? v : interpolateTree(v, [...path, k], todos, problems, file),
      ]),
    );
  }
  return node;
}

/** Parses Compose YAML text; throws `ConfigError` with one line per problem naming the file and key. */
export function parseCompose(text: string, file: string): ComposeDocument {
  const document = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((e) => {
        const at = e.linePos?.[0];
        const message = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return `${file}: ${at ? `line ${at.line}, column ${at.col}: ` : ''}YAML ${message}`;
      }),
    );
  }
  const raw: unknown = document.toJS({ maxAliasCount: 1000 });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError([`${file}: (root) must be a mapping with "services"${received(raw)}`]);
  const todos: InitNote[] = [];
  const problems: string[] = [];
  const interpolated = interpolateTree(raw, [], todos, problems, file);
  if (problems.length > 0) throw new ConfigError(problems);
  const schemaProblems = formatSchemaErrors(file, interpolated, validateSchema(interpolated));
  if (schemaProblems.length > 0) throw new ConfigError(schemaProblems);
  const model = interpolated as ComposeModel;
  if (!('services' in model) || Object.keys(model.services).length === 0)
    throw new ConfigError([`${file}: services must declare at least one service`]);
  return { file, model, todos };
}

/** Reads and parses a Compose file (see `parseCompose`); a missing file is a `ConfigError`. */
export async function readCompose(path: string, display: string): Promise<ComposeDocument> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      [
        `${display}: ${code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? String(error)})`}; pass --from <compose file>`,
      ],
      { cause: error },
    );
  }
  return parseCompose(text, display);
}
