import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configProblems, loadConfig } from '../config/load-config.ts';
import { ConfigError } from '../core/errors.ts';
import { renderCi } from './ci.ts';
import { interpolate, parseCompose } from './compose.ts';
import { renderConfig } from './render.ts';
import {
  composeToConfig,
  durationMs,
  imageRepository,
  recogniseDatastore,
  shellWords,
  starterPlan,
} from './to-config.ts';
import type { InitPlan } from './to-config.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const FIXTURES = join(ROOT, 'test/fixtures/compose');
// The generated config imports the package entry ('readiness'); tests point that import at the
// repository's own src/config (Node resolves nothing else for a config file loaded by path).
const CONFIG_MODULE = pathToFileURL(join(ROOT, 'src/config/index.ts')).href;

async function planFor(fixture: string, outDir = join(ROOT, 'tmp-out')): Promise<InitPlan> {
  const file = join(FIXTURES, fixture);
  const document = parseCompose(await readFile(file, 'utf8'), fixture);
  return composeToConfig(document, { composeDir: dirname(file), outDir });
}

/** Writes the rendered config with the package import pointed at src/config, then loads it as `certify` would. */
async function loadRendered(source: string): Promise<Awaited<ReturnType<typeof loadConfig>>> {
  const dir = await mkdtemp(join(tmpdir(), 'readiness-init-unit-'));
  expect(source).toContain("import { defineConfig } from 'readiness';");
  await writeFile(join(dir, 'readiness.config.ts'), source.replace("from 'readiness'", `from '${CONFIG_MODULE}'`));
  return loadConfig('readiness.config.ts', dir);
}

function problems(text: string, file = 'docker-compose.yml'): string[] {
  try {
    const document = parseCompose(text, file);
    composeToConfig(document, { composeDir: '/repo', outDir: '/repo' });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

function cli(args: readonly string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('init from real Compose files', () => {
  it('example-voting-app: builds, healthchecks (string form), depends_on conditions, profiles, datastore links', async () => {
    const plan = await planFor('example-voting-app/docker-compose.yml', join(FIXTURES, 'example-voting-app'));
    const { services, links } = plan.config;
    expect(Object.keys(services)).toEqual(['vote', 'result', 'worker', 'redis', 'db', 'seed']);
    expect(services['vote']).toEqual({
      build: { context: './vote' },
      ports: [80],
      // interval 15s × 3 retries + 10s start period
      health: { kind: 'command', command: ['curl', '-f', 'http://localhost'], timeoutMs: 55_000 },
      dependsOn: [{ service: 'redis', until: 'healthy' }],
    });
    expect(services['result']).toMatchObject({ ports: [80, 9229], health: { kind: 'tcp', port: 80 } });
    expect(services['worker']).toEqual({
      build: { context: './worker' },
      dependsOn: [
        { service: 'redis', until: 'healthy' },
        { service: 'db', until: 'healthy' },
      ],
    });
    expect(services['db']).toEqual({
      image: 'postgres:15-alpine',
      env: { POSTGRES_USER: 'postgres', POSTGRES_PASSWORD: 'postgres' },
      ports: [5432],
      health: { kind: 'command', command: ['sh', '-c', '/healthchecks/postgres.sh'], timeoutMs: 15_000 },
    });
    expect(links).toEqual([
      { service: 'redis', port: 6379 },
      { service: 'db', port: 5432 },
    ]);
    expect(plan.todos.map((t) => t.key)).toEqual([
      'services.vote.build.target',
      'services.result.healthcheck',
      'services.result.entrypoint',
      'services.worker.healthcheck',
      'services.seed.healthcheck',
    ]);
    expect(plan.warnings.map((w) => w.key)).toContain('services.seed.profiles');
    expect(plan.config.stages).toEqual(['boot']);
  });

  it('rails devcontainer: a build in a parent folder, list depends_on, five datastores, one link per port', async () => {
    const plan = await planFor('rails-devcontainer/compose.yaml', join(FIXTURES, 'rails-devcontainer'));
    const { services, links } = plan.config;
    expect(services['rails']).toEqual({
      build: { context: '..', dockerfile: '.devcontainer/Dockerfile' },
      command: ['sleep', 'infinity'],
      dependsOn: ['postgres', 'mariadb', 'redis', 'memcached'].map((service) => ({ service, until: 'started' })),
    });
    expect(services['memcached']).toMatchObject({ command: ['-m', '1024'], ports: [11211] });
    expect(links).toEqual([
      { service: 'postgres', port: 5432 },
      { service: 'mariadb', port: 3306 },
      { service: 'redis', port: 6379 },
      { service: 'memcached', port: 11211 },
    ]);
    // No healthcheck anywhere: every service gets a TODO, and rails (no port) has no health at all.
    expect(plan.todos.filter((t) => t.key.endsWith('.healthcheck'))).toHaveLength(5);
    expect(services['rails']?.health).toBeUndefined();
  });

  it('solid_queue: published ports map to container ports, MySQL and Postgres both linked', async () => {
    const plan = await planFor('solid-queue/docker-compose.yml');
    expect(plan.config.services['postgres']).toMatchObject({
      image: 'postgres:15.1',
      env: { POSTGRES_HOST_AUTH_METHOD: 'trust' },
      ports: [5432],
      health: { kind: 'tcp', port: 5432, timeoutMs: 60_000 },
    });
    expect(plan.config.links).toEqual([
      { service: 'mysql', port: 3306 },
      { service: 'postgres', port: 5432 },
    ]);
  });

  it('airflow: anchors and merge keys, ${VAR:-default} kept, $$ unescaped, service_completed_successfully', async () => {
    const plan = await planFor('airflow/docker-compose.yaml');
    const { services, links } = plan.config;
    expect(Object.keys(services)).toHaveLength(10);
    expect(services['postgres']?.health).toEqual({
      kind: 'command',
      command: ['pg_isready', '-U', 'airflow'],
      timeoutMs: 55_000, // 5s start period + 5 retries × 10s
    });
    expect(services['redis']).toMatchObject({ ports: [6379], health: { timeoutMs: 530_000 } });
    const apiserver = services['airflow-apiserver']!;
    expect(apiserver).toMatchObject({
      image: 'apache/airflow:|version|',
      command: ['api-server'],
      ports: [8080],
      dependsOn: [
        { service: 'redis', until: 'healthy' },
        { service: 'postgres', until: 'healthy' },
        { service: 'airflow-init', until: 'started' },
      ],
    });
    expect(apiserver.env).toMatchObject({
      AIRFLOW__CORE__FERNET_KEY: '',
      AIRFLOW__API_AUTH__JWT_SECRET: 'airflow_jwt_secret',
      _PIP_ADDITIONAL_REQUIREMENTS: '',
    });
    expect(services['airflow-worker']?.env?.['DUMB_INIT_SETSID']).toBe('0');
    expect(services['airflow-dag-processor']?.health).toMatchObject({
      command: ['sh', '-c', 'airflow jobs check --job-type DagProcessorJob --hostname "${HOSTNAME}"'],
    });
    expect(links).toEqual([
      { service: 'postgres', port: 5432 },
      { service: 'redis', port: 6379 },
    ]);
    const todoKeys = plan.todos.map((t) => t.key);
    expect(todoKeys).toContain('services.airflow-apiserver.environment.AIRFLOW__CORE__FERNET_KEY');
    expect(todoKeys).toContain('services.airflow-apiserver.depends_on.airflow-init.condition');
    // ${AIRFLOW_UID} five times in one command: one TODO.
    expect(todoKeys.filter((k) => k === 'services.airflow-init.command[1]')).toHaveLength(1);
  });

  it.each([
    'example-voting-app/docker-compose.yml',
    'rails-devcontainer/compose.yaml',
    'solid-queue/docker-compose.yml',
    'airflow/docker-compose.yaml',
  ])('the config generated from %s loads and validates, with boot the only stage', async (fixture) => {
    const plan = await planFor(fixture);
    const source = renderConfig(plan, { source: fixture });
    const config = await loadRendered(source);
    expect(config.stages).toEqual(['boot']);
    expect(Object.keys(config.services)).toEqual(Object.keys(plan.config.services));
    // Every other stage is described but left out: nothing enabled with empty settings.
    for (const stage of ['contract', 'security', 'load', 'chaos', 'recovery'] as const) {
      expect(config[stage]).toBeUndefined();
      expect(source).toContain(`// TODO ${stage}:`);
    }
    // Formatted as the repository's Prettier settings would, and stable.
    const options = await prettier.resolveConfig(join(ROOT, 'readiness.config.ts'));
    expect(await prettier.format(source, { ...options, parser: 'typescript' })).toBe(source);
    expect(renderConfig(plan, { source: fixture })).toBe(source);
  });

  it('listing another stage without filling in its section is a config error, never a pass', async () => {
    const plan = await planFor('solid-queue/docker-compose.yml');
    for (const stage of ['contract', 'security', 'load', 'chaos', 'recovery'] as const) {
      const lines = configProblems({ ...plan.config, stages: ['boot', stage] }, join(ROOT, 'readiness.config.ts'));
      expect(lines.join('\n')).toMatch(new RegExp(`readiness.config.ts: ${stage} (is )?required`));
    }
  });

  it('the starting config without a Compose file loads, with its placeholder marked TODO', async () => {
    const source = renderConfig(starterPlan('my-stack'));
    const config = await loadRendered(source);
    expect(config.services['app']?.image).toBe('your-org/your-app:latest');
    expect(source).toContain('// TODO (services.app): a placeholder');
    const options = await prettier.resolveConfig(join(ROOT, 'readiness.config.ts'));
    expect(await prettier.format(source, { ...options, parser: 'typescript' })).toBe(source);
  });
});

describe('Compose mapping rules', () => {
  const map = (text: string): InitPlan =>
    composeToConfig(parseCompose(text, 'compose.yml'), { composeDir: '/repo/app', outDir: '/repo' });

  it('maps healthcheck forms: CMD, CMD-SHELL, a string, NONE and disable', () => {
    const plan = map(`services:
  a: { image: x, ports: ["81"], healthcheck: { test: ["CMD", "pg_isready", "-U", "app"], interval: 2s, retries: 10 } }
  b: { image: x, ports: ["82"], healthcheck: { test: ["CMD-SHELL", "redis-cli ping | grep PONG"] } }
  c: { image: x, ports: ["83"], healthcheck: { test: "wget -qO- localhost/health", start_period: 1m30s } }
  d: { image: x, ports: ["84"], healthcheck: { test: ["NONE"] } }
  e: { image: x, ports: ["85"], healthcheck: { disable: true } }
`);
    const health = Object.fromEntries(Object.entries(plan.config.services).map(([id, s]) => [id, s.health]));
    expect(health).toEqual({
      a: { kind: 'command', command: ['pg_isready', '-U', 'app'], timeoutMs: 20_000 },
      b: { kind: 'command', command: ['sh', '-c', 'redis-cli ping | grep PONG'], timeoutMs: 60_000 },
      c: { kind: 'command', command: ['sh', '-c', 'wget -qO- localhost/health'], timeoutMs: 180_000 },
      d: { kind: 'tcp', port: 84, timeoutMs: 60_000 },
      e: { kind: 'tcp', port: 85, timeoutMs: 60_000 },
    });
    expect(plan.todos.map((t) => t.key)).toEqual(['services.d.healthcheck', 'services.e.healthcheck']);
  });

  it('maps depends_on long forms, ports (short, long, expose, UDP), env lists and maps, build args, tmpfs', () => {
    const plan = map(`services:
  api:
    build: { context: ./api, dockerfile: Dockerfile.prod, args: [NODE_ENV=production, TOKEN] }
    command: node "dist/main.js" --name 'a b'
    environment: [PORT=8080, SECRET, EMPTY=]
    env_file: .env
    ports: ["127.0.0.1:8080:8080", { target: 9090, published: 19090 }, "5353:53/udp"]
    expose: [3000]
    tmpfs: [/tmp, "/run:size=64m"]
    depends_on:
      db: { condition: service_healthy }
      cache: { condition: service_started }
      migrate: { condition: service_completed_successfully }
  db: { image: "docker.io/library/postgres:16@sha256:abc", environment: { RETRIES: 3, DEBUG: false, NULLED: null } }
  cache: { image: redis }
  migrate: { image: flyway/flyway }
`);
    expect(plan.config.services['api']).toEqual({
      build: { context: './app/api', dockerfile: 'Dockerfile.prod', args: { NODE_ENV: 'production', TOKEN: '' } },
      command: ['node', 'dist/main.js', '--name', 'a b'],
      env: { PORT: '8080', SECRET: '', EMPTY: '' },
      ports: [8080, 9090, 3000],
      health: { kind: 'tcp', port: 8080, timeoutMs: 60_000 },
      dependsOn: [
        { service: 'db', until: 'healthy' },
        { service: 'cache', until: 'started' },
        { service: 'migrate', until: 'started' },
      ],
      tmpfs: { '/tmp': '', '/run': 'size=64m' },
    });
    expect(plan.config.services['db']).toMatchObject({
      env: { RETRIES: '3', DEBUG: 'false', NULLED: '' },
      ports: [5432],
    });
    expect(plan.todos.map((t) => t.key)).toEqual(
      expect.arrayContaining([
        'services.api.build.args[1]',
        'services.api.environment[1]',
        'services.api.env_file',
        'services.api.depends_on.migrate.condition',
        'services.db.environment.NULLED',
      ]),
    );
    expect(plan.warnings.map((w) => w.key)).toContain('services.api.ports[2]');
  });

  it('interpolates: defaults kept, $$ escaped, unset variables empty with a TODO naming key and variable', () => {
    const plan = map(`services:
  db:
    image: postgres:\${PG_VERSION:-16}
    environment:
      POSTGRES_PASSWORD: \${DB_PASSWORD}
      POSTGRES_USER: \${DB_USER:?set DB_USER}
      NESTED: \${A:-\${B-inner}}
      LITERAL: $$HOME
    ports: ["\${DB_PORT:-5432}:5432"]
`);
    expect(plan.config.services['db']).toMatchObject({
      image: 'postgres:16',
      env: { POSTGRES_PASSWORD: '', POSTGRES_USER: '', NESTED: 'inner', LITERAL: '$HOME' },
      ports: [5432],
    });
    expect(plan.todos.slice(0, 2)).toEqual([
      expect.objectContaining({
        key: 'services.db.environment.POSTGRES_PASSWORD',
        service: 'db',
        message: expect.stringContaining('${DB_PASSWORD} has no default'),
      }),
      expect.objectContaining({
        key: 'services.db.environment.POSTGRES_USER',
        message: expect.stringContaining('set DB_USER'),
      }),
    ]);
  });

  it('keeps a note with a line break on one comment line, so the generated file still loads', async () => {
    const plan = map('services:\n  db:\n    image: postgres:16\n    entrypoint: "a\\n*/b"\n');
    expect(plan.todos.map((t) => t.key)).toContain('services.db.entrypoint');
    const config = await loadRendered(renderConfig(plan));
    expect(config.services['db']?.image).toBe('postgres:16');
  });

  it('renames Compose names that are not config ids, with a TODO about the host name', () => {
    const plan = map(`services:\n  My_DB: { image: mongo:7 }\n  app: { image: x, depends_on: [My_DB] }\n`);
    expect(Object.keys(plan.config.services)).toEqual(['my-db', 'app']);
    expect(plan.config.services['app']?.dependsOn).toEqual([{ service: 'my-db', until: 'started' }]);
    expect(plan.config.links).toEqual([{ service: 'my-db', port: 27017 }]);
    expect(plan.todos[0]).toMatchObject({ key: 'services.My_DB', service: 'my-db' });
  });

  it('gives the second datastore on a port a TODO instead of a duplicate link', () => {
    const plan = map(`services:\n  a: { image: postgres:16 }\n  b: { image: bitnami/postgresql:16 }\n`);
    expect(plan.config.links).toEqual([{ service: 'a', port: 5432 }]);
    expect(
      plan.todos.some((t) => t.key === 'services.b' && t.message.includes('one Toxiproxy listens on each link port')),
    ).toBe(true);
  });

  it('recognises datastores by image, whatever the registry, tag or digest', () => {
    const kinds = [
      'postgres:16-alpine',
      'docker.io/library/mysql:8',
      'mariadb:11',
      'redis/redis-stack-server:7',
      'mongo@sha256:abc',
      'rabbitmq:3-management',
      'confluentinc/cp-kafka:7.6.0',
      'bitnami/kafka:3',
      'apache/kafka:3.7.0',
      'docker.elastic.co/elasticsearch/elasticsearch:8.13.0',
      'opensearchproject/opensearch:2',
      'memcached:1.6',
      'localhost:5000/team/api:1',
      'nginx:1.27',
    ].map((image) => recogniseDatastore(image)?.kind ?? null);
    expect(kinds).toEqual([
      'postgres',
      'mysql',
      'mariadb',
      'redis',
      'mongodb',
      'rabbitmq',
      'kafka',
      'kafka',
      'kafka',
      'elasticsearch',
      'elasticsearch',
      'memcached',
      null,
      null,
    ]);
    expect(imageRepository('localhost:5000/team/api:1')).toBe('team/api');
  });

  it('parses durations, shell words and interpolation edge cases', () => {
    expect([durationMs('1m30s'), durationMs('500ms'), durationMs('1h'), durationMs('10')]).toEqual([
      90_000,
      500,
      3_600_000,
      undefined,
    ]);
    expect(shellWords(`a "b c" 'd e' f\\ g`)).toEqual(['a', 'b c', 'd e', 'f g']);
    expect(shellWords('a "b')).toBeUndefined();
    const unset: string[] = [];
    expect(interpolate('$A-${B:+x}-${C-d}-$$', (name) => unset.push(name))).toBe('--d-$');
    expect(unset).toEqual(['A']);
  });
});

describe('bad Compose input: one line per problem naming the file and the key', () => {
  it('a schema violation names the key and what it must be', () => {
    expect(problems('services:\n  db:\n    image: postgres\n    healthcheck:\n      test: 5\n')).toEqual([
      'docker-compose.yml: services.db.healthcheck.test must be string or array (received 5)',
    ]);
    expect(problems('services:\n  db:\n    image: postgres\n    portz: [5432]\n')).toEqual([
      'docker-compose.yml: services.db.portz is not a Compose Specification key; remove it or check the spelling',
    ]);
  });

  it('a YAML error names the line and column', () => {
    const [line, ...rest] = problems('services:\n  db:\n    image: [postgres\n');
    expect(rest).toEqual([]);
    expect(line).toMatch(/^docker-compose\.yml: line \d+, column \d+: YAML /);
  });

  it('unsupported constructs are refused, each with its key', () => {
    expect(problems('services:\n  f: { image: x, environment: { A: "${B" } }\n')).toEqual([
      'docker-compose.yml: services.f.environment.A has an invalid interpolation "${B"',
    ]);
    expect(
      problems(`include: [other.yml]
services:
  base: { image: x }
  a: { extends: { service: base } }
  b: { image: x, ports: ["8000-8010:8000-8010"] }
  c: { image: x, ports: ["80"], healthcheck: { test: ["RUN", "x"] } }
  d: { image: x, depends_on: [ghost] }
  e: { build: "https://github.com/org/repo.git" }
  g: { build: { context: ., dockerfile_inline: "FROM x" } }
`),
    ).toEqual([
      'docker-compose.yml: include is not supported: merge the included files first (docker compose config prints the result)',
      'docker-compose.yml: services.a.extends is not supported: write the service out in full (docker compose config prints it)',
      'docker-compose.yml: services.b.ports[0] is a port range ("8000-8010:8000-8010"), which init does not expand; list the ports one by one',
      'docker-compose.yml: services.c.healthcheck.test must start with "CMD", "CMD-SHELL" or "NONE" and name a command (received ["RUN","x"])',
      'docker-compose.yml: services.d.depends_on[0] names unknown service "ghost"',
      'docker-compose.yml: services.e.build is a remote build context ("https://github.com/org/repo.git"); init maps local folders only: clone it and point build at the folder',
      'docker-compose.yml: services.g.build.dockerfile_inline is not supported; write the Dockerfile to a file and name it in build.dockerfile',
    ]);
    expect(
      problems(
        'services:\n  a: { image: x, healthcheck: { test: [CMD, "true"], interval: 5 seconds, retries: many } }\n',
      ),
    ).toEqual([
      'docker-compose.yml: services.a.healthcheck.interval must be a duration such as 10s or 1m30s (received "5 seconds")',
      'docker-compose.yml: services.a.healthcheck.retries must be a whole number (received "many")',
    ]);
  });

  it('the CLI exits 2 for a missing file and a schema violation, writing nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-init-cli-'));
    const missing = cli(['init', '--from', 'nope.yml'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('nope.yml: file not found; pass --from <compose file>');
    await writeFile(join(dir, 'compose.yml'), 'services:\n  db:\n    image: postgres\n    healthcheck: { test: 5 }\n');
    const invalid = cli(['init', '--from', 'compose.yml'], dir);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr.trim()).toBe(
      'compose.yml: services.db.healthcheck.test must be string or array (received 5)',
    );
    expect(await readdir(dir)).toEqual(['compose.yml']);
  }, 60_000);
});

describe('readiness init (CLI)', () => {
  it('writes the config and a CI job, prints the TODOs, and never overwrites without --force', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-init-cli-'));
    await writeFile(join(dir, 'docker-compose.yml'), 'services:\n  cache:\n    image: redis:7\n');
    const first = cli(['init', '--from', 'docker-compose.yml', '--ci', 'github'], dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('wrote readiness.config.ts');
    expect(first.stdout).toContain('wrote .github/workflows/readiness.yml');
    expect(first.stdout).toContain('docker-compose.yml: services.cache.healthcheck: it has no Compose healthcheck');
    const written = await readFile(join(dir, 'readiness.config.ts'), 'utf8');
    const again = cli(['init', '--from', 'docker-compose.yml', '--ci', 'github'], dir);
    expect(again.code).toBe(2);
    expect(again.stderr.trim().split('\n')).toEqual([
      'readiness.config.ts: already exists; pass --force to overwrite it',
      '.github/workflows/readiness.yml: already exists; pass --force to overwrite it',
    ]);
    await writeFile(
      join(dir, 'docker-compose.yml'),
      'services:\n  cache:\n    image: redis:7\n    ports: ["6380:6379"]\n',
    );
    expect(cli(['init', '--from', 'docker-compose.yml', '--force'], dir).code).toBe(0);
    expect(await readFile(join(dir, 'readiness.config.ts'), 'utf8')).toBe(written);
    const bad = cli(['init', '--ci', 'jenkins'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('--ci must be one of github, gitlab (received "jenkins")');
  }, 60_000);

  it('the CI jobs fit the GitHub workflow and GitLab job schemas and run certify on the config', async () => {
    const schema = async (name: string): Promise<object> =>
      JSON.parse(await readFile(join(ROOT, 'test/fixtures/ci', name), 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: false });
    const github = parse(renderCi('github', 'ci/readiness.config.ts')) as {
      jobs: { certify: { steps: { run?: string }[] } };
    };
    expect(ajv.validate(await schema('github-workflow.schema.json'), github), ajv.errorsText()).toBe(true);
    expect(github.jobs.certify.steps.map((s) => s.run).filter(Boolean)).toContain(
      'npx readiness certify --config ci/readiness.config.ts',
    );
    const gitlab = parse(renderCi('gitlab', 'readiness.config.ts')) as { readiness: { script: string[] } };
    expect(ajv.validate(await schema('gitlab-job.schema.json'), gitlab), ajv.errorsText()).toBe(true);
    expect(gitlab.readiness.script).toEqual(['npx readiness certify --config readiness.config.ts']);
    // The shipped templates, comments and all: the signing key a generated job needs is there.
    expect(renderCi('github', 'readiness.config.ts')).toContain(
      'READINESS_SIGNING_KEY: ${{ secrets.READINESS_SIGNING_KEY }}',
    );
    expect(renderCi('gitlab', 'readiness.config.ts')).toContain('Set READINESS_SIGNING_KEY');
  });
});

// Keeps the generated-config loader honest: a broken generated file must not load.
describe('loading a generated config', () => {
  it('fails with the config error when the generated file does not validate', async () => {
    const plan = starterPlan('x');
    const broken = renderConfig({ ...plan, config: { ...plan.config, links: [{ service: 'app', port: 9999 }] } });
    await expect(loadRendered(broken)).rejects.toThrow(/links\[0\]\.port port 9999 is not in services\.app\.ports/);
  });
});
