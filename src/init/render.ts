import type { ReadinessConfigInput } from '../config/schema.ts';
import type { Stage } from '../core/stage.ts';
import type { InitPlan, PlanNote } from './to-config.ts';

const WIDTH = 120;
const INDENT = '  ';

/** What each stage left out of the generated config needs before it can be listed in `stages`. */
const STAGE_TODOS: Readonly<Record<Exclude<Stage, 'boot'>, readonly string[]>> = {
  contract: [
    'contract: Pact verification of your committed pacts against the running providers.',
    "Fill in `contract: { pactDir: 'contracts/pacts', providers: { <name>: { service, port, states } } }`,",
    "then add 'contract' to stages. A listed provider without a pact is unknown, never passed.",
  ],
  security: [
    'security: native checks (headers, authn, RBAC, injection, rate limit) and scanners on one HTTP service.',
    'Fill in `security: { target: { service, port }, rulesFile, auth: { probe }, ... }` (who it acts as comes from',
    "the top-level `auth`: principals with roles, and `auth.disposable` for throwaway users), then add 'security' to stages.",
  ],
  load: [
    'load: k6 scenarios with SLO thresholds (p95, p99, error rate) against one service.',
    'Fill in `load: { script, target: { service, port }, slo, scenarios: [...] }` with a k6 script of your own,',
    "then add 'load' to stages.",
  ],
  chaos: [
    'chaos: Toxiproxy and container faults on the links above, each with steady state, proof and recovery.',
    "Fill in `chaos: { experimentsDir: 'scenarios/chaos', target: { service, port }, ... }` and write experiments",
    "with defineExperiment, then add 'chaos' to stages.",
  ],
  recovery: [
    'recovery: backup/restore (RTO, RPO), crash under load and rolling-restart drills.',
    'Fill in `recovery: { target, ledger, backup | crash | rolling }` for the drills that apply,',
    "then add 'recovery' to stages.",
  ],
};

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}'`;
}

function key(name: string): string {
  return IDENTIFIER.test(name) ? name : quote(name);
}

function number(value: number, name: string | undefined): string {
  // Durations group thousands as the reference config does (60_000); ports and counts stay plain.
  const grouped = name?.endsWith('Ms') === true && Number.isInteger(value) && Math.abs(value) >= 10_000;
  return grouped ? String(value).replace(/\B(?=(\d{3})+(?!\d))/g, '_') : String(value);
}

/** A value as TypeScript source: inline when it fits the line, else one entry per line. */
export function literal(value: unknown, indent: string, room: number, expand = false, name?: string): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') return number(value, name);
  if (typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'undefined';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const inline = `[${value.map((v) => literal(v, indent, WIDTH)).join(', ')}]`;
    // Prettier breaks an array of two or more objects (or arrays) that each have more than one entry.
    const isTable =
      value.length > 1 && value.every((v: unknown) => v !== null && typeof v === 'object' && Object.keys(v).length > 1);
    if (!expand && !isTable && !inline.includes('\n') && inline.length <= room) return inline;
    const inner = indent + INDENT;
    return `[\n${value.map((v) => `${inner}${literal(v, inner, WIDTH - inner.length - 1)},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  const inline = `{ ${entries.map(([k, v]) => `${key(k)}: ${literal(v, indent, WIDTH, false, k)}`).join(', ')} }`;
  if (!expand && !inline.includes('\n') && inline.length <= room) return inline;
  const inner = indent + INDENT;
  return `{\n${entries
    .map(([k, v]) => {
      const head = `${inner}${key(k)}: `;
      return `${head}${literal(v, inner, WIDTH - head.length - 1, false, k)},`;
    })
    .join('\n')}\n${indent}}`;
}

function comment(indent: string, lines: readonly string[]): string {
  // A value quoted in a note may hold a line break; a comment must stay on its line.
  return lines.map((l) => `${indent}// ${l.replace(/[\r\n\u2028\u2029]+/g, ' ')}`.trimEnd()).join('\n');
}

function noteLine(kind: 'TODO' | 'Note', note: PlanNote): string {
  return `${kind} (${note.key}): ${note.message}`;
}

function renderServices(config: ReadinessConfigInput, plan: InitPlan): string {
  const indent = INDENT.repeat(2);
  const blocks = Object.entries(config.services).map(([id, service]) => {
    const notes = [
      ...plan.todos.filter((t) => t.service === id).map((t) => noteLine('TODO', t)),
      ...plan.warnings.filter((w) => w.service === id).map((w) => noteLine('Note', w)),
    ];
    const head = `${indent}${key(id)}: `;
    const body = `${head}${literal(service, indent, WIDTH - head.length - 1, true)},`;
    return notes.length > 0 ? `${comment(indent, notes)}\n${body}` : body;
  });
  return `${INDENT}services: {\n${blocks.join('\n')}\n${INDENT}},`;
}

/**
 * The generated `readiness.config.ts`: the config with a TODO comment at each place that needs a
 * hand, only `boot` enabled, and every other stage described in comments but left out.
 */
export function renderConfig(plan: InitPlan, options: { readonly source?: string } = {}): string {
  const { config } = plan;
  const general = [
    ...plan.todos.filter((t) => t.service === undefined).map((t) => noteLine('TODO', t)),
    ...plan.warnings.filter((w) => w.service === undefined).map((w) => noteLine('Note', w)),
  ];
  const header = [
    `Generated by \`readiness init${options.source ? ` --from ${options.source}` : ''}\`. Read it, then fill in every TODO.`,
    'Until a TODO is done its check stays unknown, never passed: a service without a health check is unknown',
    'at boot, and a stage is run only once it is listed in `stages` with its section filled in.',
  ];
  const parts: string[] = [
    comment('', header),
    "import { defineConfig } from 'readiness';",
    '',
    'export default defineConfig({',
  ];
  if (general.length > 0) parts.push(comment(INDENT, general));
  parts.push(`${INDENT}name: ${quote(config.name)},`);
  parts.push(comment(INDENT, ['Only boot runs until another stage is configured below; then add it here.']));
  parts.push(`${INDENT}stages: ${literal(config.stages ?? ['boot'], INDENT, WIDTH)},`);
  parts.push(renderServices(config, plan));
  if (config.links && config.links.length > 0) {
    parts.push(
      comment(INDENT, [
        'Toxiproxy sits in front of each link: clients keep the host name they use, the proxy takes it over.',
        'TODO: add a link for every other dependency your services call (HTTP APIs included).',
      ]),
    );
    parts.push(`${INDENT}links: ${literal(config.links, INDENT, WIDTH - 10, true)},`);
  } else {
    parts.push(
      comment(INDENT, [
        'TODO: no datastore was recognised, so there is no Toxiproxy link yet; add { service, port } for each',
        'dependency whose loss your services must survive: links: [{ service: <id>, port: <port> }],',
      ]),
    );
  }
  parts.push(`${INDENT}boot: {`);
  parts.push(
    comment(INDENT.repeat(2), [
      'TODO: readiness must tell the truth. For each service with a readiness endpoint, name the link whose',
      "loss must turn it non-2xx, e.g. { service: 'api', port: 8080, path: '/health/ready', link: 'postgres' }.",
    ]),
  );
  parts.push(`${INDENT.repeat(2)}readinessTruth: [],`);
  parts.push(`${INDENT}},`);
  parts.push(
    comment(INDENT, [
      'TODO auth: who the stages act as (docs/auth.md). Name each principal with its scheme: none, bearer (a token or',
      'a JSON login), apiKey (any header), basic, cookie (a form or JSON login) or oauth2 (client credentials), e.g.',
      "auth: { principals: { admin: { scheme: 'basic', username: 'admin', password: { fromServiceEnv: { service, key } },",
      "role: 'admin' } }, disposable: { like: 'admin', signupAs: 'admin', signup: { path: '/users', body: {...} } } }.",
    ]),
  );
  for (const [first = '', ...rest] of Object.values(STAGE_TODOS))
    parts.push(comment(INDENT, [`TODO ${first}`, ...rest]));
  parts.push(`${INDENT}policy: ${literal(config.policy, INDENT, WIDTH - 10)},`);
  parts.push('});', '');
  return parts.join('\n');
}
