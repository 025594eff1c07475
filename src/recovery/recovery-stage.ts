import { join } from 'node:path';
import { RECOVERY_DRILLS, recoveryDrills } from '../config/stages/recovery.ts';
import type { RecoveryBackupConfig, RecoveryConfig, RecoveryDrill } from '../config/stages/recovery.ts';
import type { CheckResult, Metric, Severity } from '../core/check-result.ts';
import { stageAuthenticator } from '../auth/stage.ts';
import { SystemFailureError } from '../core/errors.ts';
import { derivedSeed, seededRandom } from '../core/seed.ts';
import { actAs } from '../auth/act-as.ts';
import type { Identity } from '../auth/act-as.ts';
import type { HttpRequest } from '../runner/http.ts';
import { notApplicableMessage, notConfiguredCheck } from '../runner/not-applicable.ts';
import { noContainerAccessReason } from '../stack/stack-handle.ts';
import type { NotConfiguredFamily } from '../runner/not-applicable.ts';
import { runCheck } from '../runner/suite.ts';
import type { CheckOutcome, CheckSpec, PlanContext, PlannedCheck, SuiteContext } from '../runner/suite.ts';
import { assertNever } from '../core/stage.ts';
import { WriteLedger } from '../runner/write-ledger.ts';
import type { LedgerVerdict } from '../runner/write-ledger.ts';
import { renderString, renderTemplate } from '../runner/templates.ts';
import { Timeline } from '../runner/timeline.ts';
import { ApiClient, describeExec, execIn, ServiceContainer, waitHealthy } from './drill-io.ts';
import { compareSnapshots, fillCommand, formatSnapshots, parseSnapshot, snapshotQuery } from './integrity.ts';
import type { TableSnapshot } from './integrity.ts';
import { judgeAroundEvent, judgeRpo } from './ledger-windows.ts';
import { judgeZeroDowntime } from './rolling-judge.ts';
import { burstLines, goingAwaySamples, judgeInFlight, judgeRouting, tallyRound } from './shutdown-judge.ts';
import type { BurstSample, ShutdownRound } from './shutdown-judge.ts';
import { SteadyLoad, summarizeLoad } from './steady-load.ts';
import type { LoadSample, LoadSummary } from './steady-load.ts';

type Target = { readonly service: string; readonly port: number };

/** Shared by the drills of one run. */
interface Drill {
  readonly context: SuiteContext;
  readonly recovery: RecoveryConfig;
  readonly api: ApiClient;
  readonly handleFiles: readonly string[];
  readonly results: CheckResult[];
}

const round = (n: number): number => Math.round(n);

/** One check of a drill, as planned and as recorded (its id without the `recovery.` prefix). */
interface DrillCheck {
  readonly id: string;
  readonly name: string;
  readonly feature: string;
  readonly severity: Severity;
  readonly remediation: string;
  /** It judges a deadline or requests that a saturated host can slow: a failure then is the host's (runCheck). */
  readonly judgesTiming?: boolean;
}

const BACKUP = 'backup and restore';
const CRASH = 'crash recovery';
const ROLLING = 'rolling restart';
const SHUTDOWN = 'graceful shutdown';

/** The checks of the backup-restore drill, in order. */
function backupChecks(backup: RecoveryBackupConfig) {
  return {
    taken: {
      id: 'backup.taken',
      name: 'Backup: taken, readable, consistent with the live tables',
      feature: BACKUP,
      severity: 'critical',
      remediation:
        'Make the backup command succeed against the live database and produce a file its restore tool can read',
    },
    integrity: {
      id: 'backup.integrity',
      name: 'Restore integrity: row counts and checksums of every table match the backup',
      feature: BACKUP,
      severity: 'critical',
      remediation:
        'The restore must bring back every row of the backup: check the restore command, its exit code and its output',
    },
    rto: {
      id: 'backup.rto',
      name: `Services back after the restore within the RTO (${backup.rtoTargetMs}ms)`,
      feature: BACKUP,
      severity: 'critical',
      judgesTiming: true,
      remediation:
        'Reconnect to the database on your own after it comes back (a connection pool that replaces broken connections), and tell the truth in the health check',
    },
    rpo: {
      id: 'backup.rpo',
      name: 'RPO: every write acknowledged before the backup survives the restore; later ones counted',
      feature: BACKUP,
      severity: 'critical',
      remediation: 'Acknowledge a write only once it is committed, so a backup taken afterwards contains it',
    },
  } as const satisfies Record<string, DrillCheck>;
}

/** The checks of the crash drill, in order. */
function crashChecks(crash: NonNullable<RecoveryConfig['crash']>) {
  return {
    back: {
      id: 'crash.back',
      name: `Crash recovery: ${crash.service} killed under load is healthy again within ${crash.withinMs}ms`,
      feature: CRASH,
      severity: 'blocker',
      judgesTiming: true,
      remediation:
        'Start quickly and without manual steps after a crash (idempotent migrations, dependencies re-resolved)',
    },
    ledger: {
      id: 'crash.ledger',
      name: 'Crash recovery: every write acknowledged before the kill is there afterwards',
      feature: CRASH,
      severity: 'blocker',
      remediation: 'Acknowledge a write only once it is committed to the database, never from an in-memory buffer',
    },
  } as const satisfies Record<string, DrillCheck>;
}

/** The checks of the rolling-restart drill, in order. */
function rollingChecks(rolling: NonNullable<RecoveryConfig['rolling']>) {
  return {
    replicas: {
      id: 'rolling.replicas',
      name: 'Rolling restart: each replica stops gracefully, starts and is healthy again',
      feature: ROLLING,
      severity: 'critical',
      judgesTiming: true,
      remediation: 'Stop on SIGTERM within the grace period and start without manual steps',
    },
    zeroDowntime: {
      id: 'rolling.zero-downtime',
      name: `Rolling restart: no failed request through ${rolling.via.service} while the replicas restart one at a time`,
      feature: ROLLING,
      severity: 'critical',
      judgesTiming: true,
      remediation:
        'Drain before stopping: fail readiness on SIGTERM and keep serving until the load balancer has taken the replica out; let the load balancer retry connection failures on another replica',
    },
  } as const satisfies Record<string, DrillCheck>;
}

type ShutdownConfig = NonNullable<RecoveryConfig['shutdown']>;

/** The checks of the graceful-shutdown drill, in order. */
function shutdownChecks(shutdown: ShutdownConfig) {
  return {
    inFlight: {
      id: 'shutdown.in-flight',
      name: `Graceful shutdown: no request in flight at a replica's SIGTERM is cut (directly and through ${shutdown.via.service}), drain time measured`,
      feature: SHUTDOWN,
      severity: 'critical',
      judgesTiming: true,
      remediation:
        'On SIGTERM stop taking new connections but finish every request in flight before exiting (close the server gracefully), within the grace period',
    },
    routing: {
      id: 'shutdown.routing',
      name: `Graceful shutdown: no new request through ${shutdown.via.service} is routed to a replica going away`,
      feature: SHUTDOWN,
      severity: 'critical',
      judgesTiming: true,
      remediation:
        'Fail readiness on SIGTERM and keep serving until the load balancer has taken the replica out (a drain delay longer than its health-check interval)',
    },
  } as const satisfies Record<string, DrillCheck>;
}

/** The checks one drill is due to record, from its config (none when its section is missing). */
function drillChecks(recovery: RecoveryConfig, drill: RecoveryDrill): DrillCheck[] {
  switch (drill) {
    case 'backup-restore':
      return recovery.backup ? Object.values(backupChecks(recovery.backup)) : [];
    case 'crash':
      return recovery.crash ? Object.values(crashChecks(recovery.crash)) : [];
    case 'rolling-restart':
      return recovery.rolling ? Object.values(rollingChecks(recovery.rolling)) : [];
    case 'shutdown':
      return recovery.shutdown ? Object.values(shutdownChecks(recovery.shutdown)) : [];
    default:
      return assertNever(drill, 'recovery drill');
  }
}

const planned = (c: DrillCheck): PlannedCheck => ({
  id: `recovery.${c.id}`,
  name: c.name,
  feature: c.feature,
  severity: c.severity,
  tags: ['recovery', c.feature],
});

/** The recovery stage's plan: every check of every configured drill, known before any drill runs. */
export function planRecoveryStage(context: PlanContext): PlannedCheck[] {
  const recovery = context.config.recovery;
  if (!recovery) return [];
  return recoveryDrills(recovery).flatMap((d) => drillChecks(recovery, d).map(planned));
}

/** How a drill check runs: never retried (a drill is not repeated), host load watched when it judges timing. */
function drillSpec(spec: DrillCheck, remediation = spec.remediation): CheckSpec {
  return { ...planned(spec), remediation, retries: 0, ...(spec.judgesTiming === true ? { judgesTiming: true } : {}) };
}

/** The run specs of every check of every configured drill (what `runCheck` gets), in plan order. */
export function recoveryCheckSpecs(recovery: RecoveryConfig): CheckSpec[] {
  return recoveryDrills(recovery).flatMap((d) => drillChecks(recovery, d).map((c) => drillSpec(c)));
}

async function check(
  drill: Drill,
  spec: DrillCheck,
  timeline: Timeline,
  body: () => Promise<CheckOutcome>,
  remediation = spec.remediation,
): Promise<CheckResult> {
  const result = await runCheck(drill.context, drillSpec(spec, remediation), async () => {
    const outcome = await body();
    return {
      ...outcome,
      parameters: { seed: String(drill.context.seed), ...outcome.parameters },
      evidence: [
        ...(outcome.evidence ?? []),
        { name: 'drill timeline', contentType: 'text/plain', content: timeline.text() },
      ],
    };
  });
  drill.results.push(result);
  return result;
}

/** Records each of a drill's remaining checks as `unknown` (not run), with the reason and their planned severity. */
async function notRun(
  drill: Drill,
  why: string,
  checks: readonly DrillCheck[],
  timeline = new Timeline(),
): Promise<void> {
  for (const spec of checks)
    await check(
      drill,
      spec,
      timeline,
      () => Promise.resolve({ status: 'unknown', message: `Not run: ${why}` }),
      `Make the drill reach this check: ${why}`,
    );
}

function ledgerFor(drill: Drill, target: Target, id: string): WriteLedger | undefined {
  if (!drill.recovery.ledger) return undefined;
  const random = seededRandom(derivedSeed(drill.context.seed, `ledger:${id}`));
  return new WriteLedger(
    drill.recovery.ledger,
    { maxAttempts: 3 },
    drill.api.ledgerIo(target, random),
    'recovery.ledger',
  );
}

function ledgerEvidence(verdict: LedgerVerdict, extra: readonly string[]): CheckOutcome['evidence'] {
  return [{ name: 'write ledger', contentType: 'text/plain', content: [...extra, '', ...verdict.lines].join('\n') }];
}

/** Sends the configured requests in turn; ok means an expected status. */
function loadSender(drill: Drill, target: Target) {
  const requests = drill.recovery.load?.requests ?? [];
  return async (i: number) => {
    const spec = requests[i % requests.length];
    if (!spec) throw new Error('recovery.load.requests is empty');
    const req: HttpRequest = {
      method: spec.method,
      path: spec.path,
      auth: spec.auth,
      headers: spec.headers,
      ...(spec.body === undefined ? {} : { body: spec.body }),
    };
    const outcome = await drill.api.request(target, req);
    return { label: `${spec.method} ${spec.path}`, outcome, ok: spec.expectStatus.includes(outcome.status) };
  };
}

/** What the traffic of a drill saw: steady-load samples (summarized once) and the ledger's write attempts. */
interface TrafficResult {
  readonly startMs: number;
  readonly samples: readonly LoadSample[];
  readonly summary: LoadSummary;
  /** Ledger write attempts, and those whose status did not acknowledge. */
  readonly writes: number;
  readonly writeFailures: number;
}

/** Steady load plus a ledger writer on one target, until `stop`. */
function startTraffic(drill: Drill, target: Target, ledger: WriteLedger | undefined) {
  const load = drill.recovery.load;
  if (!load) throw new Error('recovery.load is not configured');
  const { clock, signal } = drill.context;
  const startMs = clock.monotonicMs();
  const steady = new SteadyLoad({
    ratePerSec: load.ratePerSec,
    maxInFlight: load.maxInFlight,
    clock,
    signal,
    send: loadSender(drill, target),
  }).start();
  let stopped = false;
  let acked: (() => void)[] = [];
  const writer = (async () => {
    if (!ledger || load.writesPerSec <= 0) return;
    const everyMs = 1000 / load.writesPerSec;
    const isStopped = (): boolean => stopped || signal.aborted;
    while (!isStopped()) {
      const started = clock.monotonicMs();
      const entry = await ledger.write(isStopped);
      if (entry.id !== undefined) {
        for (const resolveAck of acked) resolveAck();
        acked = [];
      }
      const rest = everyMs - (clock.monotonicMs() - started);
      if (rest > 0) await clock.sleep(rest, signal).catch(() => undefined);
    }
  })();
  return {
    /** Resolves right after the next acknowledged write (or after `timeoutMs`): the most demanding instant to crash. */
    nextAck: (timeoutMs: number): Promise<void> =>
      new Promise<void>((resolveAck) => {
        acked.push(resolveAck);
        clock
          .sleep(timeoutMs, signal)
          .catch(() => undefined)
          .finally(resolveAck);
      }),
    stop: async (): Promise<TrafficResult> => {
      stopped = true;
      const samples = await steady.stop();
      await writer.catch(() => undefined);
      const acknowledged = drill.recovery.ledger?.write.acknowledged ?? [];
      const entries = ledger?.entries ?? [];
      return {
        startMs,
        samples,
        summary: summarizeLoad(samples),
        writes: entries.reduce((n, e) => n + e.attempts, 0),
        // A failed write attempt counts as a failed request, like a failed load sample.
        writeFailures: entries.reduce((n, e) => n + e.statuses.filter((st) => !acknowledged.includes(st)).length, 0),
      };
    },
  };
}

function loadMetrics(prefix: string, t: TrafficResult): Metric[] {
  return [
    { name: `${prefix}_requests`, value: t.summary.total + t.writes, unit: 'count' },
    { name: `${prefix}_failed_requests`, value: t.summary.failed + t.writeFailures, unit: 'count' },
  ];
}

function loadEvidence({ samples, summary, startMs }: TrafficResult): CheckOutcome['evidence'] {
  const lines = [
    `${summary.total} requests, ${summary.failed} failed`,
    ...summary.failureKinds.map((k) => `  ${k.count} x ${k.kind}`),
    '',
    ...samples
      .filter((s) => !s.ok)
      .slice(0, 200)
      .map((s) => `+${round(s.atMs - startMs)}ms ${s.label} -> ${s.status || s.error || 'no answer'}`),
  ];
  return [{ name: 'load', contentType: 'text/plain', content: lines.join('\n') }];
}

// ---- backup and restore -------------------------------------------------------------------------

async function runCommand(
  drill: Drill,
  backup: RecoveryBackupConfig,
  argv: readonly string[],
  vars: Record<string, string>,
  timeline: Timeline,
): Promise<{ ok: boolean; stdout: string; detail: string; elapsedMs: number }> {
  const filled = fillCommand(argv, vars);
  const out = await execIn(drill.context, backup.database.service, filled, backup.commandTimeoutMs);
  const detail = describeExec(filled, out);
  timeline.log(`${out.exitCode === 0 ? 'ok' : 'FAILED'} in ${round(out.elapsedMs)}ms: ${detail.slice(0, 300)}`);
  return { ok: out.exitCode === 0, stdout: out.stdout, detail, elapsedMs: out.elapsedMs };
}

async function snapshotTables(
  drill: Drill,
  backup: RecoveryBackupConfig,
  database: string,
  timeline: Timeline,
): Promise<TableSnapshot[]> {
  const out: TableSnapshot[] = [];
  for (const table of backup.tables) {
    const { table: name, sql } = snapshotQuery(table);
    const vars = varsOf(backup, { database, sql });
    const result = await runCommand(drill, backup, backup.commands.query, vars, timeline);
    if (!result.ok) throw new Error(`snapshot of ${name} in ${database} failed: ${result.detail}`);
    out.push(parseSnapshot(name, result.stdout));
  }
  return out;
}

function varsOf(backup: RecoveryBackupConfig, extra: Record<string, string> = {}): Record<string, string> {
  return {
    file: backup.file,
    database: backup.database.name,
    staging: backup.database.staging ?? `${backup.database.name}_readiness_restore`,
    user: backup.database.user,
    sql: '',
    ...extra,
  };
}

/** What the backup-restore drill carries from one phase to the next. */
interface BackupRun {
  readonly drill: Drill;
  readonly backup: RecoveryBackupConfig;
  readonly specs: ReturnType<typeof backupChecks>;
  readonly vars: Record<string, string>;
  readonly timeline: Timeline;
  readonly ledger: WriteLedger | undefined;
  backupStartMs: number;
  backupEndMs: number;
  /** The restored database is in place (or nothing was destroyed): the teardown has nothing to restore. */
  promoted: boolean;
}

/** Backup, destroy, restore, verify, promote; then the RTO and the RPO. */
async function backupRestoreDrill(drill: Drill, backup: RecoveryBackupConfig): Promise<void> {
  const { context, recovery } = drill;
  const vars = varsOf(backup);
  context.teardowns.add(`remove the backup file ${backup.file} in ${backup.database.service}`, async () => {
    await execIn(context, backup.database.service, fillCommand(backup.commands.cleanup, vars), 30_000).catch(
      () => undefined,
    );
  });
  const target = recovery.target;
  const run: BackupRun = {
    drill,
    backup,
    specs: backupChecks(backup),
    vars,
    timeline: new Timeline(),
    ledger: target ? ledgerFor(drill, target, 'backup') : undefined,
    backupStartMs: 0,
    backupEndMs: 0,
    promoted: false,
  };
  await writeLedger(run, backup.writesBeforeBackup, 'before the backup');
  const snapshot = await takeBackup(run);
  if (!snapshot) {
    await notRun(drill, 'no usable backup', [run.specs.integrity, run.specs.rto, run.specs.rpo], run.timeline);
    return;
  }
  await writeLedger(run, backup.writesAfterBackup, 'after the backup');
  const destroyedAtMs = await destroyData(run);
  if (destroyedAtMs === undefined) return;
  const restoreMs = await restoreAndVerify(run, snapshot);
  // Promote whatever the verdict, so the stack runs again for the later drills.
  const promote = await runCommand(drill, backup, backup.commands.promote, vars, run.timeline);
  run.promoted = promote.ok;
  const rto = await checkRto(run, { destroyedAtMs, restoreMs, promote });
  if (rto.status !== 'passed' && backup.restartOnMiss) await restartAfterMissedRto(run);
  await checkRpo(run, destroyedAtMs);
}

/** `n` ledger writes, each logged (none without a ledger). */
async function writeLedger(run: BackupRun, n: number, phase: string): Promise<void> {
  if (!run.ledger) return;
  for (let i = 0; i < n; i += 1) {
    const entry = await run.ledger.write();
    run.timeline.log(
      `ledger write #${entry.seq} ${phase}: ${entry.id ? `acknowledged ${entry.id}` : `not acknowledged [${entry.statuses.join(', ')}]`}`,
    );
  }
}

/**
 * `backup.taken`: the backup between two snapshots that must agree (no writer in between), its
 * table of contents read back. Returns the snapshot to verify the restore against, when usable.
 */
async function takeBackup(run: BackupRun): Promise<TableSnapshot[] | undefined> {
  const { drill, backup, vars, timeline } = run;
  const { clock } = drill.context;
  let snapshot: TableSnapshot[] | undefined;
  const taken = await check(drill, run.specs.taken, timeline, async () => {
    const attempts: string[] = [];
    for (let attempt = 1; attempt <= backup.quiesceAttempts; attempt += 1) {
      const before = await snapshotTables(drill, backup, backup.database.name, timeline);
      run.backupStartMs = clock.monotonicMs();
      const dump = await runCommand(drill, backup, backup.commands.backup, vars, timeline);
      run.backupEndMs = clock.monotonicMs();
      const backupMs = run.backupEndMs - run.backupStartMs;
      if (!dump.ok) return { status: 'failed', message: `The backup command failed: ${dump.detail}` };
      const toc = await runCommand(drill, backup, backup.commands.inspect, vars, timeline);
      if (!toc.ok) return { status: 'failed', message: `The backup cannot be read back: ${toc.detail}` };
      const tocEntries = toc.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';')).length;
      const after = await snapshotTables(drill, backup, backup.database.name, timeline);
      const moved = compareSnapshots(before, after);
      if (moved.length === 0) {
        snapshot = after;
        return {
          status: 'passed',
          message: `Backup of ${backup.database.name} in ${round(backupMs)}ms, ${tocEntries} entries in its table of contents; ${after.length} tables snapshotted`,
          metrics: [
            { name: 'backup_ms', value: round(backupMs), unit: 'ms' },
            { name: 'backup_toc_entries', value: tocEntries, unit: 'count' },
          ],
          evidence: [{ name: 'tables at the backup', contentType: 'text/plain', content: formatSnapshots(after) }],
          parameters: { attempts: String(attempt) },
        };
      }
      attempts.push(`attempt ${attempt}: ${moved.map((m) => `${m.table} changed`).join(', ')}`);
      timeline.log(`tables changed during the backup (${attempts.at(-1) ?? ''}); again`);
    }
    return {
      status: 'broken',
      message: `The tables kept changing during the backup (${attempts.join('; ')}): the snapshot to verify against is not the backup's. Quiesce writers during the drill or give tables a query that ignores volatile rows`,
    };
  });
  return taken.status === 'passed' ? snapshot : undefined;
}

/**
 * Destroys the database, after registering the teardown that restores it if the run stops before
 * the promotion. Returns when it was destroyed; when the destroy step fails, records integrity
 * `broken` and the RTO and RPO not run, and returns undefined.
 */
async function destroyData(run: BackupRun): Promise<number | undefined> {
  const { drill, backup, vars, timeline, specs } = run;
  const { context } = drill;
  context.teardowns.add(
    `restore ${backup.database.name} from the backup if the drill stopped before promoting it`,
    async () => {
      if (run.promoted) return;
      const teardownContext = { handle: context.handle, signal: new AbortController().signal };
      for (const argv of [backup.commands.create, backup.commands.restore, backup.commands.promote])
        await execIn(teardownContext, backup.database.service, fillCommand(argv, vars), backup.commandTimeoutMs);
    },
  );
  const destroyedAtMs = context.clock.monotonicMs();
  const destroy = await runCommand(drill, backup, backup.commands.destroy, vars, timeline);
  if (destroy.ok) return destroyedAtMs;
  run.promoted = true; // nothing was destroyed
  await check(
    drill,
    specs.integrity,
    timeline,
    () => Promise.resolve({ status: 'broken', message: `Could not destroy the data to restore it: ${destroy.detail}` }),
    'Fix recovery.backup.commands.destroy',
  );
  await notRun(
    drill,
    'the destroy step failed, so nothing was restored: there is no restore to time or to count writes after',
    [specs.rto, specs.rpo],
    timeline,
  );
  return undefined;
}

/** `backup.integrity`: restore into the staging database and compare it with the backup's snapshot. Returns the restore time. */
async function restoreAndVerify(run: BackupRun, expected: readonly TableSnapshot[]): Promise<number> {
  const { drill, backup, vars, timeline } = run;
  const { clock } = drill.context;
  let restoreMs = 0;
  await check(drill, run.specs.integrity, timeline, async () => {
    const started = clock.monotonicMs();
    const create = await runCommand(drill, backup, backup.commands.create, vars, timeline);
    if (!create.ok)
      return { status: 'broken', message: `Could not create the database to restore into: ${create.detail}` };
    const restore = await runCommand(drill, backup, backup.commands.restore, vars, timeline);
    restoreMs = clock.monotonicMs() - started;
    if (!restore.ok) return { status: 'failed', message: `The restore failed: ${restore.detail}` };
    const restored = await snapshotTables(drill, backup, vars.staging ?? '', timeline);
    const diffs = compareSnapshots(expected, restored);
    const evidence = [
      {
        name: 'tables: backup vs restored',
        contentType: 'text/plain',
        content: `backup\n${formatSnapshots(expected)}\n\nrestored\n${formatSnapshots(restored)}`,
      },
    ];
    const metrics = [{ name: 'restore_ms', value: round(restoreMs), unit: 'ms' }];
    if (diffs.length > 0)
      return {
        status: 'failed',
        message: `The restore does not match the backup: ${diffs.map((d) => `${d.table}: ${d.problem}`).join('; ')}`,
        metrics,
        evidence,
      };
    return {
      status: 'passed',
      message: `${restored.length} tables, ${restored.reduce((n, s) => n + s.rows, 0)} rows restored with matching checksums in ${round(restoreMs)}ms`,
      metrics,
      evidence,
    };
  });
  return restoreMs;
}

/** `backup.rto`: every service healthy again by itself (no restart) within the target from the destruction. */
async function checkRto(
  run: BackupRun,
  restored: { destroyedAtMs: number; restoreMs: number; promote: { ok: boolean; detail: string } },
): Promise<CheckResult> {
  const { drill, backup, timeline } = run;
  const { context } = drill;
  const { clock } = context;
  const { destroyedAtMs, restoreMs, promote } = restored;
  return check(drill, run.specs.rto, timeline, async () => {
    if (!promote.ok) return { status: 'broken', message: `Could not promote the restored database: ${promote.detail}` };
    const deadlineMs = destroyedAtMs + backup.rtoTargetMs;
    const back: string[] = [];
    const missing: string[] = [];
    let lastBackMs = 0;
    for (const service of backup.services) {
      const left = Math.max(0, deadlineMs - clock.monotonicMs());
      const health = await waitHealthy(context, service, left, 200);
      if (health.healthy) {
        lastBackMs = Math.max(lastBackMs, clock.monotonicMs() - destroyedAtMs);
        back.push(service);
        timeline.log(`${service} healthy ${round(clock.monotonicMs() - destroyedAtMs)}ms after the destruction`);
      } else {
        missing.push(`${service} (${health.detail})`);
        timeline.log(`${service} not healthy within the RTO target: ${health.detail}`);
      }
    }
    const metrics: Metric[] = [
      { name: 'rto_ms', value: round(missing.length ? clock.monotonicMs() - destroyedAtMs : lastBackMs), unit: 'ms' },
      { name: 'rto_target_ms', value: backup.rtoTargetMs, unit: 'ms' },
      { name: 'restore_ms', value: round(restoreMs), unit: 'ms' },
    ];
    if (missing.length > 0)
      return {
        status: 'failed',
        message: `Not healthy within the RTO target of ${backup.rtoTargetMs}ms after the database was destroyed and restored, without a restart: ${missing.join(', ')}`,
        metrics,
      };
    return {
      status: 'passed',
      message: `RTO ${round(lastBackMs)}ms (target ${backup.rtoTargetMs}ms): ${back.join(', ')} healthy again without a restart`,
      metrics,
    };
  });
}

/** After a missed RTO: restart the services, so the later drills start from a running stack. */
async function restartAfterMissedRto({ drill, backup, timeline }: BackupRun): Promise<void> {
  const { context } = drill;
  for (const service of backup.services) {
    const container = new ServiceContainer(context, service, drill.handleFiles);
    timeline.log(`restarting ${service} so the later drills start from a running stack`);
    await container
      .restart(10)
      .catch((error: unknown) => timeline.log(`restart of ${service} failed: ${String(error)}`));
    const health = await waitHealthy(
      context,
      service,
      context.config.services[service]?.health?.timeoutMs ?? 60_000,
      200,
    );
    timeline.log(`${service} after the restart: ${health.healthy ? 'healthy' : health.detail}`);
  }
}

/** `backup.rpo`: writes acknowledged before the backup survive; those after it are lost by design, counted and listed. */
async function checkRpo(run: BackupRun, destroyedAtMs: number): Promise<void> {
  const { drill, backup, ledger } = run;
  await check(drill, run.specs.rpo, run.timeline, async () => {
    const windowMs = round(destroyedAtMs - run.backupStartMs);
    if (!ledger) return judgeRpo({ windowMs, writesBeforeBackup: backup.writesBeforeBackup });
    const verdict = await ledger.verify();
    const judged = judgeAroundEvent(ledger.entries, verdict.classes, run.backupStartMs, run.backupEndMs, 'backup');
    return judgeRpo({ windowMs, writesBeforeBackup: backup.writesBeforeBackup, ledger: { verdict, judged } });
  });
}

// ---- crash recovery -----------------------------------------------------------------------------

/** What the crash phase saw: the kill, the return, the traffic around them. */
interface CrashSeen {
  readonly killedAtMs: number;
  /** Kill to healthy again; undefined when it did not come back within `withinMs`. */
  readonly backAfterMs: number | undefined;
  /** The last health observation. */
  readonly detail: string;
  /** Whether the kill took effect (a container still running after SIGKILL means the crash did not happen). */
  readonly proof: string;
  readonly traffic: TrafficResult;
}

/** The crash drill: the service killed under load right after an acknowledged write, then its return and the ledger. */
async function crashDrill(drill: Drill, crash: NonNullable<RecoveryConfig['crash']>): Promise<void> {
  const { context } = drill;
  const timeline = new Timeline();
  const specs = crashChecks(crash);
  const target = { service: crash.service, port: crash.port };
  const container = new ServiceContainer(context, crash.service, drill.handleFiles);
  context.teardowns.add(`start ${crash.service} again if the crash drill left it stopped`, async () => {
    await container.ensureRunning();
  });
  const ledger = ledgerFor(drill, target, 'crash');
  const ready = await waitHealthy(context, crash.service, 30_000, 200);
  if (!ready.healthy) {
    await notRun(drill, `${crash.service} was not healthy before the crash (${ready.detail})`, [
      specs.back,
      specs.ledger,
    ]);
    return;
  }
  const seen = await crashUnderLoad(drill, crash, { target, container, ledger, timeline });
  await checkCrashBack(drill, crash, seen, timeline);
  await checkCrashLedger(drill, crash, { seen, ledger, timeline });
}

/** Load and ledger writes, SIGKILL right after an acknowledged write, start again, wait healthy, a little more load. */
async function crashUnderLoad(
  drill: Drill,
  crash: NonNullable<RecoveryConfig['crash']>,
  io: { target: Target; container: ServiceContainer; ledger: WriteLedger | undefined; timeline: Timeline },
): Promise<CrashSeen> {
  const { context } = drill;
  const { clock } = context;
  const { container, timeline } = io;
  const traffic = startTraffic(drill, io.target, io.ledger);
  let killedAtMs: number;
  let backAfterMs: number | undefined;
  let detail: string;
  let proof: string;
  let seen: TrafficResult;
  try {
    await clock.sleep(crash.warmupMs, context.signal);
    await traffic.nextAck(5_000);
    killedAtMs = clock.monotonicMs();
    await container.kill();
    const state = await container.state();
    proof = `${crash.service} running=${state.running} (status ${state.status}) after SIGKILL`;
    timeline.log(`SIGKILL ${crash.service}; ${proof}`);
    if (crash.restartDelayMs > 0) await clock.sleep(crash.restartDelayMs, context.signal);
    await container.ensureRunning();
    timeline.log(`${crash.service} started again (docker start of the same container)`);
    if (state.running) proof = `${crash.service} was still running after SIGKILL: the crash did not happen`;
    const left = Math.max(0, killedAtMs + crash.withinMs - clock.monotonicMs());
    const health = await waitHealthy(context, crash.service, left, 100);
    detail = health.detail;
    if (health.healthy) backAfterMs = clock.monotonicMs() - killedAtMs;
    timeline.log(
      health.healthy
        ? `${crash.service} healthy ${round(backAfterMs ?? 0)}ms after the kill`
        : `${crash.service} not healthy: ${detail}`,
    );
    await clock.sleep(crash.afterMs, context.signal);
  } finally {
    seen = await traffic.stop();
  }
  return { killedAtMs, backAfterMs, detail, proof, traffic: seen };
}

/** `crash.back`: healthy again within `withinMs` of the kill (and at most `maxFailedRequests` failed, when set). */
async function checkCrashBack(
  drill: Drill,
  crash: NonNullable<RecoveryConfig['crash']>,
  { backAfterMs, detail, proof, traffic }: CrashSeen,
  timeline: Timeline,
): Promise<void> {
  const metrics = loadMetrics('crash', traffic);
  await check(drill, crashChecks(crash).back, timeline, () => {
    if (proof.includes('still running')) return Promise.resolve({ status: 'broken', message: proof });
    const all = [
      ...metrics,
      ...(backAfterMs === undefined ? [] : [{ name: 'crash_recovery_ms', value: round(backAfterMs), unit: 'ms' }]),
    ];
    const failed = traffic.summary.failed + traffic.writeFailures;
    const evidence = loadEvidence(traffic);
    if (backAfterMs === undefined)
      return Promise.resolve({
        status: 'failed',
        message: `${crash.service} not healthy within ${crash.withinMs}ms of the kill (${detail})`,
        metrics: all,
        evidence,
      });
    if (crash.maxFailedRequests !== undefined && failed > crash.maxFailedRequests)
      return Promise.resolve({
        status: 'failed',
        message: `${failed} requests failed around the crash (at most ${crash.maxFailedRequests} allowed)`,
        metrics: all,
        evidence,
      });
    return Promise.resolve({
      status: 'passed',
      message: `${crash.service} healthy ${round(backAfterMs)}ms after SIGKILL; ${failed} of ${traffic.summary.total + traffic.writes} requests failed around the crash`,
      metrics: all,
      evidence,
    });
  });
}

/** `crash.ledger`: every write acknowledged before the kill is there afterwards. */
async function checkCrashLedger(
  drill: Drill,
  crash: NonNullable<RecoveryConfig['crash']>,
  { seen, ledger, timeline }: { seen: CrashSeen; ledger: WriteLedger | undefined; timeline: Timeline },
): Promise<void> {
  const { killedAtMs, backAfterMs } = seen;
  await check(drill, crashChecks(crash).ledger, timeline, async () => {
    if (!ledger) return { status: 'unknown', message: 'No recovery.ledger configured: no write was checked' };
    if (backAfterMs === undefined)
      return { status: 'unknown', message: `${crash.service} did not come back: the writes cannot be read` };
    const verdict = await ledger.verify();
    const judged = judgeAroundEvent(ledger.entries, verdict.classes, killedAtMs, killedAtMs, 'kill');
    const metrics: Metric[] = [
      { name: 'crash_writes_before_kill', value: judged.dueBefore, unit: 'count' },
      { name: 'crash_writes_lost', value: judged.mustSurviveMissing.length, unit: 'count' },
    ];
    const evidence = ledgerEvidence(
      verdict,
      judged.mustSurviveMissing.length ? ['Lost:', ...judged.mustSurviveMissing] : [],
    );
    if (judged.mustSurviveMissing.length > 0)
      return {
        status: 'failed',
        message: `${judged.mustSurviveMissing.length} of ${judged.dueBefore} writes acknowledged before the kill are gone: ${judged.mustSurviveMissing.slice(0, 5).join('; ')}`,
        metrics,
        evidence,
      };
    if (judged.dueBefore === 0 || judged.unknownBefore.length > 0)
      return {
        status: 'broken',
        message: `${judged.dueBefore} writes acknowledged before the kill, ${judged.unknownBefore.length} unreadable: no evidence`,
        metrics,
        evidence,
      };
    return {
      status: 'passed',
      message: `All ${judged.dueBefore} writes acknowledged before the kill are present`,
      metrics,
      evidence,
    };
  });
}

// ---- rolling restart ----------------------------------------------------------------------------

async function rollingDrill(drill: Drill, rolling: NonNullable<RecoveryConfig['rolling']>): Promise<void> {
  const { context } = drill;
  const { clock } = context;
  const timeline = new Timeline();
  const specs = rollingChecks(rolling);
  const via = rolling.via;
  const containers = rolling.replicas.map((s) => ({
    service: s,
    container: new ServiceContainer(context, s, drill.handleFiles),
  }));
  for (const { service, container } of containers)
    context.teardowns.add(`start ${service} again if the rolling restart left it stopped`, async () => {
      await container.ensureRunning();
    });
  for (const { service } of containers) {
    const ready = await waitHealthy(context, service, 30_000, 200);
    if (!ready.healthy) {
      await notRun(drill, `${service} was not healthy before the drill (${ready.detail})`, [
        specs.replicas,
        specs.zeroDowntime,
      ]);
      return;
    }
  }
  const ledger = ledgerFor(drill, via, 'rolling');
  const traffic = startTraffic(drill, via, ledger);
  const restarted: { service: string; ms: number; proof: string }[] = [];
  const problems: string[] = [];
  let seen: TrafficResult;
  try {
    await clock.sleep(rolling.warmupMs, context.signal);
    for (const { service, container } of containers) {
      const before = await container.state();
      const t0 = clock.monotonicMs();
      timeline.log(`docker stop -t ${rolling.stopTimeoutSec} ${service}`);
      await container.stop(rolling.stopTimeoutSec);
      const stoppedMs = clock.monotonicMs() - t0;
      timeline.log(`${service} stopped after ${round(stoppedMs)}ms; starting it again`);
      await container.ensureRunning();
      const health = await waitHealthy(context, service, rolling.withinMs, 100);
      const after = await container.state();
      const proof = `started at ${after.startedAt} (before ${before.startedAt})`;
      if (!health.healthy) {
        problems.push(`${service} not healthy within ${rolling.withinMs}ms of its restart (${health.detail})`);
        timeline.log(problems.at(-1) ?? '');
        break;
      }
      if (after.startedAt === before.startedAt) problems.push(`${service} was not restarted (${proof})`);
      restarted.push({ service, ms: clock.monotonicMs() - t0, proof });
      timeline.log(`${service} healthy ${round(clock.monotonicMs() - t0)}ms after the stop began; ${proof}`);
      await clock.sleep(rolling.betweenMs, context.signal);
    }
    await clock.sleep(rolling.afterMs, context.signal);
  } finally {
    seen = await traffic.stop();
  }
  const metrics: Metric[] = [
    ...loadMetrics('rolling', seen),
    ...restarted.map((r) => ({ name: `rolling_${r.service}_restart_ms`, value: round(r.ms), unit: 'ms' })),
  ];
  await check(drill, specs.replicas, timeline, () =>
    Promise.resolve(
      problems.length > 0
        ? {
            status: problems.some((p) => p.includes('was not restarted')) ? 'broken' : 'failed',
            message: problems.join('; '),
            metrics,
          }
        : {
            status: 'passed',
            message: restarted.map((r) => `${r.service} back in ${round(r.ms)}ms`).join(', '),
            metrics,
          },
    ),
  );
  await check(drill, specs.zeroDowntime, timeline, async () => {
    const { summary, writes } = seen;
    const evidence = [...(loadEvidence(seen) ?? [])];
    let lost: string[] = [];
    if (ledger) {
      const verdict = await ledger.verify();
      lost = [...verdict.failures];
      evidence.push(...(ledgerEvidence(verdict, []) ?? []));
    }
    const verdict = judgeZeroDowntime({
      via: via.service,
      replicas: containers.length,
      restarted: restarted.map((r) => r.service),
      problems,
      summary,
      writes,
      writeFailures: seen.writeFailures,
      lost,
      maxFailedRequests: rolling.maxFailedRequests,
    });
    return { ...verdict, metrics, evidence };
  });
}

// ---- graceful shutdown -------------------------------------------------------------------------

/** One replica of the shutdown drill, with its container. */
interface Replica {
  readonly service: string;
  readonly container: ServiceContainer;
}

/** Sends the burst at once: `burst` requests straight to the replica and as many through `via`. */
function sendBurst(
  drill: Drill,
  shutdown: ShutdownConfig,
  replica: string,
  random: () => number,
): Promise<BurstSample[]> {
  const { clock } = drill.context;
  const routes = [
    { route: 'direct', target: { service: replica, port: shutdown.port } },
    { route: 'via', target: shutdown.via },
  ] as const;
  const one = async (route: BurstSample['route'], target: Target, i: number): Promise<BurstSample> => {
    const spec = shutdown.requests[i % shutdown.requests.length];
    if (!spec) throw new Error('recovery.shutdown.requests is empty');
    const vars = { seq: i };
    const req: HttpRequest = {
      method: spec.method,
      path: spec.path,
      auth: spec.auth,
      headers: Object.fromEntries(Object.entries(spec.headers).map(([k, v]) => [k, renderString(v, vars, random)])),
      timeoutMs: shutdown.requestTimeoutMs,
      ...(spec.body === undefined ? {} : { body: renderTemplate(spec.body, vars, random) }),
    };
    const sentAtMs = clock.monotonicMs();
    const outcome = await drill.api.request(target, req);
    return {
      route,
      label: `${spec.method} ${spec.path}`,
      sentAtMs,
      answeredAtMs: clock.monotonicMs(),
      status: outcome.status,
      expected: spec.expectStatus.includes(outcome.status),
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    };
  };
  return Promise.all(
    routes.flatMap(({ route, target }) => Array.from({ length: shutdown.burst }, (_, i) => one(route, target, i))),
  );
}

/**
 * One round: the burst, SIGTERM `signalAfterMs` later, the exit (or SIGKILL after the grace
 * period), the burst's answers, then the replica started again and waited healthy.
 */
async function shutdownRound(
  drill: Drill,
  shutdown: ShutdownConfig,
  { service, container }: Replica,
  timeline: Timeline,
): Promise<ShutdownRound> {
  const { context } = drill;
  const { clock } = context;
  const graceMs = shutdown.stopTimeoutSec * 1000;
  const random = seededRandom(derivedSeed(context.seed, `shutdown:${service}`));
  const exit = container.nextExit().then((code) => ({ code, atMs: clock.monotonicMs() }));
  // Raced below; a docker wait that fails after the grace period must not become an unhandled rejection.
  exit.catch(() => undefined);
  const burst = sendBurst(drill, shutdown, service, random);
  await clock.sleep(shutdown.signalAfterMs, context.signal);
  const signalStartMs = clock.monotonicMs();
  await container.signal('SIGTERM');
  const signalEndMs = clock.monotonicMs();
  timeline.log(
    `SIGTERM ${service} (${shutdown.burst} requests direct and ${shutdown.burst} through ${shutdown.via.service} sent ${shutdown.signalAfterMs}ms before)`,
  );
  const exited = await Promise.race([exit, clock.sleep(graceMs, context.signal).then(() => undefined)]);
  if (!exited) {
    timeline.log(`${service} still running ${graceMs}ms after SIGTERM: SIGKILL`);
    await container.kill();
  } else
    timeline.log(`${service} exited with code ${exited.code} ${round(exited.atMs - signalStartMs)}ms after SIGTERM`);
  const samples = await burst;
  await container.ensureRunning();
  const health = await waitHealthy(context, service, shutdown.withinMs, 100);
  timeline.log(health.healthy ? `${service} started and healthy again` : `${service} not healthy: ${health.detail}`);
  return {
    replica: service,
    signalStartMs,
    signalEndMs,
    graceMs,
    burst: samples,
    backDetail: health.detail,
    ...(exited ? { drainMs: exited.atMs - signalStartMs, exitCode: exited.code } : {}),
    ...(health.healthy ? { backAtMs: clock.monotonicMs() } : {}),
  };
}

/** The figures of the shutdown drill: drain time per replica, requests in flight, cuts, the steady load. */
function shutdownMetrics(rounds: readonly ShutdownRound[], seen: TrafficResult): Metric[] {
  const tallies = rounds.map((r) => tallyRound(r));
  const sum = (f: (t: ReturnType<typeof tallyRound>) => number): number => tallies.reduce((n, t) => n + f(t), 0);
  return [
    ...rounds.flatMap((r) =>
      r.drainMs === undefined ? [] : [{ name: `shutdown_${r.replica}_drain_ms`, value: round(r.drainMs), unit: 'ms' }],
    ),
    { name: 'shutdown_in_flight_direct', value: sum((t) => t.direct), unit: 'count' },
    { name: 'shutdown_in_flight_via', value: sum((t) => t.via), unit: 'count' },
    { name: 'shutdown_cut_requests', value: sum((t) => t.cut.length), unit: 'count' },
    ...loadMetrics('shutdown', seen),
  ];
}

/** Graceful shutdown under load: each replica in turn gets SIGTERM while requests are in flight. */
async function shutdownDrill(drill: Drill, shutdown: ShutdownConfig): Promise<void> {
  const { context } = drill;
  const { clock } = context;
  const timeline = new Timeline();
  const specs = shutdownChecks(shutdown);
  const replicas: Replica[] = shutdown.replicas.map((service) => ({
    service,
    container: new ServiceContainer(context, service, drill.handleFiles),
  }));
  for (const { service, container } of replicas)
    context.teardowns.add(`start ${service} again if the shutdown drill left it stopped`, async () => {
      await container.ensureRunning();
    });
  for (const { service } of replicas) {
    const ready = await waitHealthy(context, service, 30_000, 200);
    if (!ready.healthy) {
      await notRun(drill, `${service} was not healthy before the drill (${ready.detail})`, [
        specs.inFlight,
        specs.routing,
      ]);
      return;
    }
  }
  const traffic = startTraffic(drill, shutdown.via, undefined);
  const rounds: ShutdownRound[] = [];
  let seen: TrafficResult;
  try {
    await clock.sleep(shutdown.warmupMs, context.signal);
    for (const replica of replicas) {
      const done = await shutdownRound(drill, shutdown, replica, timeline);
      rounds.push(done);
      if (done.backAtMs === undefined) break;
      await clock.sleep(shutdown.betweenMs, context.signal);
    }
    await clock.sleep(shutdown.afterMs, context.signal);
  } finally {
    seen = await traffic.stop();
  }
  await recordShutdown(drill, shutdown, { rounds, seen, endMs: clock.monotonicMs(), timeline });
}

/** Records the two checks of the shutdown drill from what it saw. */
async function recordShutdown(
  drill: Drill,
  shutdown: ShutdownConfig,
  run: { rounds: readonly ShutdownRound[]; seen: TrafficResult; endMs: number; timeline: Timeline },
): Promise<void> {
  const { rounds, seen, endMs, timeline } = run;
  const specs = shutdownChecks(shutdown);
  const via = shutdown.via.service;
  const metrics = shutdownMetrics(rounds, seen);
  const burst = [
    { name: 'requests in flight', contentType: 'text/plain', content: burstLines(rounds).join('\n') },
    // The rounds as data (monotonic ms): judgeInFlight replays them.
    { name: 'shutdown rounds', contentType: 'application/json', content: JSON.stringify(rounds, null, 1) },
  ];
  await check(drill, specs.inFlight, timeline, () =>
    Promise.resolve({ ...judgeInFlight(rounds, via), metrics, evidence: burst }),
  );
  const windows = goingAwaySamples(rounds, seen.samples, endMs).map(
    (w) => `${w.replica}: ${w.samples.length} requests through ${via} sent between its SIGTERM and its return`,
  );
  await check(drill, specs.routing, timeline, () =>
    Promise.resolve({
      ...judgeRouting(rounds, seen.samples, endMs, via),
      metrics,
      evidence: [
        { name: 'going away', contentType: 'text/plain', content: windows.join('\n') },
        ...(loadEvidence(seen) ?? []),
      ],
    }),
  );
}

// ---- the stage ----------------------------------------------------------------------------------

const DRILL_KEYS: Readonly<Record<RecoveryDrill, { readonly key: string; readonly name: string }>> = {
  'backup-restore': { key: 'recovery.backup', name: 'Backup and restore drill: not configured' },
  crash: { key: 'recovery.crash', name: 'Crash recovery drill: not configured' },
  'rolling-restart': { key: 'recovery.rolling', name: 'Rolling restart drill: not configured' },
  shutdown: { key: 'recovery.shutdown', name: 'Graceful shutdown drill: not configured' },
};

/** The drills whose config section is unset: each is recorded not configured, never silently absent. */
export function recoveryNotConfigured(recovery: RecoveryConfig): NotConfiguredFamily[] {
  const configured: Record<RecoveryDrill, boolean> = {
    'backup-restore': recovery.backup !== undefined,
    crash: recovery.crash !== undefined,
    'rolling-restart': recovery.rolling !== undefined,
    shutdown: recovery.shutdown !== undefined,
  };
  return RECOVERY_DRILLS.filter((drill) => !configured[drill]).map((drill) => ({
    id: `recovery.${drill}.not-configured`,
    name: DRILL_KEYS[drill].name,
    feature: drill,
    key: DRILL_KEYS[drill].key,
  }));
}

/** The recovery stage: backup and restore, crash recovery, rolling restart, graceful shutdown, as configured. */
export async function runRecoveryStage(context: SuiteContext): Promise<CheckResult[]> {
  const recovery = context.config.recovery;
  const results: CheckResult[] = [];
  if (!recovery) {
    results.push(
      await context.record({
        id: 'recovery.config',
        name: 'Recovery stage configured',
        feature: 'harness',
        severity: 'critical',
        status: 'broken',
        message: `${context.config.configFile} has no recovery key`,
        remediation: 'Declare recovery: { backup, crash, rolling, ... } in the config',
        startedAt: context.clock.now(),
        finishedAt: context.clock.now(),
      }),
    );
    return results;
  }
  const drills = recoveryDrills(recovery);
  context.reporter.onInfo?.(`recovery: ${drills.join(', ')} (seed ${context.seed})`);
  for (const family of recoveryNotConfigured(recovery))
    results.push(await context.record(notConfiguredCheck(family, context.clock.now())));
  const handleFiles = [join(context.runDir, 'stack-handle.json')];
  // Every drill stops, kills, restarts or execs in a container: none can run without Docker access to them.
  const noContainers = noContainerAccessReason(context.handle, context.targetFile);
  for (const name of drills) {
    if (context.signal.aborted) break;
    if (noContainers !== undefined) {
      context.reporter.onInfo?.(`recovery: ${name}: not applicable: ${noContainers}`);
      const drill = { context, recovery, api: new ApiClient(context, recovery, undefined), handleFiles, results };
      for (const spec of drillChecks(recovery, name))
        await check(drill, spec, new Timeline(), () =>
          Promise.resolve({
            status: 'not-applicable',
            message: notApplicableMessage(`${noContainers}: the ${name} drill acts on the containers`),
          }),
        );
      continue;
    }
    context.reporter.onInfo?.(`recovery: ${name}`);
    const drillTarget =
      name === 'backup-restore'
        ? recovery.target
        : name === 'crash'
          ? recovery.crash && { service: recovery.crash.service, port: recovery.crash.port }
          : name === 'rolling-restart'
            ? recovery.rolling?.via
            : recovery.shutdown?.via;
    // With 'disposable', each drill has its own user, so one drill's ledger listing never sees another's writes.
    const identity = await drillIdentity(context, recovery, name, drillTarget, results);
    if (identity === null) {
      await notRun(
        { context, recovery, api: new ApiClient(context, recovery, undefined), handleFiles, results },
        `the drill's credentials (recovery.as) could not be obtained`,
        drillChecks(recovery, name),
      );
      continue;
    }
    const drill: Drill = { context, recovery, api: new ApiClient(context, recovery, identity), handleFiles, results };
    switch (name) {
      case 'backup-restore':
        if (recovery.backup) await backupRestoreDrill(drill, recovery.backup);
        break;
      case 'crash':
        if (recovery.crash) await crashDrill(drill, recovery.crash);
        break;
      case 'rolling-restart':
        if (recovery.rolling) await rollingDrill(drill, recovery.rolling);
        break;
      case 'shutdown':
        if (recovery.shutdown) await shutdownDrill(drill, recovery.shutdown);
        break;
    }
  }
  return results;
}

/**
 * Authenticates a drill as `recovery.as` (undefined when unset). When that fails, records
 * `recovery.<drill>.session` and returns null: `failed` with the system's answer when the system
 * refused the sign-up or login (or did not answer), `broken` for a harness or config problem.
 */
async function drillIdentity(
  context: SuiteContext,
  recovery: RecoveryConfig,
  name: RecoveryDrill,
  target: Target | undefined,
  results: CheckResult[],
): Promise<Identity | null | undefined> {
  if (recovery.as === undefined) return undefined;
  const authenticator = stageAuthenticator(context, target, {
    random: seededRandom(derivedSeed(context.seed, `auth:${name}`)),
  });
  const startedAt = context.clock.now();
  try {
    return await actAs(authenticator, recovery.as, `recovery-${name}`, context.config.auth?.disposable?.like);
  } catch (error) {
    context.signal.throwIfAborted();
    const refused = error instanceof SystemFailureError;
    results.push(
      await context.record({
        id: `recovery.${name}.session`,
        name: `Recovery drill ${name}: credentials of ${recovery.as}`,
        feature: refused ? name : 'harness',
        severity: 'critical',
        status: refused ? 'failed' : 'broken',
        message: `Could not authenticate as ${recovery.as}${target ? ` on ${target.service}` : ''}: ${error instanceof Error ? error.message : String(error)}`,
        remediation: refused
          ? 'Make the service accept the sign-up and login of the drill user (see the evidence)'
          : 'Check recovery.as and the auth section against the service (docs/auth.md)',
        ...(refused
          ? { evidence: [{ name: 'system evidence', contentType: 'text/plain', content: error.evidence }] }
          : {}),
        startedAt,
        finishedAt: context.clock.now(),
      }),
    );
    return null;
  }
}
