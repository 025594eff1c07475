import { stageAuthenticator } from '../auth/stage.ts';
import type { ReplicaGroup, ReplicaRequest } from '../config/replicas.ts';
import type { Evidence } from '../core/check-result.ts';
import type { NotConfiguredFamily } from '../runner/not-applicable.ts';
import { runCheck } from '../runner/suite.ts';
import type { CheckOutcome, CheckSpec, PlannedCheck, SuiteContext } from '../runner/suite.ts';
import { httpExchange } from '../runner/http.ts';
import { serviceUrl } from '../stack/stack-handle.ts';

/** How much of an answer's body goes into the evidence. */
const EXCERPT_CHARS = 300;

/** The check of one replica group: `boot.replicas.<name>`. */
const replicaSpec = (group: Pick<ReplicaGroup, 'name' | 'services'>) =>
  ({
    id: `boot.replicas.${group.name}`,
    name: `${group.services.join(', ')} accept or refuse the same requests alike`,
    feature: 'replica consistency',
    severity: 'critical',
    remediation: `Deploy ${group.services.join(', ')} from the same build and configuration: a request one replica accepts and another refuses fails at random behind a load balancer`,
  }) as const satisfies CheckSpec;

/** The family recorded not configured when `boot.replicas` is empty. */
export const REPLICAS_NOT_CONFIGURED: NotConfiguredFamily = {
  id: 'boot.replicas.not-configured',
  name: 'Replica consistency: not configured',
  feature: 'replica consistency',
  key: 'boot.replicas',
};

/** The planned checks of the configured replica groups. */
export function planReplicas(groups: readonly ReplicaGroup[]): PlannedCheck[] {
  return groups.map(replicaSpec);
}

/** One replica's answer to one request. */
interface ReplicaAnswer {
  readonly service: string;
  readonly status: number;
  readonly body: string;
}

/** 2 for 2xx, 4 for 4xx...: what "accepted or refused alike" compares. */
const statusClass = (status: number): number => Math.floor(status / 100);

const excerpt = (body: string): string => {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
};

const describe = (request: ReplicaRequest, as: string): string => `${request.method} ${request.path} as ${as}`;

const answerLine = (answer: ReplicaAnswer): string =>
  `  ${answer.service} -> ${answer.status}${answer.body ? ` ${excerpt(answer.body)}` : ''}`;

async function send(
  context: SuiteContext,
  group: ReplicaGroup,
  service: string,
  request: ReplicaRequest,
  headers: Readonly<Record<string, string>>,
): Promise<ReplicaAnswer> {
  const url = context.assertTarget(`${serviceUrl(context.handle, service, group.port)}${request.path}`);
  const body = request.body === undefined ? undefined : JSON.stringify(request.body);
  const answer = await httpExchange(url.href, {
    method: request.method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers, ...headers },
    ...(body === undefined ? {} : { body }),
    timeoutMs: group.timeoutMs,
    signal: context.signal,
    redirect: 'manual',
  });
  // Status 0: no answer. Judged with the others' answers: one replica silent while the rest answer is a difference.
  return {
    service,
    status: answer.status,
    body: answer.error === undefined ? answer.body : `no answer (${answer.error})`,
  };
}

/**
 * Sends each configured request, with the credentials of its principal, to every replica of the group
 * directly and compares the status classes: every replica must accept (2xx/3xx) or refuse (4xx/5xx) a
 * request alike. A difference fails with each replica's answer (status and body excerpt), a replica
 * that gives no answer while another does included; no replica answering at all is broken (nothing
 * to compare); a login the system refuses fails.
 */
export async function checkReplicaGroup(context: SuiteContext, group: ReplicaGroup): Promise<void> {
  await runCheck(context, replicaSpec(group), async (): Promise<CheckOutcome> => {
    const first = group.services[0];
    if (first === undefined) return { status: 'broken', message: 'a replica group without services' };
    const auth = stageAuthenticator(context, { service: first, port: group.port }, { timeoutMs: group.timeoutMs });
    const lines: string[] = [];
    const drifts: string[] = [];
    for (const request of group.requests) {
      const as = request.as ?? group.as;
      const { headers } = await auth.credentials(as);
      const answers: ReplicaAnswer[] = [];
      for (const service of group.services) answers.push(await send(context, group, service, request, headers));
      if (answers.every((a) => a.status === 0)) {
        // Health passed a moment ago and now no replica answers: nothing to compare, and no way to tell whose fault.
        return {
          status: 'broken',
          message: `${describe(request, as)}: no replica answered, no comparison is possible`,
          evidence: [
            { name: 'answers', contentType: 'text/plain', content: [...lines, ...answers.map(answerLine)].join('\n') },
          ],
        };
      }
      const classes = new Set(answers.map((a) => statusClass(a.status)));
      const agreed = classes.size === 1;
      lines.push(`${describe(request, as)}${agreed ? '' : '  <- DIFFERS'}`, ...answers.map(answerLine));
      if (!agreed)
        drifts.push(`${describe(request, as)}: ${answers.map((a) => `${a.service} ${a.status}`).join(', ')}`);
    }
    const evidence: Evidence[] = [
      { name: 'answers per replica', contentType: 'text/plain', content: lines.join('\n') },
    ];
    const metrics = [
      { name: 'requests_compared', value: group.requests.length, unit: 'count' },
      { name: 'requests_differing', value: drifts.length, unit: 'count' },
    ];
    const parameters = { replicas: group.services.join(', '), port: String(group.port) };
    if (drifts.length > 0) {
      return {
        status: 'failed',
        message: `the replicas answer ${drifts.length} of ${group.requests.length} requests differently: ${drifts.join('; ')}`,
        evidence,
        metrics,
        parameters,
      };
    }
    return {
      status: 'passed',
      message: `${group.services.join(', ')} answered ${group.requests.length} request(s) alike`,
      evidence,
      metrics,
      parameters,
    };
  });
}
