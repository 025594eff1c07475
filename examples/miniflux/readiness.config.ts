// miniflux (https://miniflux.app, Apache-2.0), a Go feed reader on Postgres, certified from its
// own folder through configuration only. In a team's repository the import is `from 'readiness'`;
// inside this checkout it is the same public entry by its path.
import { defineConfig } from '../../src/index.ts';

// Throwaway credentials of this local stack, written once: the services get them, the stages read
// them from the services' env.
const dbPassword = 'miniflux-db-password';
const admin = { username: 'mf-admin', password: 'miniflux-Admin-pass-1' };

const json = { 'content-type': 'application/json' };

/**
 * Categories as ledger writes: a unique title per write (miniflux refuses a second category with the
 * same title, which makes a retried write idempotent), read back through the category's feeds
 * (404 once it is gone), listed as a bare JSON array.
 */
const categoryLedger = {
  write: { path: '/v1/categories', body: { title: 'ledger {{seq}} {{key}}' }, acknowledged: [201] },
  read: { path: '/v1/categories/{id}/feeds', missingStatus: [404] },
  list: { path: '/v1/categories', itemsField: '' },
  fingerprint: ['title'],
};

export default defineConfig({
  name: 'miniflux',
  stages: ['boot', 'security', 'load', 'chaos', 'recovery'],
  services: {
    postgres: {
      image: 'postgres:16',
      env: {
        POSTGRES_USER: 'miniflux',
        POSTGRES_PASSWORD: dbPassword,
        POSTGRES_DB: 'miniflux',
        POSTGRES_INITDB_ARGS: '--no-sync',
      },
      command: ['postgres', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
      ports: [5432],
      health: {
        kind: 'command',
        command: ['pg_isready', '-h', '127.0.0.1', '-U', 'miniflux', '-d', 'miniflux'],
        timeoutMs: 60_000,
      },
    },
    miniflux: {
      build: {
        // The context holds go.mod/go.sum (the pinned version, so a bump changes the build key), the
        // Dockerfile and the binary: run folders beside the config never trigger a rebuild.
        context: 'image',
        args: { BASE: { image: 'debian:bookworm-slim' } },
        // Built static on the host into image/bin/ (git-ignored), then copied into the image.
        prepare: [['env', 'CGO_ENABLED=0', 'go', 'build', '-trimpath', '-o', 'bin/miniflux', 'miniflux.app/v2']],
      },
      env: {
        DATABASE_URL: `postgres://miniflux:${dbPassword}@postgres:5432/miniflux?sslmode=disable`,
        RUN_MIGRATIONS: '1',
        CREATE_ADMIN: '1',
        ADMIN_USERNAME: admin.username,
        ADMIN_PASSWORD: admin.password,
        LISTEN_ADDR: '0.0.0.0:8080',
        METRICS_COLLECTOR: '1',
        // The harness scrapes from the host through Docker's port mapping.
        METRICS_ALLOWED_NETWORKS: '0.0.0.0/0',
        LOG_LEVEL: 'info',
      },
      secretEnv: ['DATABASE_URL', 'ADMIN_PASSWORD'],
      ports: [8080],
      dependsOn: ['postgres'],
      health: { kind: 'http', port: 8080, path: '/healthcheck', timeoutMs: 60_000 },
    },
  },
  links: [{ service: 'postgres', port: 5432 }],
  // Who the stages act as. miniflux's API takes HTTP basic or an API key (X-Auth-Token); it has no
  // JSON login, and only an admin creates users.
  auth: {
    target: { service: 'miniflux', port: 8080 },
    principals: {
      admin: {
        scheme: 'basic',
        username: admin.username,
        password: { fromServiceEnv: { service: 'miniflux', key: 'ADMIN_PASSWORD' } },
        role: 'admin',
      },
      // An API key the admin creates for itself (POST /v1/api-keys answers { token }).
      'admin-key': {
        scheme: 'apiKey',
        header: 'x-auth-token',
        obtain: { path: '/v1/api-keys', body: { description: 'readiness {{uuid}}' }, expectStatus: [201] },
        keyField: 'token',
        obtainAs: 'admin',
        role: 'admin',
      },
      anonymous: { scheme: 'none' },
    },
    // Throwaway users: created by the admin (POST /v1/users), then authenticated with HTTP basic.
    disposable: {
      like: 'admin',
      signupAs: 'admin',
      signup: {
        path: '/v1/users',
        body: { username: '{{username}}', password: '{{password}}', is_admin: false },
        expectStatus: [201],
      },
      username: 'probe-{{random}}',
    },
  },
  boot: {
    // /readiness pings Postgres; /healthz (liveness) does not.
    readinessTruth: [{ service: 'miniflux', port: 8080, path: '/readiness', link: 'postgres' }],
  },
  security: {
    target: { service: 'miniflux', port: 8080 },
    // miniflux publishes no OpenAPI document: the injection sweep, schemathesis and ZAP's API scan
    // are not applicable; the malformed-JSON requests are listed instead.
    openapi: false,
    rulesFile: 'security-rules.tsv',
    // HTTP basic is CPU-bound (bcrypt per request): room for a busy machine.
    requestTimeoutMs: 15_000,
    auth: {
      probe: { path: '/v1/me' },
      rejectStatus: 401,
      // Wrong passwords for HTTP basic go to the probe; then the right one must be refused as locked.
      lockout: { attempts: 5, lockedStatus: [423, 429] },
      // Every API request over HTTP basic checks the password (bcrypt).
      latency: { p95Ms: 200, samples: 30, warmup: 3 },
    },
    authz: {
      // Only an admin creates users, so the one non-admin account is a throwaway user (no fixed role).
      rbac: [
        { request: { path: '/v1/users' }, expect: { anonymous: 401, admin: 200 } },
        { request: { path: '/v1/me' }, expect: { anonymous: 401, admin: 200 } },
        { request: { path: '/v1/categories' }, expect: { anonymous: 401, admin: 200 } },
        {
          request: {
            method: 'POST',
            path: '/v1/users',
            headers: json,
            body: { username: 'rbac-probe', password: 'rbac-probe-pass' },
          },
          expect: { anonymous: 401 },
        },
      ],
    },
    // A password guesser (a throwaway user over HTTP basic) must be slowed down: 100 requests per 10 s.
    // Four at a time: each request costs a bcrypt comparison, and eight queued past the request timeout
    // on the shared 2-core machine.
    rateLimit: { request: { path: '/v1/me' }, limit: 100, windowMs: 10_000, concurrency: 4 },
    headers: { paths: ['/', '/v1/version'] },
    errors: {
      malformedJson: [
        { method: 'POST', path: '/v1/categories', headers: json },
        { method: 'POST', path: '/v1/api-keys', headers: json },
      ],
      oversize: {
        request: { method: 'POST', path: '/v1/categories', headers: json, body: { title: 'oversize' } },
        bytes: 4 * 1024 * 1024,
      },
    },
    compliance: { logServices: ['miniflux'] },
  },
  load: {
    script: 'load/miniflux.js',
    target: { service: 'miniflux', port: 8080 },
    // READINESS_AUTH_ADMIN (HTTP basic) and READINESS_AUTH_ADMIN_KEY (the API key the harness obtains).
    principals: ['admin', 'admin-key'],
    slo: { p95Ms: 200, p99Ms: 500, maxErrorRate: 0.01, minCheckRate: 0.99 },
    scenarios: [
      {
        // The API key path (X-Auth-Token): one indexed lookup per request.
        id: 'api-key',
        exec: 'withApiKey',
        ratePerSec: 20,
        preAllocatedVUs: 20,
        phases: [
          { name: 'warmup', durationSec: 3, slo: {} },
          { name: 'steady', durationSec: 12 },
        ],
      },
      {
        // HTTP basic: every request checks the password (bcrypt) before it is served.
        id: 'basic-auth',
        exec: 'withBasicAuth',
        ratePerSec: 6,
        durationSec: 12,
        // Answers took up to 4 s on the shared 2-core machine (bcrypt is CPU-bound): 6/s x 4 s in flight, doubled.
        preAllocatedVUs: 50,
        severity: 'normal',
      },
    ],
  },
  chaos: {
    experimentsDir: 'chaos',
    target: { service: 'miniflux', port: 8080 },
    // A throwaway user per experiment (and one for its ledger), created by the admin.
    as: 'disposable',
    ledger: categoryLedger,
    // Postgres SSLRequest: the server answers one byte ('N' or 'S').
    links: { postgres: { send: 'hex:0000000804d2162f', expectBytes: 1 } },
    metricsPath: '/metrics',
  },
  recovery: {
    target: { service: 'miniflux', port: 8080 },
    as: 'disposable',
    ledger: categoryLedger,
    load: {
      ratePerSec: 5,
      writesPerSec: 1,
      requests: [{ path: '/v1/me', auth: true }, { path: '/v1/categories', auth: true }, { path: '/readiness' }],
    },
    backup: {
      database: { service: 'postgres', name: 'miniflux', user: 'miniflux' },
      tables: ['users', 'categories', 'api_keys'],
      services: ['miniflux'],
      rtoTargetMs: 30_000,
    },
    crash: { service: 'miniflux', port: 8080, withinMs: 30_000 },
  },
  // What miniflux does not have, with the reason: recorded not applicable, listed as not covered.
  notApplicable: {
    'security.compliance.audit-trail*': 'miniflux keeps no audit trail of API requests to read back',
    'security.compliance.erasure*':
      'miniflux has no self-service account deletion: only an admin deletes a user (DELETE /v1/users/{id})',
    'recovery.rolling-restart*': 'this example runs one miniflux replica with no load balancer in front of it',
    'security.authz.object-level*':
      'needs two fixed non-admin accounts; miniflux creates only its admin at start, other users exist only once the admin API creates them during the run',
  },
  policy: {
    stages: {
      boot: { minPassRate: 1 },
      load: { minPassRate: 1 },
      chaos: { minPassRate: 1 },
      recovery: { minPassRate: 1 },
    },
  },
  secrets: [dbPassword, admin.password],
});
