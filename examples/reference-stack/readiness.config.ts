import { fileURLToPath } from 'node:url';
import { defineConfig } from '../../src/config/index.ts';
import type { ReadinessConfigInput } from '../../src/config/index.ts';
import { auth } from './auth.ts';
import { chaos } from './chaos.ts';
import { contract, contractSecrets } from './contract.ts';
import { load } from './load.ts';
import { recovery } from './recovery.ts';
import { security } from './security.ts';

// The built-in reference stack (fixtures/stack). `FRAGILE=<defect>[,<defect>]` switches off
// protections in the services so the harness can prove it catches each defect.
const fragile = process.env.FRAGILE ?? '';
const jwtSecret = 'reference-stack-jwt-secret-0123456789abcdef';
const dbPassword = 'reference-db-password';
const seedPasswords = { alice: 'alice-Secret-pass-1', bob: 'bob-Secret-pass-2', admin: 'admin-Secret-pass-3' };

const stackBuild = {
  // Absolute, so a config that spreads this one from elsewhere still finds the stack.
  context: fileURLToPath(new URL('../../fixtures/stack', import.meta.url)),
  dockerfile: 'Dockerfile',
  args: { NODE_IMAGE: { image: 'node:24-slim' } },
  prepare: [['npm', 'ci', '--omit=dev', '--no-audit', '--no-fund']],
};

type ServiceInput = ReadinessConfigInput['services'][string];

// orders and orders-b: the same image and settings, two replicas.
const ordersService: ServiceInput = {
  build: stackBuild,
  command: ['node', 'src/orders/main.ts'],
  env: {
    PORT: '8080',
    DATABASE_URL: `postgres://app:${dbPassword}@postgres:5432/app`,
    REDIS_URL: 'redis://redis:6379',
    PAYMENTS_URL: 'http://payments:8081',
    JWT_SECRET: jwtSecret,
    JWT_ISSUER: 'readiness-reference',
    JWT_AUDIENCE: 'orders-api',
    SEED_PASSWORD_ALICE: seedPasswords.alice,
    SEED_PASSWORD_BOB: seedPasswords.bob,
    SEED_PASSWORD_ADMIN: seedPasswords.admin,
    // On SIGTERM readiness turns 503 for 1.5 s while requests are still served, so the LB drains it first.
    SHUTDOWN_DRAIN_MS: '1500',
    FRAGILE: fragile,
    // Which replica this is (FRAGILE=replica-drift acts on orders-b only).
    REPLICA_NAME: 'orders',
  },
  ports: [8080],
  // orders retries Postgres, Redis and payments on its own, so it starts as soon as their containers run.
  dependsOn: [
    { service: 'postgres', until: 'started' },
    { service: 'redis', until: 'started' },
    { service: 'payments', until: 'started' },
  ],
  health: { kind: 'http', port: 8080, path: '/health/ready', timeoutMs: 60_000 },
};

// Stage order is the run order; each stage's settings live in ./<stage>.ts.
const fragments = { contract, security, load, chaos, recovery } as const;
const enabled = (Object.keys(fragments) as (keyof typeof fragments)[]).filter((s) => fragments[s].enabled);

export default defineConfig({
  name: 'reference-stack',
  stages: ['boot', ...enabled],
  // Who the stages act as (examples/reference-stack/auth.ts): every authenticated request takes its credentials there.
  auth,
  services: {
    postgres: {
      image: 'postgres:16',
      // --no-sync: initdb does not fsync a data directory that only lives as long as the run.
      env: {
        POSTGRES_USER: 'app',
        POSTGRES_PASSWORD: dbPassword,
        POSTGRES_DB: 'app',
        POSTGRES_INITDB_ARGS: '--no-sync',
      },
      // The data directory lives in the container, so it survives the chaos stage's container restart
      // (a tmpfs would come back empty); durability settings are off instead, as throwaway test data allows.
      command: ['postgres', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
      ports: [5432],
      health: {
        kind: 'command',
        command: ['pg_isready', '-h', '127.0.0.1', '-U', 'app', '-d', 'app'],
        timeoutMs: 60_000,
      },
    },
    redis: {
      image: 'redis:7',
      ports: [6379],
      health: { kind: 'command', command: ['redis-cli', 'ping'], timeoutMs: 30_000 },
    },
    payments: {
      build: stackBuild,
      command: ['node', 'src/payments/main.ts'],
      env: { PORT: '8081', FRAGILE: fragile, DATA_DIR: '/tmp/payments' },
      ports: [8081],
      health: { kind: 'http', port: 8081, path: '/health/ready', timeoutMs: 30_000 },
    },
    // Two orders replicas behind a load balancer (fixtures/stack/lb): other stages target `orders`
    // directly; the recovery stage restarts the replicas one at a time through `lb`.
    orders: ordersService,
    // orders-b runs no outbox worker: the chaos experiments watch orders' own breaker close again as
    // its outbox settles the orders it took, which a second worker would settle first.
    'orders-b': { ...ordersService, env: { ...ordersService.env, OUTBOX_INTERVAL_MS: '0', REPLICA_NAME: 'orders-b' } },
    lb: {
      build: {
        context: fileURLToPath(new URL('../../fixtures/stack/lb', import.meta.url)),
        args: { HAPROXY_IMAGE: { image: 'haproxy:2.6' } },
      },
      ports: [8080],
      // HAProxy finds the replicas through Docker's DNS and health-checks them itself.
      dependsOn: [
        { service: 'orders', until: 'started' },
        { service: 'orders-b', until: 'started' },
      ],
      health: { kind: 'http', port: 8080, path: '/health/ready', timeoutMs: 60_000 },
    },
  },
  links: [
    { service: 'postgres', port: 5432 },
    { service: 'redis', port: 6379 },
    { service: 'payments', port: 8081 },
  ],
  boot: {
    // Both replicas, each on its own port (not through lb), must accept or refuse the same requests alike.
    replicas: [
      {
        name: 'orders',
        services: ['orders', 'orders-b'],
        port: 8080,
        as: 'alice',
        requests: [
          { method: 'GET', path: '/v1/users/me' },
          { method: 'GET', path: '/v1/orders?limit=5' },
          { method: 'GET', path: '/v1/products' },
          { method: 'GET', path: '/v1/users/me', as: 'anonymous' },
        ],
      },
    ],
    readinessTruth: [
      {
        service: 'orders',
        port: 8080,
        path: '/health/ready',
        link: 'postgres',
        failWithinMs: 5_000,
        recoverWithinMs: 10_000,
      },
    ],
  },
  ...Object.fromEntries(enabled.map((s) => [s, fragments[s].config])),
  // Besides their logs, the orders replicas' counters of dependency failures they work around: the rate
  // limiter's in-process decisions (taken only when Redis failed: FRAGILE=silent-redis-errors raises them
  // on every request while every answer is still a success) and failed calls to payments.
  signals: {
    metrics: Object.fromEntries(
      ['orders', 'orders-b'].map((service) => [
        service,
        {
          port: 8080,
          counters: [
            'rate_limit_decisions_total{backend="memory"}',
            'payments_client_attempts_total{outcome="failure"}',
          ],
        },
      ]),
    ),
  },
  policy: {
    stages: {
      boot: { minPassRate: 1, weight: 1 },
      ...Object.fromEntries(enabled.map((s) => [s, fragments[s].policy])),
    },
    skippable: enabled.flatMap((s) => fragments[s].skippable ?? []),
    critical: { severities: ['blocker', 'critical'], ids: enabled.flatMap((s) => fragments[s].criticalIds ?? []) },
  },
  secrets: [jwtSecret, dbPassword, ...Object.values(seedPasswords), ...contractSecrets],
});
