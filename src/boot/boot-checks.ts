import { connect } from 'node:net';
import type { ResolvedConfig } from '../config/load-config.ts';
import { pollUntil } from '../core/clock.ts';
import { httpProbe, observeHealth } from '../stack/health.ts';
import { noToxiproxyReason, serviceUrl } from '../stack/stack-handle.ts';
import { ToxiproxyApi } from '../stack/toxiproxy-api.ts';
import { notApplicableMessage, notConfiguredCheck } from '../runner/not-applicable.ts';
import type { NotConfiguredFamily } from '../runner/not-applicable.ts';
import { runCheck } from '../runner/suite.ts';
import { checkReplicaGroup, planReplicas, REPLICAS_NOT_CONFIGURED } from './replicas.ts';
import type { CheckOutcome, CheckSpec, PlanContext, PlannedCheck, SuiteContext } from '../runner/suite.ts';

type ReadinessTruth = ResolvedConfig['boot']['readinessTruth'][number];

const is2xx = (status: number): boolean => status >= 200 && status < 300;

const healthySpec = (id: string) =>
  ({
    id: `boot.healthy.${id}`,
    name: `${id} healthy within its startup budget`,
    feature: 'startup',
    severity: 'critical',
    remediation: `Make ${id} reach a healthy state within health.timeoutMs, or raise the budget if the startup time is expected`,
  }) as const satisfies CheckSpec;

const truthSpec = (truth: ReadinessTruth) =>
  ({
    id: `boot.readiness-truth.${truth.service}.${truth.link}`,
    name: `${truth.service} readiness reflects the loss of ${truth.link}`,
    feature: 'readiness truth',
    severity: 'critical',
    tags: ['toxiproxy'],
    remediation: `Make ${truth.path} of ${truth.service} check ${truth.link} with a short timeout and answer 503 while it is unreachable`,
  }) as const satisfies CheckSpec;

/**
 * The boot stage's plan: one health check per configured service, one readiness-truth check per configured
 * link, one consistency check per replica group.
 */
export function planBootStage(context: PlanContext): PlannedCheck[] {
  return [
    ...Object.keys(context.config.services).map(healthySpec),
    ...context.config.boot.readinessTruth.map(truthSpec),
    ...planReplicas(context.config.boot.replicas),
  ];
}

/** Every service came up healthy within its budget, and still is. */
async function checkServicesHealthy(context: SuiteContext): Promise<void> {
  const { config, handle } = context;
  for (const [id, service] of Object.entries(config.services)) {
    await runCheck(context, healthySpec(id), async (): Promise<CheckOutcome> => {
      const started = handle.services[id];
      if (!started) return { status: 'broken', message: `${id} is not in the stack handle: it did not start` };
      if (!service.health) {
        return {
          status: 'unknown',
          message: `${id} has no health check configured, so there is no evidence that it is up`,
          remediation: `Declare services.${id}.health in ${config.configFile}`,
        };
      }
      const budgetMs = service.health.timeoutMs;
      const metrics = [{ name: 'startup_ms', value: started.startupMs, unit: 'ms' }];
      const now = await observeHealth(service.health, {
        host: started.endpoint.host,
        hostPort: (p) => {
          const mapped = started.endpoint.ports[String(p)];
          if (mapped === undefined) throw new Error(`port ${p} of ${id} is not exposed`);
          return mapped;
        },
        exec: () => Promise.reject(new Error('command health checks are evaluated at start only')),
      }).catch(() => undefined);
      if (started.startupMs > budgetMs) {
        return {
          status: 'failed',
          message: `${id} took ${started.startupMs}ms to become healthy (budget ${budgetMs}ms)`,
          metrics,
        };
      }
      if (now && !now.healthy && service.health.kind !== 'command') {
        return { status: 'failed', message: `${id} was healthy at start but is not now (${now.detail})`, metrics };
      }
      return { status: 'passed', message: `${id} healthy in ${started.startupMs}ms (budget ${budgetMs}ms)`, metrics };
    });
  }
}

/** Whether the link's listener refuses or drops connections: proof that a disabled proxy is really down. */
function linkRefuses(host: string, port: number, timeoutMs = 1_500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (refused: boolean): void => {
      socket.destroy();
      resolve(refused);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(true));
    socket.once('close', () => done(true));
    // Docker's port proxy accepts then closes when nothing listens behind it; wait for data or close.
    socket.once('connect', () => setTimeout(() => done(socket.destroyed || socket.readyState !== 'open'), 300));
  });
}

/**
 * Readiness tells the truth: with the dependency link disabled through Toxiproxy the readiness
 * endpoint turns non-2xx within `failWithinMs`, and back to 2xx within `recoverWithinMs` after.
 */
async function checkReadinessTruth(context: SuiteContext, truth: ReadinessTruth): Promise<void> {
  const { handle, clock, signal } = context;
  await runCheck(context, truthSpec(truth), async (): Promise<CheckOutcome> => {
    const noToxiproxy = noToxiproxyReason(handle, context.targetFile);
    // Nothing can cut the link on this stack: no evidence either way, said so (never passed, never broken).
    if (noToxiproxy !== undefined)
      return {
        status: 'not-applicable',
        message: notApplicableMessage(`${noToxiproxy} (the check cuts link "${truth.link}")`),
      };
    const proxy = handle.toxiproxy?.proxies[truth.link];
    if (!handle.toxiproxy || !proxy)
      return { status: 'broken', message: `No Toxiproxy proxy for link "${truth.link}" in the stack handle` };
    const api = new ToxiproxyApi(handle.toxiproxy.apiUrl);
    const url = `${serviceUrl(handle, truth.service, truth.port)}${truth.path}`;
    const probe = (): Promise<number> =>
      httpProbe(url, 2_000).then(
        (r) => r.status,
        () => 0,
      );

    const before = await probe();
    if (!is2xx(before)) {
      return {
        status: 'failed',
        message: `${truth.path} answered ${before} before any fault: the service is not ready at all`,
      };
    }
    // Rollback first: the link is re-enabled whatever happens next.
    context.teardowns.add(`re-enable ${truth.link}`, async () => {
      await api.setEnabled(truth.link, true);
    });
    await api.setEnabled(truth.link, false);
    const state = await api.getProxy(truth.link);
    const refused = await linkRefuses(handle.services[truth.service]?.endpoint.host ?? '127.0.0.1', proxy.hostPort);
    if (state.enabled || !refused) {
      return {
        status: 'broken',
        message: `The fault did not take effect: proxy "${truth.link}" enabled=${state.enabled}, connections refused=${refused}`,
      };
    }
    const down = await pollUntil(probe, (s) => !is2xx(s), {
      timeoutMs: truth.failWithinMs,
      intervalMs: 100,
      clock,
      signal,
    });
    await api.setEnabled(truth.link, true);
    const up = await pollUntil(probe, is2xx, { timeoutMs: truth.recoverWithinMs, intervalMs: 100, clock, signal });
    const metrics = [
      ...(down.ok ? [{ name: 'time_to_detect_ms', value: Math.round(down.elapsedMs), unit: 'ms' }] : []),
      ...(up.ok ? [{ name: 'time_to_recover_ms', value: Math.round(up.elapsedMs), unit: 'ms' }] : []),
    ];
    const evidence = [
      {
        name: 'probe timeline',
        contentType: 'text/plain',
        content: [
          `before fault: GET ${truth.path} -> ${before}`,
          `proxy ${truth.link}: enabled=${state.enabled}, host port ${proxy.hostPort} refuses connections=${refused}`,
          `during fault: ${down.ok ? `-> ${down.value} after ${Math.round(down.elapsedMs)}ms` : `still ${down.last ?? 'no answer'} after ${truth.failWithinMs}ms (${down.attempts} probes)`}`,
          `after re-enable: ${up.ok ? `-> ${up.value} after ${Math.round(up.elapsedMs)}ms` : `still ${up.last ?? 'no answer'} after ${truth.recoverWithinMs}ms`}`,
        ].join('\n'),
      },
    ];
    if (!down.ok) {
      return {
        status: 'failed',
        message: `${truth.path} kept answering ${down.last ?? 'nothing'} for ${truth.failWithinMs}ms while ${truth.link} was down: readiness does not tell the truth`,
        metrics,
        evidence,
      };
    }
    if (!up.ok) {
      return {
        status: 'failed',
        message: `${truth.path} did not return to 2xx within ${truth.recoverWithinMs}ms after ${truth.link} came back (last ${up.last ?? 'no answer'})`,
        remediation: `Make ${truth.service} reconnect to ${truth.link} on its own after an outage (pool retry, no cached dead connection)`,
        metrics,
        evidence,
      };
    }
    return {
      status: 'passed',
      message: `not ready ${Math.round(down.elapsedMs)}ms after ${truth.link} went down, ready again ${Math.round(up.elapsedMs)}ms after it came back`,
      metrics,
      evidence,
    };
  });
}

/**
 * The boot check families the config leaves unset: readiness truth when `boot.readinessTruth` is empty,
 * replica consistency when `boot.replicas` is.
 */
export function bootNotConfigured(config: Pick<ResolvedConfig, 'boot'>): NotConfiguredFamily[] {
  return [
    ...(config.boot.readinessTruth.length > 0
      ? []
      : [
          {
            id: 'boot.readiness-truth.not-configured',
            name: 'Readiness truth: not configured',
            feature: 'readiness truth',
            key: 'boot.readinessTruth',
          },
        ]),
    ...(config.boot.replicas.length > 0 ? [] : [REPLICAS_NOT_CONFIGURED]),
  ];
}

/**
 * The boot stage: health within budget for every service, replica consistency per configured group (before
 * any fault, on the settled stack), then readiness truthfulness per configured link (each family recorded
 * not configured, never silently absent, when the config leaves it unset).
 */
export async function runBootChecks(context: SuiteContext): Promise<void> {
  await checkServicesHealthy(context);
  for (const family of bootNotConfigured(context.config))
    await context.record(notConfiguredCheck(family, context.clock.now()));
  for (const group of context.config.boot.replicas) await checkReplicaGroup(context, group);
  for (const truth of context.config.boot.readinessTruth) await checkReadinessTruth(context, truth);
}
