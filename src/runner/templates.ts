/** A JSON value, as config templates and API answers are. */
export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

const TOKEN = /\{\{([^{}]*)\}\}/g;
const WHOLE = /^\{\{([^{}]*)\}\}$/;

/** Encodings a placeholder may apply after `|`: `{{password | url}}`, `{{username + ":" + password | base64}}`. */
const TEMPLATE_FILTERS = {
  base64: (text: string): string => Buffer.from(text, 'utf8').toString('base64'),
  base64url: (text: string): string => Buffer.from(text, 'utf8').toString('base64url'),
  url: (text: string): string => encodeURIComponent(text),
} as const satisfies Record<string, (text: string) => string>;

const isFilter = (name: string): name is keyof typeof TEMPLATE_FILTERS => Object.hasOwn(TEMPLATE_FILTERS, name);

/** A v4-shaped UUID from a seeded random source, so test data replays from the run seed. */
export function seededUuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Fills `{{...}}` placeholders of a JSON template. A placeholder is one or more terms joined by
 * `+` (a variable name, `"literal"`, `uuid`, `pick:a,b,c`), then optional filters after `|`
 * (`base64`, `base64url`, `url`): `{{username + ":" + password | base64}}`. A string that is
 * exactly one placeholder of a numeric variable, without filters, becomes that number
 * (`"{{seq}}"` -> 7). Built in: `{{uuid}}` (seeded) and `{{pick:a,b,c}}` (seeded choice). An
 * unknown name or filter throws, so a typo never sends a literal `{{x}}`.
 */
export function renderTemplate(
  template: Json,
  vars: Readonly<Record<string, string | number>>,
  random: () => number,
): Json {
  const term = (raw: string): string | number => {
    const text = raw.trim();
    const literal = /^"((?:[^"\\]|\\.)*)"$/.exec(text);
    if (literal) return JSON.parse(`"${literal[1] ?? ''}"`) as string;
    const colon = text.indexOf(':');
    const name = colon === -1 ? text : text.slice(0, colon).trim();
    const arg = colon === -1 ? undefined : text.slice(colon + 1);
    if (name === 'uuid') return seededUuid(random);
    if (name === 'pick') {
      const options = (arg ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (options.length === 0) throw new Error('{{pick:...}} needs a comma-separated list');
      return options[Math.floor(random() * options.length)] ?? '';
    }
    const v = Object.hasOwn(vars, name) ? vars[name] : undefined;
    if (v === undefined)
      throw new Error(`unknown template placeholder {{${name}}} (known: ${Object.keys(vars).join(', ')}, uuid, pick)`);
    return v;
  };
  /** The value of one placeholder's inside; a lone term without filters keeps its type. */
  const expression = (inside: string): string | number => {
    const [head = '', ...filters] = splitOutsideQuotes(inside, '|');
    const terms = splitOutsideQuotes(head, '+').map(term);
    let value: string | number = terms.length === 1 ? (terms[0] ?? '') : terms.map(String).join('');
    for (const raw of filters) {
      const filter = raw.trim();
      if (!isFilter(filter))
        throw new Error(
          `unknown template filter "| ${filter}" in {{${inside}}} (known: ${Object.keys(TEMPLATE_FILTERS).join(', ')})`,
        );
      value = TEMPLATE_FILTERS[filter](String(value));
    }
    return value;
  };
  const walk = (node: Json): Json => {
    if (typeof node === 'string') {
      const whole = WHOLE.exec(node);
      if (whole) return expression(whole[1] ?? '');
      return node.replace(TOKEN, (_m, inside: string) => String(expression(inside)));
    }
    if (Array.isArray(node)) return (node as readonly Json[]).map(walk);
    if (node !== null && typeof node === 'object')
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    return node;
  };
  return walk(template);
}

/** Fills the placeholders of one string template (see `renderTemplate`); the result is always text. */
export function renderString(
  template: string,
  vars: Readonly<Record<string, string | number>>,
  random: () => number,
): string {
  const value = renderTemplate(template, vars, random);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Splits on a separator that is not inside a double-quoted literal. */
function splitOutsideQuotes(text: string, separator: '+' | '|'): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i] ?? '';
    if (ch === '\\' && quoted) {
      current += ch + (text[i + 1] ?? '');
      i += 1;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === separator && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

/** The value at a dotted path (`items.0.qty`) of a JSON value, or undefined. */
export function getPath(value: unknown, path: string): unknown {
  let node: unknown = value;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Decodes a link hello: `hex:...` or text. */
export function helloBytes(send: string): Buffer {
  return send.startsWith('hex:') ? Buffer.from(send.slice(4), 'hex') : Buffer.from(send, 'utf8');
}
