import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { HTTP_METHODS } from '../config/stages/security.ts';
import type { HttpMethod, HttpRequest } from './http.ts';

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
type JsonSchema = Readonly<Record<string, unknown>>;

interface OpenApiParameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required: boolean;
  readonly schema: JsonSchema;
}

interface OpenApiOperation {
  /** `POST /v1/orders`, as in `injection.exclude`. */
  readonly key: string;
  readonly method: HttpMethod;
  /** Path template, e.g. `/v1/orders/{id}`. */
  readonly path: string;
  readonly parameters: readonly OpenApiParameter[];
  /** JSON request body schema (refs resolved lazily through `resolve`). */
  readonly body: JsonSchema | undefined;
  /** Whether the operation declares a security requirement. */
  readonly secured: boolean;
}

interface OpenApiDocument {
  readonly operations: readonly OpenApiOperation[];
  /** Resolves a local `$ref` (`#/components/schemas/Order`). */
  readonly resolve: (schema: JsonSchema) => JsonSchema;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the operations of an OpenAPI 3.x document (JSON request bodies, path/query/header parameters). */
export function parseOpenApi(doc: unknown): OpenApiDocument {
  if (!isObject(doc)) throw new Error('not an OpenAPI document: not a JSON object');
  const version = doc['openapi'];
  if (typeof version !== 'string' || !version.startsWith('3.')) {
    throw new Error(
      `not an OpenAPI 3.x document: "openapi" is ${version === undefined ? 'missing' : JSON.stringify(version)}${doc['swagger'] === undefined ? '' : ' (Swagger 2.0 is not supported: convert it to OpenAPI 3)'}`,
    );
  }
  if (!isObject(doc['paths'])) throw new Error('not an OpenAPI document: no "paths" object');
  const root = doc;
  const resolve = (schema: JsonSchema, depth = 0): JsonSchema => {
    const ref = schema['$ref'];
    if (typeof ref !== 'string') return schema;
    if (!ref.startsWith('#/') || depth > 20) throw new Error(`unsupported $ref "${ref}"`);
    let target: unknown = root;
    for (const part of ref.slice(2).split('/')) {
      target = isObject(target) ? target[part.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined;
    }
    if (!isObject(target)) throw new Error(`$ref "${ref}" points nowhere`);
    return resolve(target, depth + 1);
  };
  const globalSecurity = Array.isArray(root['security']) && root['security'].length > 0;
  const operations: OpenApiOperation[] = [];
  for (const [path, item] of Object.entries(doc['paths'])) {
    if (!isObject(item)) continue;
    const shared: unknown[] = Array.isArray(item['parameters']) ? (item['parameters'] as unknown[]) : [];
    for (const method of HTTP_METHODS) {
      const op = item[method.toLowerCase()];
      if (!isObject(op)) continue;
      const parameters: OpenApiParameter[] = [];
      const own: unknown[] = Array.isArray(op['parameters']) ? (op['parameters'] as unknown[]) : [];
      for (const raw of [...shared, ...own]) {
        if (!isObject(raw)) continue;
        const p = resolve(raw);
        const where = p['in'];
        if (where !== 'path' && where !== 'query' && where !== 'header') continue;
        if (typeof p['name'] !== 'string') continue;
        parameters.push({
          name: p['name'],
          in: where,
          required: where === 'path' || p['required'] === true,
          schema: isObject(p['schema']) ? resolve(p['schema']) : { type: 'string' },
        });
      }
      const content = isObject(op['requestBody']) ? resolve(op['requestBody'])['content'] : undefined;
      const json = isObject(content) ? content['application/json'] : undefined;
      const body = isObject(json) && isObject(json['schema']) ? resolve(json['schema']) : undefined;
      const security = op['security'];
      operations.push({
        key: `${method} ${path}`,
        method,
        path,
        parameters,
        body,
        secured: Array.isArray(security) ? security.length > 0 : globalSecurity,
      });
    }
  }
  return { operations, resolve };
}

/** Whether a document file is read as YAML (by its extension) rather than JSON. */
const isYamlFile = (file: string): boolean => ['.yaml', '.yml'].includes(extname(file).toLowerCase());

/** An OpenAPI document as read (JSON value) and as parsed. */
export interface LoadedOpenApi {
  readonly raw: Readonly<Record<string, unknown>>;
  readonly document: OpenApiDocument;
}

/**
 * Reads an OpenAPI 3.x document from a file (YAML for `.yaml`/`.yml`, JSON otherwise); throws with
 * what is wrong (not JSON/YAML, not an OpenAPI 3.x document). Preflight and the stage both read it here.
 */
export async function readOpenApiFile(file: string): Promise<LoadedOpenApi> {
  const text = await readFile(file, 'utf8');
  const yaml = isYamlFile(file);
  let raw: unknown;
  try {
    raw = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    const first = (error as Error).message.split('\n')[0] ?? '';
    throw new Error(`is not valid ${yaml ? 'YAML' : 'JSON'}: ${first}`, { cause: error });
  }
  const document = parseOpenApi(raw);
  return { raw: raw as Readonly<Record<string, unknown>>, document };
}

function typeOf(schema: JsonSchema): string | undefined {
  const type = schema['type'];
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.find((t): t is string => typeof t === 'string' && t !== 'null');
  if (isObject(schema['properties'])) return 'object';
  return undefined;
}

function branch(schema: JsonSchema, resolve: (s: JsonSchema) => JsonSchema): JsonSchema {
  for (const key of ['oneOf', 'anyOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && isObject(options[0])) return resolve(options[0]);
  }
  const all = schema['allOf'];
  if (Array.isArray(all)) {
    return all.filter(isObject).reduce<JsonSchema>((acc, part) => {
      const r = resolve(part);
      return {
        ...acc,
        ...r,
        properties: {
          ...(isObject(acc['properties']) ? acc['properties'] : {}),
          ...(isObject(r['properties']) ? r['properties'] : {}),
        },
      };
    }, {});
  }
  return schema;
}

/** A plausible valid value for a schema: defaults and examples first, then the type's simplest value. */
function exampleFor(raw: JsonSchema, resolve: (s: JsonSchema) => JsonSchema, depth = 0): JsonValue {
  const schema = branch(resolve(raw), resolve);
  if (schema['default'] !== undefined) return schema['default'] as JsonValue;
  if (schema['example'] !== undefined) return schema['example'] as JsonValue;
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0] as JsonValue;
  switch (typeOf(schema)) {
    case 'string': {
      const format = schema['format'];
      if (format === 'email') return `probe-${randomUUID().slice(0, 8)}@example.test`;
      if (format === 'uuid') return randomUUID();
      if (format === 'date-time') return new Date().toISOString();
      if (format === 'date') return new Date().toISOString().slice(0, 10);
      if (format === 'uri') return 'https://example.test/';
      const min = typeof schema['minLength'] === 'number' ? schema['minLength'] : 1;
      return 'a'.repeat(Math.max(min, 4));
    }
    case 'integer':
    case 'number':
      return typeof schema['minimum'] === 'number' ? schema['minimum'] : 1;
    case 'boolean':
      return true;
    case 'array': {
      if (depth > 8 || !isObject(schema['items'])) return [];
      const count = Math.max(typeof schema['minItems'] === 'number' ? schema['minItems'] : 1, 1);
      const items = schema['items'];
      return Array.from({ length: count }, () => exampleFor(items, resolve, depth + 1));
    }
    case 'object': {
      if (depth > 8) return {};
      const properties = isObject(schema['properties']) ? schema['properties'] : {};
      return Object.fromEntries(
        Object.entries(properties)
          .filter((entry): entry is [string, Record<string, unknown>] => isObject(entry[1]))
          .map(([key, value]) => [key, exampleFor(value, resolve, depth + 1)]),
      );
    }
    case 'null':
      return null;
    case undefined:
    default:
      return 'a';
  }
}

/** Where a string field of a request lives: a parameter, or a path into the JSON body. */
type FieldRef =
  | { readonly in: 'path' | 'query' | 'header'; readonly name: string }
  | { readonly in: 'body'; readonly path: readonly (string | number)[] };

export function describeField(field: FieldRef): string {
  if (field.in !== 'body') return `${field.in} ${field.name}`;
  return `body ${field.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '')}`;
}

/** A request of an operation with every parameter and body field set to a plausible value. */
interface BaseRequest {
  readonly operation: OpenApiOperation;
  readonly params: Readonly<Record<'path' | 'query' | 'header', Readonly<Record<string, string>>>>;
  readonly body: JsonValue | undefined;
}

const SKIPPED_HEADERS = new Set(['authorization', 'content-type', 'accept', 'content-length']);

export function baseRequest(doc: OpenApiDocument, operation: OpenApiOperation): BaseRequest {
  const params: Record<'path' | 'query' | 'header', Record<string, string>> = { path: {}, query: {}, header: {} };
  for (const p of operation.parameters) {
    if (p.in === 'header' && SKIPPED_HEADERS.has(p.name.toLowerCase())) continue;
    const value = exampleFor(p.schema, doc.resolve);
    params[p.in][p.name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return { operation, params, body: operation.body ? exampleFor(operation.body, doc.resolve) : undefined };
}

/** Every string-typed field of an operation: parameters and JSON body leaves (into arrays' first item). */
export function stringFields(doc: OpenApiDocument, operation: OpenApiOperation): FieldRef[] {
  const fields: FieldRef[] = [];
  for (const p of operation.parameters) {
    if (p.in === 'header' && SKIPPED_HEADERS.has(p.name.toLowerCase())) continue;
    if (typeOf(branch(doc.resolve(p.schema), doc.resolve)) === 'string') fields.push({ in: p.in, name: p.name });
  }
  const walk = (raw: JsonSchema, at: (string | number)[], depth: number): void => {
    if (depth > 8) return;
    const schema = branch(doc.resolve(raw), doc.resolve);
    const type = typeOf(schema);
    if (type === 'string') fields.push({ in: 'body', path: at });
    else if (type === 'array' && isObject(schema['items'])) walk(schema['items'], [...at, 0], depth + 1);
    else if (type === 'object' && isObject(schema['properties'])) {
      for (const [key, value] of Object.entries(schema['properties'])) {
        if (isObject(value)) walk(value, [...at, key], depth + 1);
      }
    }
  };
  if (operation.body) walk(operation.body, [], 0);
  return fields;
}

function setIn(value: JsonValue | undefined, path: readonly (string | number)[], next: string): JsonValue {
  const [head, ...rest] = path;
  if (head === undefined) return next;
  if (typeof head === 'number') {
    const list = Array.isArray(value) ? [...value] : [];
    list[head] = setIn(list[head], rest, next);
    return list;
  }
  const object = value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...value } : {};
  object[head] = setIn(object[head], rest, next);
  return object;
}

/** The base request with one string field replaced, rendered for the HTTP client. */
export function renderRequest(base: BaseRequest, field?: FieldRef, value?: string): HttpRequest {
  const params = { path: { ...base.params.path }, query: { ...base.params.query }, header: { ...base.params.header } };
  let body = base.body;
  if (field && value !== undefined) {
    if (field.in === 'body') body = setIn(body, field.path, value);
    else params[field.in][field.name] = value;
  }
  const path = base.operation.path.replace(/\{([^}]+)\}/g, (whole, name: string) => {
    const v = params.path[name];
    return v === undefined ? whole : encodeURIComponent(v);
  });
  const query = new URLSearchParams(params.query).toString();
  return {
    method: base.operation.method,
    path: query === '' ? path : `${path}?${query}`,
    headers: { ...params.header, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}
