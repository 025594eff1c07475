import { createHash } from 'node:crypto';
import type { CheckResult, CheckStatus } from '../core/check-result.ts';
import { assertNever } from '../core/stage.ts';
import type { Risk } from './finding.ts';
import type { EvaluatedFinding, PolicyLevel } from './zap-policy.ts';

type SarifLevel = 'none' | 'note' | 'warning' | 'error';
type SarifKind = 'notApplicable' | 'pass' | 'fail' | 'review' | 'open' | 'informational';

/** One SARIF result before rendering: the shape both findings and native checks are turned into. */
interface SarifResultInput {
  readonly ruleId: string;
  readonly ruleName: string;
  readonly kind: SarifKind;
  /** Only `fail` results carry a level other than none (SARIF 3.27.9). */
  readonly level: SarifLevel;
  readonly message: string;
  readonly locations: readonly { readonly uri: string; readonly method?: string }[];
  readonly risk: Risk;
  readonly description?: string;
  readonly solution?: string;
  readonly helpUri?: string;
  readonly cweId?: number;
  /** Set when the policy accepted the finding (IGNORE): the justification. */
  readonly suppressedBy?: string;
}

export interface SarifRunInput {
  readonly tool: { readonly name: string; readonly version?: string; readonly informationUri?: string };
  readonly results: readonly SarifResultInput[];
  readonly invocation: {
    readonly executionSuccessful: boolean;
    readonly exitCode?: number;
    readonly startTimeUtc?: string;
    readonly endTimeUtc?: string;
    readonly notifications?: readonly { readonly level: SarifLevel; readonly text: string }[];
  };
  readonly properties?: Readonly<Record<string, string>>;
}

const SECURITY_SEVERITY: Readonly<Record<Risk, string>> = { info: '0.0', low: '3.0', medium: '5.5', high: '8.0' };
const LEVEL_OF: Readonly<Record<PolicyLevel, SarifLevel>> = {
  FAIL: 'error',
  WARN: 'warning',
  INFO: 'note',
  IGNORE: 'note',
};
const MAX_LOCATIONS = 50;

/** A string acceptable as an RFC 3986 URI reference (URL templates and raw paths get percent-encoded). */
export function uriReference(value: string): string {
  try {
    return new URL(value).href;
  } catch {
    return encodeURI(value);
  }
}

/** Findings after the policy, one SARIF result per instance (at most 50 per finding). */
export function findingResults(evaluated: readonly EvaluatedFinding[], policyFile: string): SarifResultInput[] {
  return evaluated.map((e) => {
    const f = e.finding;
    const where = f.instances.slice(0, MAX_LOCATIONS).map((i) => ({ uri: i.uri, method: i.method }));
    const first = f.instances[0];
    const detail = first
      ? ` (${f.instances.length} instance${f.instances.length === 1 ? '' : 's'}, e.g. ${first.method} ${first.uri}${first.param ? ` param ${first.param}` : ''}${first.evidence ? ` evidence: ${first.evidence.slice(0, 120)}` : ''})`
      : '';
    return {
      ruleId: f.ruleId,
      ruleName: f.name,
      kind: 'fail',
      level: LEVEL_OF[e.level],
      message: `${e.level}: ${f.name}${detail}`,
      locations: where,
      risk: f.risk,
      ...(f.description === undefined ? {} : { description: f.description }),
      ...(f.solution === undefined ? {} : { solution: f.solution }),
      ...(f.helpUri === undefined ? {} : { helpUri: f.helpUri }),
      ...(f.cweId === undefined ? {} : { cweId: f.cweId }),
      ...(e.level === 'IGNORE' ? { suppressedBy: `IGNORE in ${policyFile}` } : {}),
    };
  });
}

const RISK_OF_SEVERITY: Readonly<Record<CheckResult['severity'], Risk>> = {
  blocker: 'high',
  critical: 'high',
  normal: 'medium',
  minor: 'low',
  trivial: 'info',
};

/** The SARIF kind of a check status (SARIF 2.1.0 §3.27.9): `open` where the check could not tell. */
function kindOfStatus(status: CheckStatus): SarifKind {
  switch (status) {
    case 'failed':
      return 'fail';
    case 'passed':
      return 'pass';
    case 'broken':
      return 'review';
    case 'skipped':
    case 'unknown':
      return 'open';
    case 'not-applicable':
      return 'notApplicable';
    default:
      return assertNever(status, 'check status');
  }
}

/**
 * Native checks as SARIF results: failed -> fail (error), passed -> pass, broken -> review, skipped and
 * unknown -> open, not applicable (declared or not configured) -> notApplicable.
 */
export function checkResults(checks: readonly CheckResult[], targetUrl: string): SarifResultInput[] {
  return checks.map((check) => {
    const kind = kindOfStatus(check.status);
    return {
      ruleId: check.id,
      ruleName: check.name,
      kind,
      level: kind === 'fail' ? 'error' : 'none',
      message: `${check.status === 'not-applicable' ? '' : `${check.status}: `}${check.message ?? check.name}${check.status === 'failed' && check.remediation ? ` Remediation: ${check.remediation}` : ''}`,
      locations: [{ uri: targetUrl }],
      risk: RISK_OF_SEVERITY[check.severity],
      ...(check.remediation === undefined ? {} : { solution: check.remediation }),
    };
  });
}

function fingerprint(
  tool: string,
  result: SarifResultInput,
  uri: string | undefined,
  method: string | undefined,
): string {
  return createHash('sha256')
    .update(`${tool}\n${result.ruleId}\n${method ?? ''}\n${uri ?? ''}`)
    .digest('hex');
}

/** A SARIF 2.1.0 log with one run per tool: rules from the results, one result per location. */
export function buildSarif(runs: readonly SarifRunInput[]): Record<string, unknown> {
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: runs.map((run) => {
      const rules = new Map<string, SarifResultInput>();
      for (const r of run.results) if (!rules.has(r.ruleId)) rules.set(r.ruleId, r);
      const ruleIndex = new Map([...rules.keys()].map((id, i) => [id, i]));
      const results = run.results.flatMap((r) => {
        const targets = r.locations.length > 0 ? r.locations : [undefined];
        return targets.map((loc) => ({
          ruleId: r.ruleId,
          ruleIndex: ruleIndex.get(r.ruleId) ?? -1,
          kind: r.kind,
          level: r.level,
          message: { text: r.message },
          ...(loc
            ? {
                locations: [{ physicalLocation: { artifactLocation: { uri: uriReference(loc.uri) } } }],
                ...(loc.method ? { webRequest: { method: loc.method, target: uriReference(loc.uri) } } : {}),
              }
            : {}),
          partialFingerprints: { 'readiness/v1': fingerprint(run.tool.name, r, loc?.uri, loc?.method) },
          ...(r.suppressedBy
            ? { suppressions: [{ kind: 'external', status: 'accepted', justification: r.suppressedBy }] }
            : {}),
        }));
      });
      return {
        tool: {
          driver: {
            name: run.tool.name,
            ...(run.tool.version ? { version: run.tool.version } : {}),
            ...(run.tool.informationUri ? { informationUri: run.tool.informationUri } : {}),
            rules: [...rules.values()].map((r) => ({
              id: r.ruleId,
              name: r.ruleName,
              shortDescription: { text: r.ruleName },
              ...(r.description ? { fullDescription: { text: r.description } } : {}),
              ...(r.helpUri ? { helpUri: r.helpUri } : {}),
              ...(r.solution ? { help: { text: r.solution } } : {}),
              defaultConfiguration: { level: r.kind === 'fail' && r.level !== 'none' ? r.level : 'warning' },
              properties: {
                tags: ['security', ...(r.cweId === undefined ? [] : [`external/cwe/cwe-${r.cweId}`])],
                'security-severity': SECURITY_SEVERITY[r.risk],
              },
            })),
          },
        },
        invocations: [
          {
            executionSuccessful: run.invocation.executionSuccessful,
            ...(run.invocation.exitCode === undefined ? {} : { exitCode: run.invocation.exitCode }),
            ...(run.invocation.startTimeUtc ? { startTimeUtc: run.invocation.startTimeUtc } : {}),
            ...(run.invocation.endTimeUtc ? { endTimeUtc: run.invocation.endTimeUtc } : {}),
            toolExecutionNotifications: (run.invocation.notifications ?? []).map((n) => ({
              level: n.level,
              message: { text: n.text },
            })),
          },
        ],
        results,
        ...(run.properties ? { properties: { ...run.properties } } : {}),
      };
    }),
  };
}
