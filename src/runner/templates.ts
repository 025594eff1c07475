/** A JSON value, as config templates and API answers are. */
export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

const TOKEN = /\{\{\s*([a-zA-Z]+)(?::([^}]*))?\s*\}\}/g;
const WHOLE = /^\{\{\s*([a-zA-Z]+)(?::([^}]*))?\s*\}\}$/;

/** A v4-shaped UUID from a seeded random source, so test data replays from the run seed. */
export function seededUuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Fills `{{name}}` placeholders of a JSON template. A string that is exactly one placeholder of a
 * numeric variable becomes that number (`"{{seq}}"` -> 7). Built in: `{{uuid}}` (seeded) and
 * `{{pick:a,b,c}}` (seeded choice). An unknown name throws, so a typo never sends a literal `{{x}}`.
 */
export function renderTemplate(
  template: Json,
  vars: Readonly<Record<string, string | number>>,
  random: () => number,
): Json {
  const value = (name: string, arg: string | undefined): string | number => {
    if (name === 'uuid') return seededUuid(random);
    if (name === 'pick') {
      const options = (arg ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (options.length === 0) throw new Error('{{pick:...}} needs a comma-separated list');
      return options[Math.floor(random() * options.length)] ?? '';
    }
    const v = vars[name];
    if (v === undefined)
      throw new Error(`unknown template placeholder {{${name}}} (known: ${Object.keys(vars).join(', ')}, uuid, pick)`);
    return v;
  };
  const walk = (node: Json): Json => {
    if (typeof node === 'string') {
      const whole = WHOLE.exec(node);
      if (whole) return value(whole[1] ?? '', whole[2]);
      return node.replace(TOKEN, (_m, name: string, arg: string | undefined) => String(value(name, arg)));
    }
    if (Array.isArray(node)) return (node as readonly Json[]).map(walk);
    if (node !== null && typeof node === 'object')
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    return node;
  };
  return walk(template);
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
