import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import type { ReadinessConfigInput } from '../config/schema.ts';
import { ConfigError } from '../core/errors.ts';
import { dotted, isList } from './compose.ts';
import type { ComposeBuild, ComposeDocument, ComposeHealthcheck, ComposeService, InitNote } from './compose.ts';

type ServiceInput = ReadinessConfigInput['services'][string];
type HealthInput = NonNullable<ServiceInput['health']>;
type LinkInput = NonNullable<ReadinessConfigInput['links']>[number];

/** A note that belongs to one service of the generated config (or to the config as a whole). */
export interface PlanNote extends InitNote {
  /** The config's service id the note is about, when it is about one. */
  readonly service?: string;
}

/** The config to write, and what the user must still do (todos) or should know (warnings). */
export interface InitPlan {
  readonly config: ReadinessConfigInput;
  readonly todos: readonly PlanNote[];
  readonly warnings: readonly PlanNote[];
}

/** The datastores `init` recognises by image, with the port their clients use. */
const DATASTORES = [
  {
    kind: 'postgres',
    repository: /(^|\/)(postgres|postgresql|postgis|pgvector)$/,
    port: 5432,
    health: 'pg_isready -h 127.0.0.1',
  },
  { kind: 'mysql', repository: /(^|\/)mysql(-server)?$/, port: 3306, health: 'mysqladmin ping -h 127.0.0.1' },
  { kind: 'mariadb', repository: /(^|\/)mariadb$/, port: 3306, health: 'healthcheck.sh --connect' },
  { kind: 'redis', repository: /(^|\/)(redis|redis-stack-server|valkey)$/, port: 6379, health: 'redis-cli ping' },
  {
    kind: 'mongodb',
    repository: /(^|\/)(mongo|mongodb)$/,
    port: 27017,
    health: 'mongosh --quiet --eval "db.adminCommand(\'ping\')"',
  },
  { kind: 'rabbitmq', repository: /(^|\/)rabbitmq$/, port: 5672, health: 'rabbitmq-diagnostics -q ping' },
  {
    kind: 'kafka',
    repository: /^(confluentinc\/cp-kafka|bitnami\/kafka|apache\/kafka(-native)?)$/,
    port: 9092,
    health: undefined,
  },
  { kind: 'elasticsearch', repository: /(^|\/)(elasticsearch|opensearch)$/, port: 9200, health: undefined },
  { kind: 'memcached', repository: /(^|\/)memcached$/, port: 11211, health: undefined },
] as const;

/** The repository part of an image reference: no registry, tag, digest or `library/`. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const withoutTag = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  const parts = withoutTag.split('/');
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) parts.shift();
  if (parts[0] === 'library' && parts.length > 1) parts.shift();
  return parts.join('/').toLowerCase();
}

/** The datastore an image is, if `init` recognises it. */
export function recogniseDatastore(image: string): (typeof DATASTORES)[number] | undefined {
  const repository = imageRepository(image);
  return DATASTORES.find((d) => d.repository.test(repository));
}

/** A Compose service name as a config service id (lower-case letters, digits and dashes). */
function serviceId(name: string): string {
  const id = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  return /^[a-z]/.test(id) ? id : `s-${id}`;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/** A Compose (Go) duration such as `1m30s` in milliseconds; undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, value, , unit] of text.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
    total += Number(value) * (UNIT_MS[unit ?? 's'] ?? 0);
  return Math.round(total);
}

/** Splits a command string the way Compose does (shell words: quotes and backslashes, no expansion). */
export function shellWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] ?? '';
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && ['"', '\\', '$', '`'].includes(text[i + 1] ?? ''))
        word += text[++i] ?? '';
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i] ?? '';
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return undefined;
  if (inWord) words.push(word);
  return words;
}

/** Keys mapped to the config, or ignored on purpose because they do not change what runs. */
const MAPPED = new Set([
  'image',
  'build',
  'command',
  'environment',
  'env_file',
  'ports',
  'expose',
  'healthcheck',
  'depends_on',
  'tmpfs',
  'entrypoint',
  'profiles',
  'deploy',
  'volumes',
  'networks',
  'extends',
]);
const IGNORED = new Set([
  'container_name',
  'restart',
  'labels',
  'logging',
  'stdin_open',
  'tty',
  'pull_policy',
  'develop',
]);

/** The state one mapping run fills: notes and problems, with the Compose file named in each. */
class Notes {
  readonly todos: PlanNote[] = [];
  readonly warnings: PlanNote[] = [];
  readonly problems: string[] = [];
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }
  todo(key: string, message: string, service?: string): void {
    this.todos.push({ key, message, ...(service === undefined ? {} : { service }) });
  }
  warn(key: string, message: string, service?: string): void {
    this.warnings.push({ key, message, ...(service === undefined ? {} : { service }) });
  }
  problem(key: string, message: string): void {
    this.problems.push(`${this.file}: ${key} ${message}`);
  }
}

interface ServiceContext {
  readonly name: string;
  readonly id: string;
  readonly key: string;
  readonly notes: Notes;
}

function parsePortText(text: string, key: string, ctx: ServiceContext): number | undefined {
  const [spec = '', protocol = 'tcp'] = text.split('/');
  const container = spec.slice(spec.lastIndexOf(':') + 1);
  if (protocol !== 'tcp') {
    ctx.notes.warn(
      key,
      `${protocol.toUpperCase()} port ${container} is left out: readiness checks and proxies TCP`,
      ctx.id,
    );
    return undefined;
  }
  if (container.includes('-')) {
    ctx.notes.problem(key, `is a port range ("${text}"), which init does not expand; list the ports one by one`);
    return undefined;
  }
  const port = Number(container);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    ctx.notes.problem(key, `must name a container port 1-65535 (received "${text}")`);
    return undefined;
  }
  return port;
}

function mapPorts(service: ComposeService, ctx: ServiceContext): number[] {
  const ports: number[] = [];
  const add = (port: number | undefined): void => {
    if (port !== undefined && !ports.includes(port)) ports.push(port);
  };
  (service.ports ?? []).forEach((entry, i) => {
    const key = `${ctx.key}.ports[${i}]`;
    if (typeof entry === 'number') add(parsePortText(String(entry), key, ctx));
    else if (typeof entry === 'string') add(parsePortText(entry, key, ctx));
    else add(parsePortText(`${String(entry.target)}/${entry.protocol ?? 'tcp'}`, `${key}.target`, ctx));
  });
  (service.expose ?? []).forEach((entry, i) => {
    add(parsePortText(String(entry), `${ctx.key}.expose[${i}]`, ctx));
  });
  return ports;
}

function mapVariables(
  entries: ComposeService['environment'],
  key: string,
  ctx: ServiceContext,
): Record<string, string> {
  const out: Record<string, string> = {};
  const unset = (name: string, at: string): void => {
    ctx.notes.todo(at, `${name} takes its value from the shell in Compose; set the value in the config`, ctx.id);
    out[name] = '';
  };
  if (isList<string>(entries)) {
    entries.forEach((entry, i) => {
      const eq = entry.indexOf('=');
      if (eq < 0) unset(entry, `${key}[${i}]`);
      else out[entry.slice(0, eq)] = entry.slice(eq + 1);
    });
  } else if (entries) {
    for (const [name, value] of Object.entries(entries)) {
      if (value === null) unset(name, `${key}.${name}`);
      else out[name] = String(value);
    }
  }
  return out;
}

const HEALTH_DEFAULT_MS = 60_000;

/** The startup budget Compose itself would allow: start period plus retries × interval, else a minute. */
function healthBudgetMs(check: ComposeHealthcheck, ctx: ServiceContext): number {
  const read = (field: 'interval' | 'start_period'): number | undefined => {
    const value = check[field];
    if (value === undefined) return undefined;
    const ms = durationMs(value);
    if (ms === undefined)
      ctx.notes.problem(
        `${ctx.key}.healthcheck.${field}`,
        `must be a duration such as 10s or 1m30s (received "${value}")`,
      );
    return ms;
  };
  const interval = read('interval');
  const startPeriod = read('start_period');
  const retries = check.retries === undefined ? undefined : Number(check.retries);
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0))
    ctx.notes.problem(
      `${ctx.key}.healthcheck.retries`,
      `must be a whole number (received ${JSON.stringify(check.retries)})`,
    );
  if (interval === undefined && startPeriod === undefined && retries === undefined) return HEALTH_DEFAULT_MS;
  // Compose's defaults: 30 s interval, 3 retries, no start period.
  const budget = (startPeriod ?? 0) + (interval ?? 30_000) * (retries !== undefined && retries >= 0 ? retries : 3);
  return Math.max(10_000, Math.ceil(budget / 1_000) * 1_000);
}

function mapHealth(service: ComposeService, ports: readonly number[], ctx: ServiceContext): HealthInput | undefined {
  const check = service.healthcheck;
  const key = `${ctx.key}.healthcheck`;
  const disabled = check?.disable === true || check?.disable === 'true';
  const test = check?.test;
  const none = Array.isArray(test) && test[0] === 'NONE';
  if (check && !disabled && !none && test !== undefined) {
    const timeoutMs = healthBudgetMs(check, ctx);
    if (typeof test === 'string') return { kind: 'command', command: ['sh', '-c', test], timeoutMs };
    const [form, ...args] = test;
    if (form === 'CMD' && args.length > 0) return { kind: 'command', command: args, timeoutMs };
    if (form === 'CMD-SHELL' && args.length > 0)
      return { kind: 'command', command: ['sh', '-c', args.join(' ')], timeoutMs };
    ctx.notes.problem(
      `${key}.test`,
      `must start with "CMD", "CMD-SHELL" or "NONE" and name a command (received ${JSON.stringify(test)})`,
    );
    return undefined;
  }
  const why = check && (disabled || none) ? 'its Compose healthcheck is disabled' : 'it has no Compose healthcheck';
  const hint = service.image ? recogniseDatastore(service.image)?.health : undefined;
  const better = hint
    ? `declare a command health such as ['sh', '-c', '${hint}']`
    : 'declare health as an http path the service answers 2xx only when it is ready';
  const first = ports[0];
  if (first === undefined) {
    ctx.notes.todo(key, `${why} and no port: boot reports ${ctx.id} unknown until you ${better}`, ctx.id);
    return undefined;
  }
  ctx.notes.todo(
    key,
    `${why}: health is a TCP connect to port ${first}, which only proves the port is open; ${better}`,
    ctx.id,
  );
  return { kind: 'tcp', port: first, timeoutMs: HEALTH_DEFAULT_MS };
}

function relativePath(from: string, to: string): string {
  const path = relative(from, to) || '.';
  return path.startsWith('.') || isAbsolute(path) ? path : `.${sep}${path}`;
}

function mapBuild(
  build: string | ComposeBuild,
  ctx: ServiceContext,
  dirs: { readonly composeDir: string; readonly outDir: string },
): ServiceInput['build'] {
  const spec: ComposeBuild = typeof build === 'string' ? { context: build } : build;
  const key = typeof build === 'string' ? `${ctx.key}.build` : `${ctx.key}.build.context`;
  const context = spec.context ?? '.';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(context) || context.startsWith('git@')) {
    ctx.notes.problem(
      key,
      `is a remote build context ("${context}"); init maps local folders only: clone it and point build at the folder`,
    );
    return undefined;
  }
  const out: { context: string; dockerfile?: string; args?: Record<string, string> } = {
    context: relativePath(dirs.outDir, resolve(dirs.composeDir, context)),
  };
  if (spec.dockerfile !== undefined) out.dockerfile = spec.dockerfile;
  if (spec.args !== undefined) out.args = mapVariables(spec.args, `${ctx.key}.build.args`, ctx);
  if (spec['dockerfile_inline'] !== undefined)
    ctx.notes.problem(
      `${ctx.key}.build.dockerfile_inline`,
      'is not supported; write the Dockerfile to a file and name it in build.dockerfile',
    );
  if (spec.target !== undefined) {
    ctx.notes.todo(
      `${ctx.key}.build.target`,
      `the config builds the Dockerfile's last stage, not "${spec.target}": make that stage the last one or give ${ctx.id} a Dockerfile of its own`,
      ctx.id,
    );
  }
  for (const extra of Object.keys(spec).filter(
    (k) => !['context', 'dockerfile', 'args', 'target', 'dockerfile_inline'].includes(k),
  ))
    ctx.notes.warn(`${ctx.key}.build.${extra}`, 'is not mapped: the config has no equivalent', ctx.id);
  return out;
}

function mapCommand(service: ComposeService, ctx: ServiceContext): string[] | undefined {
  const command = service.command;
  if (command === undefined || command === null) return undefined;
  if (isList<string>(command)) return [...command];
  const words = shellWords(command);
  if (!words) ctx.notes.problem(`${ctx.key}.command`, `has an unclosed quote (received ${JSON.stringify(command)})`);
  return words;
}

function mapDependsOn(
  service: ComposeService,
  ctx: ServiceContext,
  ids: ReadonlyMap<string, string>,
): NonNullable<ServiceInput['dependsOn']> {
  const out: { service: string; until: 'healthy' | 'started' }[] = [];
  const depends = service.depends_on;
  if (!depends) return out;
  const entries: [string, { condition?: string; required?: boolean }][] = isList<string>(depends)
    ? depends.map((name): [string, { condition?: string }] => [name, { condition: 'service_started' }])
    : Object.entries(depends);
  entries.forEach(([name, spec], i) => {
    const key = isList<string>(depends) ? `${ctx.key}.depends_on[${i}]` : `${ctx.key}.depends_on.${name}`;
    const id = ids.get(name);
    if (id === undefined) {
      ctx.notes.problem(key, `names unknown service "${name}"`);
      return;
    }
    const condition = spec.condition ?? 'service_started';
    if (spec.required === false)
      ctx.notes.warn(`${key}.required`, `is false: readiness starts ${id} and waits for it all the same`, ctx.id);
    if (condition === 'service_healthy') out.push({ service: id, until: 'healthy' });
    else {
      if (condition === 'service_completed_successfully') {
        ctx.notes.todo(
          `${key}.condition`,
          `service_completed_successfully has no equivalent: readiness runs ${id} as a long-lived service and waits until it is started; run one-off jobs (migrations, seeds) from the service's own start-up`,
          ctx.id,
        );
      }
      out.push({ service: id, until: 'started' });
    }
  });
  return out;
}

function mapTmpfs(service: ComposeService): Record<string, string> {
  const list = service.tmpfs === undefined ? [] : typeof service.tmpfs === 'string' ? [service.tmpfs] : service.tmpfs;
  return Object.fromEntries(
    list.map((entry) => {
      const colon = entry.indexOf(':');
      return colon < 0 ? [entry, ''] : [entry.slice(0, colon), entry.slice(colon + 1)];
    }),
  );
}

function noteUnmapped(service: ComposeService, ctx: ServiceContext): void {
  const { notes, key, id } = ctx;
  if (service.entrypoint !== undefined && service.entrypoint !== null) {
    notes.todo(
      `${key}.entrypoint`,
      `the config has no entrypoint, so the image's own runs: put ${JSON.stringify(service.entrypoint)} into the image or into command`,
      id,
    );
  }
  if (service.env_file !== undefined) {
    notes.todo(
      `${key}.env_file`,
      `init does not read env files (${JSON.stringify(service.env_file)}): copy the variables ${id} needs into env`,
      id,
    );
  }
  if (service['profiles'] !== undefined)
    notes.warn(
      `${key}.profiles`,
      `${id} is included although Compose starts it only with profile ${JSON.stringify(service['profiles'])}; remove it if it is not part of the stack`,
      id,
    );
  const deploy = service['deploy'] as { replicas?: number } | undefined;
  if (deploy?.replicas !== undefined && deploy.replicas !== 1)
    notes.warn(
      `${key}.deploy.replicas`,
      `is ${deploy.replicas}: readiness starts one container; declare each replica as a service of its own`,
      id,
    );
  for (const other of Object.keys(deploy ?? {}).filter((k) => k !== 'replicas'))
    notes.warn(`${key}.deploy.${other}`, 'is not mapped: the config has no equivalent', id);
  if (service['volumes'] !== undefined)
    notes.warn(
      `${key}.volumes`,
      'are not mounted: each service runs on its image alone, and its data lives in the container for the run',
      id,
    );
  if (service['networks'] !== undefined)
    notes.warn(
      `${key}.networks`,
      'are not mapped: every service of the stack shares one network and is reached by its service id',
      id,
    );
  for (const other of Object.keys(service).filter((k) => !MAPPED.has(k) && !IGNORED.has(k) && !k.startsWith('x-')))
    notes.warn(`${key}.${other}`, 'is not mapped: the config has no equivalent', id);
}

function mapService(
  name: string,
  service: ComposeService,
  ctx: ServiceContext,
  ids: ReadonlyMap<string, string>,
  dirs: { readonly composeDir: string; readonly outDir: string },
): ServiceInput | undefined {
  if (service['extends'] !== undefined) {
    ctx.notes.problem(
      `${ctx.key}.extends`,
      'is not supported: write the service out in full (docker compose config prints it)',
    );
    return undefined;
  }
  if (service.image === undefined && service.build === undefined) {
    ctx.notes.problem(ctx.key, 'needs "image" or "build"');
    return undefined;
  }
  if (name !== ctx.id) {
    ctx.notes.todo(
      ctx.key,
      `is "${ctx.id}" in the config (ids are lower-case letters, digits and dashes), so other services reach it as ${ctx.id}, not ${name}: update the host names that point at it`,
      ctx.id,
    );
  }
  const ports = mapPorts(service, ctx);
  const datastore = service.image ? recogniseDatastore(service.image) : undefined;
  if (datastore && !ports.includes(datastore.port)) ports.push(datastore.port);
  const out: ServiceInput = {};
  if (service.build !== undefined) {
    const build = mapBuild(service.build, ctx, dirs);
    if (build) out.build = build;
    if (service.image !== undefined)
      ctx.notes.warn(
        `${ctx.key}.image`,
        `"${service.image}" only tags the image Compose builds; the config builds ${ctx.id} itself`,
        ctx.id,
      );
  } else if (service.image !== undefined) out.image = service.image;
  const command = mapCommand(service, ctx);
  if (command) out.command = command;
  const env = mapVariables(service.environment, `${ctx.key}.environment`, ctx);
  if (Object.keys(env).length > 0) out.env = env;
  if (ports.length > 0) out.ports = ports;
  const health = mapHealth(service, ports, ctx);
  if (health) out.health = health;
  const dependsOn = mapDependsOn(service, ctx, ids);
  if (dependsOn.length > 0) out.dependsOn = dependsOn;
  const tmpfs = mapTmpfs(service);
  if (Object.keys(tmpfs).length > 0) out.tmpfs = tmpfs;
  noteUnmapped(service, ctx);
  return out;
}

function mapLinks(
  services: Readonly<Record<string, ServiceInput>>,
  images: ReadonlyMap<string, string>,
  notes: Notes,
  keys: ReadonlyMap<string, string>,
): LinkInput[] {
  const links: LinkInput[] = [];
  for (const [id, image] of images) {
    const datastore = recogniseDatastore(image);
    if (!datastore || !services[id]) continue;
    const taken = links.find((l) => l.port === datastore.port);
    if (taken) {
      notes.todo(
        keys.get(id) ?? id,
        `${id} is a ${datastore.kind} on port ${datastore.port} like link "${taken.service}", and one Toxiproxy listens on each link port: no link for ${id}; run it on another port to put a link in front of it`,
        id,
      );
      continue;
    }
    links.push({ service: id, port: datastore.port });
  }
  return links;
}

/**
 * Maps a Compose document to a readiness config (pure). Only `boot` is enabled: the other stages
 * need settings Compose does not have. Unsupported constructs throw `ConfigError`, one line each.
 */
export function composeToConfig(
  document: ComposeDocument,
  options: { readonly composeDir: string; readonly outDir: string; readonly name?: string },
): InitPlan {
  const notes = new Notes(document.file);
  const model = document.model;
  if (model['include'] !== undefined)
    notes.problem(
      'include',
      'is not supported: merge the included files first (docker compose config prints the result)',
    );
  for (const top of ['volumes', 'networks', 'secrets', 'configs'] as const) {
    if (model[top] !== undefined)
      notes.warn(
        top,
        `(top-level) are not created: readiness runs each service on its image alone, on one network of the run`,
      );
  }
  const ids = new Map<string, string>();
  const keys = new Map<string, string>();
  const seen = new Map<string, string>();
  for (const name of Object.keys(model.services)) {
    const id = serviceId(name);
    const clash = seen.get(id);
    if (clash !== undefined)
      notes.problem(`services.${name}`, `and services.${clash} both become config service "${id}"; rename one`);
    seen.set(id, name);
    ids.set(name, id);
    keys.set(id, dotted(['services', name]));
  }
  const services: Record<string, ServiceInput> = {};
  const images = new Map<string, string>();
  for (const [name, service] of Object.entries(model.services)) {
    const id = ids.get(name) ?? name;
    const ctx: ServiceContext = { name, id, key: dotted(['services', name]), notes };
    const mapped = mapService(name, service, ctx, ids, options);
    if (mapped) services[id] = mapped;
    if (service.image !== undefined && service.build === undefined) images.set(id, service.image);
  }
  if (notes.problems.length > 0) throw new ConfigError(notes.problems);
  const links = mapLinks(services, images, notes, keys);
  const todos: PlanNote[] = [
    ...document.todos.map((t) => {
      const name = /^services\.([^.[]+)/.exec(t.key)?.[1];
      const id = name === undefined ? undefined : ids.get(name);
      return id === undefined ? t : { ...t, service: id };
    }),
    ...notes.todos,
  ];
  const name = options.name ?? model.name ?? basename(options.composeDir);
  return {
    config: {
      name,
      stages: ['boot'],
      services,
      ...(links.length > 0 ? { links } : {}),
      boot: { readinessTruth: [] },
      policy: { stages: { boot: { minPassRate: 1, weight: 1 } } },
    },
    todos,
    warnings: notes.warnings,
  };
}

/** The starting config without a Compose file: one placeholder service, each blank a TODO. */
export function starterPlan(name: string): InitPlan {
  const service = 'app';
  return {
    config: {
      name,
      stages: ['boot'],
      services: {
        [service]: {
          image: 'your-org/your-app:latest',
          env: {},
          ports: [8080],
          health: { kind: 'http', port: 8080, path: '/health/ready', timeoutMs: HEALTH_DEFAULT_MS },
          dependsOn: [],
        },
      },
      boot: { readinessTruth: [] },
      policy: { stages: { boot: { minPassRate: 1, weight: 1 } } },
    },
    todos: [
      {
        key: `services.${service}`,
        message:
          'a placeholder: name your image (or a build: { context, dockerfile }), its env, ports and the path that answers 2xx only when it is ready; add one entry per service of the stack (datastores too), with dependsOn',
        service,
      },
    ],
    warnings: [],
  };
}
