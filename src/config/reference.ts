import { z } from 'zod';
import { configSchema } from './schema.ts';

/** A JSON Schema node as zod emits it (only the keywords the reference reads). */
interface JsonSchemaNode {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchemaNode>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchemaNode;
  readonly propertyNames?: JsonSchemaNode;
  readonly items?: JsonSchemaNode;
  readonly anyOf?: readonly JsonSchemaNode[];
  readonly oneOf?: readonly JsonSchemaNode[];
  readonly allOf?: readonly JsonSchemaNode[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly default?: unknown;
  readonly description?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly minLength?: number;
  readonly minItems?: number;
  readonly pattern?: string;
  readonly $ref?: string;
  readonly $defs?: Readonly<Record<string, JsonSchemaNode>>;
}

/** Where the generated reference and JSON Schema live, relative to the package root. */
export const CONFIG_REFERENCE_FILE = 'docs/config-reference.md';
export const CONFIG_JSON_SCHEMA_FILE = 'docs/config.schema.json';

/** The JSON Schema of `readiness.config.ts` as a user writes it (zod's input side), for editors and the reference. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'readiness.config.ts',
    description: 'The config of a readiness run: `export default defineConfig({ ... })`.',
  };
}

/** One row of the reference: a dotted key, its type, default, constraints and description. */
interface ReferenceRow {
  readonly key: string;
  readonly type: string;
  readonly required: boolean;
  readonly default: string;
  readonly constraints: string;
  readonly description: string;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** The definitions zod emits are recursive JSON values (templates, bodies): named, never expanded. */
const JSON_VALUE = 'JSON value';

function variants(node: JsonSchemaNode): readonly JsonSchemaNode[] | undefined {
  return node.anyOf ?? node.oneOf;
}

function typeOf(n: JsonSchemaNode): string {
  if (n.$ref !== undefined) return JSON_VALUE;
  if (n.const !== undefined) return JSON.stringify(n.const);
  if (n.enum !== undefined) return n.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = variants(n);
  if (union !== undefined) return [...new Set(union.map((v) => typeOf(v)))].join(' | ');
  if (n.type === 'array') {
    const items = n.items ? typeOf(n.items) : 'unknown';
    return items.includes(' | ') ? `(${items})[]` : `${items}[]`;
  }
  if (n.type === 'object') {
    if (n.properties !== undefined) return 'object';
    if (typeof n.additionalProperties === 'object') return `record of ${typeOf(n.additionalProperties)}`;
    return 'object';
  }
  if (n.type === undefined) return 'any';
  return typeof n.type === 'string' ? n.type : n.type.join(' | ');
}

function constraintsOf(node: JsonSchemaNode): string {
  const parts: string[] = [];
  if (node.minimum !== undefined && node.minimum > -MAX_SAFE) parts.push(`>= ${node.minimum.toString()}`);
  if (node.exclusiveMinimum !== undefined) parts.push(`> ${node.exclusiveMinimum.toString()}`);
  if (node.maximum !== undefined && node.maximum < MAX_SAFE) parts.push(`<= ${node.maximum.toString()}`);
  if (node.minLength !== undefined && node.minLength > 0) parts.push(`length >= ${node.minLength.toString()}`);
  if (node.minItems !== undefined && node.minItems > 0) parts.push(`items >= ${node.minItems.toString()}`);
  if (node.pattern !== undefined) parts.push(`matches \`${node.pattern}\``);
  return parts.join(', ');
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function discriminant(variant: JsonSchemaNode): string | undefined {
  for (const [key, prop] of Object.entries(variant.properties ?? {})) {
    if (prop.const !== undefined) return `${key} = ${JSON.stringify(prop.const)}`;
  }
  return undefined;
}

const MAX_DEPTH = 12;

function walk(n: JsonSchemaNode, key: string, required: boolean, rows: ReferenceRow[], depth: number): void {
  rows.push({
    key,
    type: typeOf(n),
    required,
    default: n.default === undefined ? '' : JSON.stringify(n.default),
    constraints: constraintsOf(n),
    description: n.description ?? '',
  });
  if (n.$ref !== undefined || depth > MAX_DEPTH) return;
  if (n.type === 'array' && n.items !== undefined) walkChildren(n.items, `${key}[]`, rows, depth);
  else walkChildren(n, key, rows, depth);
}

/** The keys of one variant of a union, labelled by its discriminant (`health (kind = "http").path`). */
function walkVariant(v: JsonSchemaNode, key: string, rows: ReferenceRow[], depth: number): void {
  const when = discriminant(v);
  const at = when === undefined ? key : `${key} (${when})`;
  for (const [name, prop] of Object.entries(v.properties ?? {})) {
    if (when !== undefined && prop.const !== undefined) continue;
    walk(prop, `${at}.${name}`, v.required?.includes(name) ?? false, rows, depth + 1);
  }
}

function walkChildren(n: JsonSchemaNode, key: string, rows: ReferenceRow[], depth: number): void {
  const union = variants(n);
  if (union !== undefined) {
    for (const v of union) walkVariant(v, key, rows, depth);
    return;
  }
  const prefix = key === '' ? '' : `${key}.`;
  for (const [name, prop] of Object.entries(n.properties ?? {})) {
    walk(prop, `${prefix}${name}`, n.required?.includes(name) ?? false, rows, depth + 1);
  }
  if (typeof n.additionalProperties === 'object') {
    walkChildren(n.additionalProperties, `${prefix}<name>`, rows, depth + 1);
  }
}

/** Every key of the config with its type, default and constraints, in schema order. */
export function configReferenceRows(schema: JsonSchemaNode = configJsonSchema()): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  walkChildren(schema, '', rows, 0);
  return rows;
}

/** The config reference as Markdown (docs/config-reference.md), generated from the zod schema. */
export function renderConfigReference(rows: readonly ReferenceRow[] = configReferenceRows()): string {
  const lines = [
    '# Config reference',
    '',
    '<!-- Generated from the zod schema by `npm run docs:config`; a unit test fails when it is stale. -->',
    '',
    'Every key of `readiness.config.ts` (`export default defineConfig({ ... })`), as the schema',
    'validates it: unknown keys are errors (exit 2, one line per problem naming the file and key). The',
    'same schema ships as JSON Schema in the package (`readiness/config.schema.json`) for editors.',
    '`<name>` stands for a key you choose (a service name, a provider name). Relative paths resolve',
    "against the config's folder.",
    '',
  ];
  let section = '';
  for (const row of rows) {
    const top = row.key.split(/[.[ ]/)[0] ?? row.key;
    if (top !== section) {
      section = top;
      lines.push(
        '',
        `## \`${section}\``,
        '',
        '| key | type | required | default | constraints |',
        '| --- | --- | --- | --- | --- |',
      );
    }
    const description = row.description === '' ? '' : ` — ${row.description}`;
    lines.push(
      `| \`${cell(row.key)}\`${cell(description)} | ${cell(row.type)} | ${row.required ? 'yes' : ''} | ${cell(row.default === '' ? '' : `\`${row.default}\``)} | ${cell(row.constraints)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
