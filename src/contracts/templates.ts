import { randomUUID } from 'node:crypto';

/** A JSON value, as config bodies and provider-state values are. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** What `{{...}}` can name: variables at the top, plus `params`, `principal`, `principals`. */
export type TemplateScope = Readonly<Record<string, Json | undefined>>;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}$/;

/** The value at a dotted path (`items.0.id`) of a JSON value, or undefined. */
export function valueAt(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) ? current[Number(key)] : (current as Record<string, unknown>)[key];
  }
  return current;
}

function lookup(expression: string, scope: TemplateScope): Json {
  if (expression === 'uuid') return randomUUID();
  const value = valueAt(scope, expression);
  if (value === undefined) {
    const known = Object.keys(scope).filter((k) => scope[k] !== undefined);
    throw new Error(`template names "{{${expression}}}", which is not set (known: ${known.join(', ') || 'nothing'})`);
  }
  return value as Json;
}

/**
 * Fills `{{name}}` placeholders in a string. A string that is exactly one placeholder keeps the
 * value's JSON type (`'{{params.amountCents}}'` -> 650); `{{uuid}}` is a fresh UUID each time.
 */
export function renderString(template: string, scope: TemplateScope): Json {
  const whole = WHOLE.exec(template);
  if (whole?.[1] !== undefined) return lookup(whole[1], scope);
  return template.replace(PLACEHOLDER, (_, expression: string) => {
    const value = lookup(expression, scope);
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/** `renderString` over every string of a JSON value (keys are left as they are). */
export function render(value: Json, scope: TemplateScope): Json {
  if (typeof value === 'string') return renderString(value, scope);
  if (Array.isArray(value)) return value.map((v) => render(v, scope));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, scope)]));
  }
  return value;
}

/** Renders a template that must produce text (a path, a header, a command argument). */
export function renderText(template: string, scope: TemplateScope): string {
  const value = renderString(template, scope);
  return typeof value === 'string' ? value : JSON.stringify(value);
}
