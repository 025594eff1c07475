import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { getContainerRuntimeClient } from 'testcontainers';
import { pollUntil } from '../../core/clock.ts';
import { notApplicableMessage } from '../../runner/not-applicable.ts';
import { containerIdOf, noContainerAccessReason } from '../../stack/stack-handle.ts';
import type { SecurityConfig } from '../../config/stages/security.ts';
import type { CheckOutcome, CheckSpec } from '../../runner/suite.ts';
import type { SecurityContext } from '../context.ts';
import { loginAccepted } from '../principals.ts';
import { describeExchange, fieldOf, fromTemplate, jsonOf } from '../http.ts';
import type { HttpExchange } from '../http.ts';

const is2xx = (status: number): boolean => status >= 200 && status < 300;
const MAX_DUMP_BYTES = 64 * 1024 * 1024;

/** Runs a command in a service's container of the running stack; stdout and stderr are kept apart. */
async function execInService(
  ctx: SecurityContext,
  service: string,
  command: readonly string[],
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const containerId = containerIdOf(ctx.suite.handle, service);
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const exec = await docker
    .getContainer(containerId)
    .exec({ Cmd: [...command], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.setEncoding('utf8').on('data', (c: string) => {
    if (stdout.length < MAX_DUMP_BYTES) stdout += c;
  });
  err.setEncoding('utf8').on('data', (c: string) => {
    if (stderr.length < 64 * 1024) stderr += c;
  });
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', reject);
  });
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode, stdout, stderr };
}

/** Request ids found in the audit log, paging until every wanted id is seen or the pages run out. */
async function auditRequestIds(
  ctx: SecurityContext,
  wanted: ReadonlySet<string>,
): Promise<{ found: Set<string>; pages: number; records: number }> {
  const audit = ctx.config.compliance.audit;
  if (!audit) throw new Error('security.compliance.audit is not configured');
  const auditor = await ctx.principal(audit.as);
  const found = new Set<string>();
  let cursor: string | undefined;
  let pages = 0;
  let records = 0;
  do {
    const request = fromTemplate(audit.request, ctx.varsOf(auditor));
    const separator = request.path.includes('?') ? '&' : '?';
    const path =
      cursor === undefined
        ? request.path
        : `${request.path}${separator}${encodeURIComponent(audit.cursorParam)}=${encodeURIComponent(cursor)}`;
    const answer = await ctx.http.send({ ...request, path, as: auditor });
    if (!is2xx(answer.status))
      throw new Error(`reading the audit log failed: ${describeExchange(answer)} ${answer.body.slice(0, 200)}`);
    const body = jsonOf(answer);
    const items = fieldOf(body, audit.itemsField);
    if (!Array.isArray(items)) throw new Error(`the audit answer has no "${audit.itemsField}" array`);
    pages += 1;
    records += items.length;
    for (const item of items) {
      const id = fieldOf(item, audit.requestIdField);
      if (typeof id === 'string') found.add(id);
    }
    const next = fieldOf(body, audit.cursorField);
    cursor = typeof next === 'string' || typeof next === 'number' ? String(next) : undefined;
  } while (cursor !== undefined && pages < audit.maxPages && [...wanted].some((id) => !found.has(id)));
  return { found, pages, records };
}

/**
 * The compliance checks, as planned and as recorded, in run order: erasure and the audit trail when
 * their config section is set, the PII-in-logs check always.
 */
export function complianceChecks(config: SecurityConfig): {
  readonly erasure: CheckSpec | undefined;
  readonly audit: CheckSpec | undefined;
  readonly logPii: CheckSpec;
} {
  return {
    erasure:
      config.compliance.erasure === undefined
        ? undefined
        : {
            id: 'security.compliance.erasure',
            name: "Erasure removes the user's PII from the API and the database; the audit keeps the event",
            feature: 'compliance',
            severity: 'critical',
            remediation:
              'On erasure overwrite or delete every personal field (e-mail, name) in every table, revoke sessions, and keep the audit record of the erasure without PII',
          },
    audit:
      config.compliance.audit === undefined
        ? undefined
        : {
            id: 'security.compliance.audit-trail',
            name: 'Every mutating request has an audit record with its correlation id',
            feature: 'compliance',
            severity: 'critical',
            remediation: `Write an audit record for every mutating request (accepted or rejected) carrying the ${config.correlationHeader} it came with`,
          },
    logPii: {
      id: 'security.compliance.log-pii',
      name: 'Test PII never appears in the service logs',
      feature: 'compliance',
      severity: 'critical',
      remediation:
        'Redact personal data (e-mail, name) in the logger (e.g. pino redact paths) and never log request bodies',
    },
  };
}

async function runAuditTrail(ctx: SecurityContext): Promise<void> {
  const spec = complianceChecks(ctx.config).audit;
  if (!spec) return;
  await ctx.check(spec, async (): Promise<CheckOutcome> => {
    const mutating = [...ctx.http.mutating];
    if (mutating.length === 0) return { status: 'skipped', message: 'the stage sent no mutating request to look for' };
    const wanted = new Set(mutating.map((m) => m.correlationId));
    const { found, pages, records } = await auditRequestIds(ctx, wanted);
    const missing = mutating.filter((m) => !found.has(m.correlationId));
    const metrics = [
      { name: 'mutating_requests', value: mutating.length, unit: 'count' },
      { name: 'unaudited_requests', value: missing.length, unit: 'count' },
    ];
    const evidence = [
      {
        name: 'unaudited requests',
        contentType: 'text/plain',
        content:
          missing
            .map((m) => `${m.method} ${m.path} -> ${m.status} (${ctx.config.correlationHeader}: ${m.correlationId})`)
            .join('\n') || 'none',
      },
    ];
    const scanned = `${records} audit records on ${pages} pages`;
    if (missing.length > 0) {
      const sample = missing.slice(0, 5).map((m) => `${m.method} ${m.path} -> ${m.status}`);
      return {
        status: 'failed',
        message: `${missing.length} of ${mutating.length} mutating requests have no audit record with their correlation id (${sample.join('; ')}); ${scanned}`,
        metrics,
        evidence,
      };
    }
    return {
      status: 'passed',
      message: `all ${mutating.length} mutating requests found in the audit log by correlation id; ${scanned}`,
      metrics,
    };
  });
}

async function runErasure(ctx: SecurityContext): Promise<void> {
  const erasure = ctx.config.compliance.erasure;
  const spec = complianceChecks(ctx.config).erasure;
  if (!erasure || !spec) return;
  await ctx.check(spec, async (): Promise<CheckOutcome> => {
    const noContainers = noContainerAccessReason(ctx.suite.handle, ctx.suite.targetFile);
    // The proof includes the database dump (erasure.database), taken inside its container.
    if (erasure.database && noContainers !== undefined)
      return {
        status: 'not-applicable',
        message: notApplicableMessage(
          `${noContainers}: the database of ${erasure.database.service} cannot be read (compliance.erasure.database)`,
        ),
      };
    const user = await ctx.throwaway('erasure');
    const pii = [user.username, user.name].filter((p): p is string => p !== undefined);
    const contains = (text: string): string[] => pii.filter((p) => text.includes(p));
    const lines: string[] = [];
    const problems: string[] = [];
    const profile = (): Promise<HttpExchange> =>
      ctx.http.send({ ...fromTemplate(erasure.profile, ctx.varsOf(user)), as: user });
    const before = await profile();
    lines.push(`profile before: ${describeExchange(before)} shows PII: ${contains(before.body).length > 0}`);
    if (!is2xx(before.status) || contains(before.body).length === 0) {
      return {
        status: 'broken',
        message: `the profile request does not show the user's PII before erasure (${describeExchange(before)}): nothing to prove`,
      };
    }
    const dump = async (): Promise<string | undefined> => {
      if (!erasure.database) return undefined;
      const result = await execInService(ctx, erasure.database.service, erasure.database.command);
      if (result.exitCode !== 0)
        throw new Error(
          `${erasure.database.command.join(' ')} in ${erasure.database.service} exited ${result.exitCode}: ${result.stderr.slice(-300)}`,
        );
      return result.stdout;
    };
    const dbBefore = await dump();
    if (dbBefore !== undefined) {
      lines.push(`database before: ${dbBefore.length} bytes, contains PII: ${contains(dbBefore).length > 0}`);
      if (contains(dbBefore).length === 0) {
        return {
          status: 'broken',
          message: `the database dump does not contain the new user's e-mail before erasure: the dump command shows nothing useful`,
        };
      }
    }
    const erase = await ctx.http.send({
      ...fromTemplate(erasure.request, ctx.varsOf(user)),
      as: user,
    });
    lines.push(`erasure: ${describeExchange(erase)} (${ctx.config.correlationHeader}: ${erase.correlationId})`);
    if (!is2xx(erase.status)) problems.push(`the erasure request answered ${erase.status}`);
    const after = await profile();
    const apiLeft = contains(after.body);
    lines.push(`profile after: ${describeExchange(after)} PII left: ${apiLeft.join(', ') || 'none'}`);
    if (apiLeft.length > 0) problems.push(`the API still returns ${apiLeft.join(' and ')} after erasure`);
    const proof = ctx.passwordProof();
    if (proof && user.username !== undefined && user.password !== undefined) {
      const relogin = await ctx.tryPassword(user.username, user.password);
      lines.push(`login after erasure: ${describeExchange(relogin)}`);
      if (loginAccepted(proof, relogin)) problems.push('the erased account can still log in');
    } else lines.push(`login after erasure: not tried (${ctx.subjectScheme()} takes no password)`);
    const dbAfter = await dump();
    if (dbAfter !== undefined) {
      const dbLeft = contains(dbAfter);
      lines.push(`database after: PII left: ${dbLeft.join(', ') || 'none'}`);
      if (dbLeft.length > 0) problems.push(`the database still holds ${dbLeft.join(' and ')}`);
    }
    if (ctx.config.compliance.audit && is2xx(erase.status)) {
      const { found } = await auditRequestIds(ctx, new Set([erase.correlationId]));
      const kept = found.has(erase.correlationId);
      lines.push(`audit record of the erasure: ${kept ? 'present' : 'missing'}`);
      if (!kept) problems.push('the audit log has no record of the erasure');
    }
    const evidence = [{ name: 'erasure', contentType: 'text/plain', content: lines.join('\n') }];
    if (problems.length > 0) return { status: 'failed', message: problems.join('; '), evidence };
    return {
      status: 'passed',
      message: `PII gone from the API${dbAfter === undefined ? '' : ' and the database'}, login refused${ctx.config.compliance.audit ? ', erasure audited' : ''}`,
      evidence,
    };
  });
}

async function runLogPii(ctx: SecurityContext): Promise<void> {
  await ctx.check(complianceChecks(ctx.config).logPii, async (): Promise<CheckOutcome> => {
    const noContainers = noContainerAccessReason(ctx.suite.handle, ctx.suite.targetFile);
    if (noContainers !== undefined)
      return {
        status: 'not-applicable',
        message: notApplicableMessage(`${noContainers}: no service logs are followed`),
      };
    const logsDir = ctx.suite.handle.logsDir;
    const wantedServices = ctx.config.compliance.logServices;
    let names: string[];
    try {
      names = (await readdir(logsDir)).filter((n) => n.endsWith('.log'));
    } catch {
      names = [];
    }
    if (wantedServices.length > 0) names = names.filter((n) => wantedServices.includes(n.replace(/\.log$/, '')));
    const read = async (): Promise<Map<string, string>> =>
      new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(logsDir, n), 'utf8')] as const)));
    // Proof that the logs are current: the last request's correlation id shows up in them.
    const marker = ctx.http.lastCorrelationId;
    const fresh =
      marker === undefined
        ? { ok: false as const, last: await read() }
        : await pollUntil(read, (logs) => [...logs.values()].some((t) => t.includes(marker)), {
            timeoutMs: 3_000,
            intervalMs: 200,
            clock: ctx.suite.clock,
            signal: ctx.suite.signal,
          });
    const logs = fresh.ok ? fresh.value : (fresh.last ?? new Map<string, string>());
    const totalBytes = [...logs.values()].reduce((n, t) => n + t.length, 0);
    if (logs.size === 0 || totalBytes === 0) {
      return {
        status: 'unknown',
        message: `no captured logs in ${logsDir}${wantedServices.length > 0 ? ` for ${wantedServices.join(', ')}` : ''}: no evidence either way`,
      };
    }
    const hits: string[] = [];
    for (const [file, text] of logs) {
      for (const value of ctx.pii) {
        const count = text.split(value).length - 1;
        if (count > 0) hits.push(`${file}: "${value}" x${count}`);
      }
    }
    const scope = `${ctx.pii.size} PII values in ${logs.size} logs (${totalBytes} bytes)${fresh.ok ? ', logs current up to the last request' : ', freshness not confirmed (the last correlation id is not logged)'}`;
    const metrics = [{ name: 'pii_values_checked', value: ctx.pii.size, unit: 'count' }];
    if (hits.length > 0) {
      return {
        status: 'failed',
        message: `test PII found in the logs: ${hits.slice(0, 5).join('; ')}; scanned ${scope}`,
        evidence: [{ name: 'PII in logs', contentType: 'text/plain', content: hits.join('\n') }],
        metrics,
      };
    }
    return { status: 'passed', message: `none of ${scope}`, metrics };
  });
}

/** Compliance: erasure, the audit trail of every mutating request, no test PII in the logs. */
export async function runComplianceChecks(ctx: SecurityContext): Promise<void> {
  await runErasure(ctx);
  await runAuditTrail(ctx);
  await runLogPii(ctx);
}
