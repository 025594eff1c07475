import { z } from 'zod';
import { actAsSchema, checkActAs, ledgerSchema, removedKey, sessionRemoved } from './chaos.ts';
import type { ActAsRefineInput } from './chaos.ts';
import type { RefinementCtx } from './refine-context.ts';

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a lower-case name of letters, digits and dashes');
const port = z.number().int().min(1).max(65535);
const ms = z.number().int().positive();
const path = z.string().startsWith('/');
const statusList = z.array(z.number().int().min(100).max(599)).min(1);
/** A SQL identifier the default commands quote: letters, digits and underscores. */
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _ (starting with a letter or _)');
/** An argv run in a container; `{file}`, `{database}`, `{staging}`, `{user}`, `{sql}` are filled in. */
const command = z.array(z.string().min(1)).min(1);

/** The drills of the stage, in run order. */
export const RECOVERY_DRILLS = ['backup-restore', 'crash', 'rolling-restart', 'shutdown'] as const;
export type RecoveryDrill = (typeof RECOVERY_DRILLS)[number];

/** psql with each statement in its own `-c` (its own transaction: DROP DATABASE cannot run in one). */
const psql = (db: string, ...statements: string[]): string[] => [
  'psql',
  '-X',
  '-q',
  '-U',
  '{user}',
  '-d',
  db,
  '-v',
  'ON_ERROR_STOP=1',
  '-At',
  ...statements.flatMap((sql) => ['-c', sql]),
];

/** The Postgres defaults: pg_dump's custom format in the database container, restored into a staging database that is then renamed. */
const DEFAULT_COMMANDS = {
  backup: ['pg_dump', '-U', '{user}', '-d', '{database}', '-Fc', '-f', '{file}'],
  /** Proves the backup file is readable: pg_restore lists its table of contents. */
  inspect: ['pg_restore', '-l', '{file}'],
  destroy: psql('postgres', 'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'),
  create: psql(
    'postgres',
    'DROP DATABASE IF EXISTS "{staging}" WITH (FORCE)',
    'CREATE DATABASE "{staging}" OWNER "{user}"',
  ),
  restore: ['pg_restore', '-U', '{user}', '-d', '{staging}', '--exit-on-error', '--no-owner', '{file}'],
  promote: psql('postgres', 'ALTER DATABASE "{staging}" RENAME TO "{database}"'),
  /** Runs one SQL query against a database (`{database}` or `{staging}`); its output is `count|checksum`. */
  query: psql('{database}', '{sql}'),
  cleanup: ['rm', '-f', '{file}'],
};

const tableSchema = z.union([
  identifier,
  z.strictObject({
    name: identifier,
    /** One row, two columns: row count and a checksum. Default: count(*) and md5 of the rows' text in a stable order. */
    query: z.string().min(1).optional(),
  }),
]);

/** Requests of the steady load the crash and rolling-restart drills run (cycled in order). */
const loadRequestSchema = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
  path,
  /** Carry the credentials of `recovery.as`, whatever their scheme. */
  auth: z.boolean().default(false),
  headers: z
    .record(z.string().min(1), z.string())
    .default({})
    .describe('Extra headers besides the credentials (sent as written)'),
  body: z.json().optional(),
  /** Statuses that count as served; anything else (or no answer) is a failed request. */
  expectStatus: statusList.default([200]),
});

const loadSchema = z.strictObject({
  /** Requests per second of the steady load (plus `writesPerSec` ledger writes). */
  ratePerSec: z.number().int().min(1).max(200).default(8),
  /** Ledger writes per second during the load (needs `recovery.ledger`); 0 for none. */
  writesPerSec: z.number().min(0).max(50).default(2),
  /** Upper bound of requests in flight: a hung target costs bounded sockets. */
  maxInFlight: z.number().int().min(1).max(200).default(32),
  requests: z.array(loadRequestSchema).min(1),
});

const backupSchema = z.strictObject({
  /** The database container (a service of the stack) and what to back up in it. */
  database: z.strictObject({
    service: name,
    name: identifier,
    user: z.string().min(1),
    /** Where the restore goes before it is verified and promoted. Default `<name>_readiness_restore`. */
    staging: identifier.optional(),
  }),
  /** Backup file inside the database container. */
  file: z.string().startsWith('/').default('/tmp/readiness-backup.dump'),
  commands: z
    .strictObject({
      backup: command.default(DEFAULT_COMMANDS.backup),
      inspect: command.default(DEFAULT_COMMANDS.inspect),
      destroy: command.default(DEFAULT_COMMANDS.destroy),
      create: command.default(DEFAULT_COMMANDS.create),
      restore: command.default(DEFAULT_COMMANDS.restore),
      promote: command.default(DEFAULT_COMMANDS.promote),
      query: command.default(DEFAULT_COMMANDS.query),
      cleanup: command.default(DEFAULT_COMMANDS.cleanup),
    })
    .default(DEFAULT_COMMANDS),
  /** Business tables whose row counts and checksums must survive backup and restore. */
  tables: z.array(tableSchema).min(1),
  /** Services that must be healthy again after the restore (their configured health check), without a restart. */
  services: z.array(name).min(1),
  /** Recovery time objective: destroy -> every service healthy. */
  rtoTargetMs: ms,
  /** Acknowledged ledger writes before the backup (must survive) and after it (lost by design: the RPO). */
  writesBeforeBackup: z.number().int().min(0).max(100).default(5),
  writesAfterBackup: z.number().int().min(0).max(100).default(5),
  /** Snapshots before and after the dump must agree (no writer in between); attempts before `broken`. */
  quiesceAttempts: z.number().int().min(1).max(5).default(3),
  /** Bound of each command in the container. */
  commandTimeoutMs: ms.default(120_000),
  /** When a service misses the RTO, restart it so the later drills start from a running stack. */
  restartOnMiss: z.boolean().default(true),
});

const crashSchema = z.strictObject({
  /** The API container that is killed (SIGKILL) under load, then started again. */
  service: name,
  port,
  /** Time from the kill to healthy again (the service's health check). */
  withinMs: ms.default(30_000),
  /** Load before the kill, and after the service is back. */
  warmupMs: ms.default(3_000),
  afterMs: ms.default(2_000),
  /** Wait this long before starting the container again (an orchestrator's restart delay). */
  restartDelayMs: z.number().int().min(0).max(60_000).default(0),
  /** When set, more failed requests than this fail the crash check (default: a metric only). */
  maxFailedRequests: z.number().int().min(0).optional(),
});

const rollingSchema = z.strictObject({
  /** Replicas, restarted one at a time in this order (docker stop with a grace period, then start). */
  replicas: z.array(name).min(1),
  /** The entry point the load goes through (a load balancer service and port). */
  via: z.strictObject({ service: name, port }),
  /** SIGTERM grace period of each stop before Docker kills. */
  stopTimeoutSec: z.number().int().min(1).max(120).default(15),
  /** Each replica must be healthy again within this. */
  withinMs: ms.default(60_000),
  /** After a replica is healthy, it serves this long before the next one goes (at least the LB's health-check rise time). */
  betweenMs: ms.default(2_000),
  warmupMs: ms.default(2_000),
  afterMs: ms.default(2_000),
  /** Failed requests through the entry point allowed while the replicas restart. */
  maxFailedRequests: z.number().int().min(0).default(0),
});

/** A request the shutdown drill keeps in flight at the SIGTERM; string values of `headers` and `body` are templates (`{{uuid}}`, `{{seq}}`). */
const inFlightRequestSchema = loadRequestSchema.extend({
  /** Statuses that count as served; no answer or a 5xx is a cut request, another status no evidence. */
  expectStatus: statusList.default([200]),
});

const shutdownSchema = z.strictObject({
  /** Replicas sent SIGTERM one at a time, in this order, each while requests are in flight; then started again. */
  replicas: z.array(name).min(1),
  /** The replicas' own port: the direct half of the in-flight requests goes there. */
  port,
  /** The entry point (a load balancer service and port): the other half, and the steady load (`recovery.load`). */
  via: z.strictObject({ service: name, port }),
  /** Slow requests (each long enough to outlast the signal's delivery), cycled to make the burst. */
  requests: z.array(inFlightRequestSchema).min(1),
  /** Requests sent at once just before each SIGTERM, directly to the replica and as many again through `via`. */
  burst: z.number().int().min(1).max(64).default(8),
  /** From sending the burst to the SIGTERM (the requests reach the replica first). */
  signalAfterMs: z.number().int().min(0).max(10_000).default(50),
  /** Bound of each in-flight request (longer than the service's drain). */
  requestTimeoutMs: ms.default(15_000),
  /** SIGTERM to exit allowed (the orchestrator's grace period); a replica still running then is killed and fails. */
  stopTimeoutSec: z.number().int().min(1).max(120).default(15),
  /** Each replica must be healthy again within this of its start. */
  withinMs: ms.default(60_000),
  /** After a replica is healthy again, it serves this long before the next one gets the signal (the LB's rise time). */
  betweenMs: ms.default(2_000),
  warmupMs: ms.default(2_000),
  afterMs: ms.default(1_000),
});

/** Config of the `recovery` stage (`recovery: {...}` in readiness.config.ts). */
export const recoveryConfigSchema = z.strictObject({
  /** Drills to run (default: every drill that is configured), always in the order of RECOVERY_DRILLS. */
  drills: z.array(z.enum(RECOVERY_DRILLS)).min(1).optional(),
  /** Who the drills act as (load requests with `auth: true`, the ledger); `'disposable'`: a throwaway user per drill. */
  as: actAsSchema.optional(),
  session: removedKey(sessionRemoved('recovery')),
  /** The write ledger: how to write a record, read it back and list them (as chaos.ledger). */
  ledger: ledgerSchema.optional(),
  load: loadSchema.optional(),
  backup: backupSchema.optional(),
  crash: crashSchema.optional(),
  rolling: rollingSchema.optional(),
  /** Graceful shutdown under load: SIGTERM to a serving replica while requests are in flight. */
  shutdown: shutdownSchema.optional(),
  /** Target of the backup drill's ledger writes (and of credential requests naming no service when auth.target is unset). */
  target: z.strictObject({ service: name, port }).optional(),
  /** Upper bound of any single HTTP request, so a hung service costs a bounded time. */
  probeTimeoutMs: ms.default(3_000),
});
export type RecoveryConfig = z.output<typeof recoveryConfigSchema>;
export type RecoveryBackupConfig = NonNullable<RecoveryConfig['backup']>;

/** The drills that will run: the configured list, or every drill whose section is present. */
export function recoveryDrills(recovery: RecoveryConfig): RecoveryDrill[] {
  const configured: Record<RecoveryDrill, boolean> = {
    'backup-restore': recovery.backup !== undefined,
    crash: recovery.crash !== undefined,
    'rolling-restart': recovery.rolling !== undefined,
    shutdown: recovery.shutdown !== undefined,
  };
  return RECOVERY_DRILLS.filter((d) => (recovery.drills ? recovery.drills.includes(d) : configured[d]));
}

/** Cross-checks against the rest of the config (services, links); add issues with paths under `recovery`. */
export function refineRecovery(
  config: RefinementCtx['config'] & ActAsRefineInput & { readonly recovery?: RecoveryConfig | undefined },
  ctx: RefinementCtx['ctx'],
): void {
  const recovery = config.recovery;
  const issue = (path: (string | number)[], message: string): void => {
    ctx.addIssue({ code: 'custom', path: ['recovery', ...path], message });
  };
  if (!recovery) {
    if (config.stages.includes('recovery'))
      ctx.addIssue({
        code: 'custom',
        path: ['recovery'],
        message:
          'is required when the recovery stage is enabled; declare recovery: { backup, crash, rolling, ... } (see docs/stages/recovery.md)',
      });
    return;
  }
  const known = Object.keys(config.services);
  const service = (path: (string | number)[], id: string, port?: number): void => {
    const s = config.services[id];
    if (!s) issue(path, `names unknown service "${id}" (services: ${known.join(', ')})`);
    else if (port !== undefined && !s.ports.includes(port))
      issue([...path.slice(0, -1), 'port'], `port ${port} is not in services.${id}.ports`);
  };
  if (recovery.target) service(['target', 'service'], recovery.target.service, recovery.target.port);
  const drills = recoveryDrills(recovery);
  if (drills.length === 0)
    issue(
      [],
      'configures no drill; declare at least one of backup, crash, rolling, shutdown (or the stage has no evidence)',
    );
  const sections: Record<RecoveryDrill, 'backup' | 'crash' | 'rolling' | 'shutdown'> = {
    'backup-restore': 'backup',
    crash: 'crash',
    'rolling-restart': 'rolling',
    shutdown: 'shutdown',
  };
  for (const drill of recovery.drills ?? []) {
    const section = sections[drill];
    if (recovery[section] === undefined) issue(['drills'], `lists "${drill}" but recovery.${section} is not declared`);
  }
  const needsLoad = drills.includes('crash') || drills.includes('rolling-restart') || drills.includes('shutdown');
  if (needsLoad && !recovery.load)
    issue(['load'], 'is required by the crash, rolling-restart and shutdown drills: declare load: { requests: [...] }');
  if (recovery.load) {
    if (recovery.load.writesPerSec > 0 && !recovery.ledger)
      issue(['load', 'writesPerSec'], 'needs recovery.ledger (how to write and read back); set it to 0 for no writes');
  }
  const authed = recovery.load?.requests.findIndex((r) => r.auth) ?? -1;
  const authedInFlight = recovery.shutdown?.requests.findIndex((r) => r.auth) ?? -1;
  checkActAs(
    config,
    ctx,
    'recovery',
    recovery.as,
    recovery.ledger
      ? { path: ['ledger'], what: 'ledger requests are' }
      : authed >= 0
        ? { path: ['load', 'requests', authed, 'auth'], what: 'a request with auth: true is' }
        : authedInFlight >= 0
          ? { path: ['shutdown', 'requests', authedInFlight, 'auth'], what: 'a request with auth: true is' }
          : undefined,
  );
  if (recovery.backup) refineBackup({ config, issue, service }, recovery, recovery.backup);
  const crash = recovery.crash;
  if (crash) {
    service(['crash', 'service'], crash.service, crash.port);
    if (config.services[crash.service] && config.services[crash.service]?.health === undefined)
      issue(['crash', 'service'], `services.${crash.service} has no health check to time its recovery; declare one`);
  }
  if (recovery.rolling)
    refineReplicas(
      { config, issue, service },
      'rolling',
      recovery.rolling,
      'needs at least two replicas: restarting the only replica behind a load balancer cannot be zero-downtime',
    );
  const shutdown = recovery.shutdown;
  if (shutdown) {
    refineReplicas(
      { config, issue, service },
      'shutdown',
      shutdown,
      'needs at least two replicas behind the entry point: one takes the new requests while the other shuts down',
    );
    for (const id of shutdown.replicas)
      if (config.services[id] && !config.services[id].ports.includes(shutdown.port))
        issue(['shutdown', 'port'], `port ${shutdown.port} is not in services.${id}.ports`);
  }
}

/** The issue and service checkers of `refineRecovery`, for the drills' own refinements. */
interface RecoveryRefiners {
  readonly config: RefinementCtx['config'];
  readonly issue: (path: (string | number)[], message: string) => void;
  readonly service: (path: (string | number)[], id: string, port?: number) => void;
}

/** Replicas behind an entry point (rolling, shutdown): known services with a health check, each once, not the entry point, at least two. */
function refineReplicas(
  { config, issue, service }: RecoveryRefiners,
  section: 'rolling' | 'shutdown',
  drill: { readonly replicas: readonly string[]; readonly via: { readonly service: string; readonly port: number } },
  needsTwo: string,
): void {
  const { replicas, via } = drill;
  service([section, 'via', 'service'], via.service, via.port);
  replicas.forEach((id, i) => {
    service([section, 'replicas', i], id);
    if (id === via.service) issue([section, 'replicas', i], 'is the entry point itself');
    if (config.services[id] && config.services[id].health === undefined)
      issue([section, 'replicas', i], `services.${id} has no health check to tell that it is back; declare one`);
    if (replicas.indexOf(id) !== i) issue([section, 'replicas', i], `lists "${id}" twice`);
  });
  if (replicas.length < 2) issue([section, 'replicas'], needsTwo);
}

/** The backup drill: its database and services are known (the services with a health check), its ledger writes have a ledger and a target, each table once. */
function refineBackup(
  { config, issue, service }: RecoveryRefiners,
  recovery: RecoveryConfig,
  backup: NonNullable<RecoveryConfig['backup']>,
): void {
  service(['backup', 'database', 'service'], backup.database.service);
  backup.services.forEach((id, i) => {
    service(['backup', 'services', i], id);
    if (config.services[id] && config.services[id].health === undefined)
      issue(['backup', 'services', i], `services.${id} has no health check to tell that it is back; declare one`);
  });
  if ((backup.writesBeforeBackup > 0 || backup.writesAfterBackup > 0) && !recovery.ledger)
    issue(['backup', 'writesBeforeBackup'], 'ledger writes need recovery.ledger; set both counts to 0 for none');
  if ((backup.writesBeforeBackup > 0 || backup.writesAfterBackup > 0) && !recovery.target)
    issue(['target'], 'is required for the backup drill ledger writes: declare target: { service, port }');
  const names = backup.tables.map((t) => (typeof t === 'string' ? t : t.name));
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) issue(['backup', 'tables', i], `lists table "${n}" twice`);
  });
}
