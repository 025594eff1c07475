import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.ts';
import { POLICY_LEVELS } from '../config/stages/security.ts';
import type { Finding, FindingInstance } from './finding.ts';

export { POLICY_LEVELS };
export type PolicyLevel = (typeof POLICY_LEVELS)[number];

interface PolicyRule {
  readonly level: PolicyLevel;
  /** The third column: the rule's name in parentheses by convention, then an optional tab and user message. */
  readonly description: string;
  readonly line: number;
}

/**
 * A rules file in ZAP's TSV format (`zap-baseline.py -c`): `<id>\t<IGNORE|INFO|WARN|FAIL>\t<text>`
 * per rule, `<id>[,<id>...]|*\tOUTOFSCOPE\t<URL regex>` to drop instances, `#` comments.
 */
export interface RulesPolicy {
  readonly file: string;
  readonly rules: ReadonlyMap<string, PolicyRule>;
  /** Rule id (or `*`) -> URL regexes, matched from the start of the URL as Python's `re.match`. */
  readonly outOfScope: ReadonlyMap<string, readonly RegExp[]>;
  /** The file's text, to hand the same policy to ZAP itself. */
  readonly text: string;
}

function isLevel(value: string): value is PolicyLevel {
  return (POLICY_LEVELS as readonly string[]).includes(value);
}

/** Parses a rules TSV; every malformed line is reported (file:line), as ZAP would refuse the file. */
export function parseRulesTsv(text: string, file: string): RulesPolicy {
  const rules = new Map<string, PolicyRule>();
  const outOfScope = new Map<string, RegExp[]>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    // ZAP skips comments and lines of one character or less.
    if (raw.startsWith('#') || raw.length <= 1) return;
    const parts = raw.trimEnd().split('\t');
    const [key, value] = parts;
    if (parts.length < 3 || key === undefined || value === undefined || key === '') {
      problems.push(`${file}:${line}: expected <rule id><TAB><level><TAB><description> (received "${raw}")`);
      return;
    }
    const rest = parts.slice(2).join('\t');
    if (value === 'OUTOFSCOPE') {
      let regex: RegExp;
      try {
        regex = new RegExp(`^(?:${rest})`);
      } catch (error) {
        problems.push(`${file}:${line}: OUTOFSCOPE regex "${rest}" does not compile (${(error as Error).message})`);
        return;
      }
      for (const id of key.split(',')) {
        const list = outOfScope.get(id) ?? [];
        list.push(regex);
        outOfScope.set(id, list);
      }
      return;
    }
    if (!isLevel(value)) {
      problems.push(
        `${file}:${line}: level "${value}" is not one of ${POLICY_LEVELS.join(', ')} or OUTOFSCOPE (rule ${key})`,
      );
      return;
    }
    rules.set(key, { level: value, description: rest, line });
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return { file, rules, outOfScope, text };
}

export async function loadRulesPolicy(file: string): Promise<RulesPolicy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${file}: rules file not found (security.rulesFile)`], { cause: error });
  }
  return parseRulesTsv(text, file);
}

/** The policy's lines for ZAP only: rules whose id ZAP would know (numeric) plus OUTOFSCOPE lines. */
export function zapRulesTsv(policy: RulesPolicy): string {
  const lines = policy.text.split(/\r?\n/).filter((raw) => {
    if (raw.startsWith('#') || raw.length <= 1) return true;
    const [key, value] = raw.split('\t');
    if (value === 'OUTOFSCOPE') return true;
    return key !== undefined && /^\d+$/.test(key);
  });
  return `${lines.join('\n').trimEnd()}\n`;
}

export interface EvaluatedFinding {
  readonly finding: Finding;
  readonly level: PolicyLevel;
  /** Why this level: the rules file line, the unlisted default, or ZAP's rule for informational alerts. */
  readonly source: 'rule' | 'unlisted' | 'informational';
  /** Instances dropped by OUTOFSCOPE lines. */
  readonly outOfScope: number;
}

export interface PolicyOptions {
  /** Level of a finding whose rule is not listed (ZAP: WARN, or INFO with `-i`). */
  readonly unlisted: PolicyLevel;
}

function inScope(policy: RulesPolicy, ruleId: string, instance: FindingInstance): boolean {
  const regexes = [...(policy.outOfScope.get('*') ?? []), ...(policy.outOfScope.get(ruleId) ?? [])];
  return !regexes.some((r) => r.test(instance.uri));
}

/**
 * Applies the policy the way zap-api-scan.py does: out-of-scope instances are dropped (a finding
 * left with none is dropped), informational findings never warn or fail, listed rules take their
 * level and the others the `unlisted` level.
 */
export function applyPolicy(
  findings: readonly Finding[],
  policy: RulesPolicy,
  options: PolicyOptions,
): EvaluatedFinding[] {
  const evaluated: EvaluatedFinding[] = [];
  for (const finding of findings) {
    const instances = finding.instances.filter((i) => inScope(policy, finding.ruleId, i));
    if (finding.instances.length > 0 && instances.length === 0) continue;
    const rule = policy.rules.get(finding.ruleId);
    const outOfScope = finding.instances.length - instances.length;
    const kept: Finding = { ...finding, instances };
    if (finding.risk === 'info' || finding.confidence === 'false-positive') {
      evaluated.push({
        finding: kept,
        level: rule?.level === 'IGNORE' ? 'IGNORE' : 'INFO',
        source: 'informational',
        outOfScope,
      });
      continue;
    }
    evaluated.push(
      rule
        ? { finding: kept, level: rule.level, source: 'rule', outOfScope }
        : { finding: kept, level: options.unlisted, source: 'unlisted', outOfScope },
    );
  }
  return evaluated;
}

interface PolicyVerdict {
  readonly counts: Readonly<Record<PolicyLevel, number>>;
  /** The findings that make the scanner check fail. */
  readonly blocking: readonly EvaluatedFinding[];
  readonly passed: boolean;
}

/** FAIL findings block; with `failOn: 'WARN'` warnings do too (zap-api-scan.py without `-I`). */
export function policyVerdict(evaluated: readonly EvaluatedFinding[], failOn: 'FAIL' | 'WARN'): PolicyVerdict {
  const counts: Record<PolicyLevel, number> = { IGNORE: 0, INFO: 0, WARN: 0, FAIL: 0 };
  for (const e of evaluated) counts[e.level] += 1;
  const blocking = evaluated.filter((e) => e.level === 'FAIL' || (failOn === 'WARN' && e.level === 'WARN'));
  return { counts, blocking, passed: blocking.length === 0 };
}

/** One line per finding: `FAIL 10038 Content Security Policy (CSP) Header Not Set x3 [zap]`. */
export function describeFindings(evaluated: readonly EvaluatedFinding[], limit = 20): string {
  const order: Record<PolicyLevel, number> = { FAIL: 0, WARN: 1, INFO: 2, IGNORE: 3 };
  const lines = [...evaluated]
    .sort((a, b) => order[a.level] - order[b.level])
    .map(
      (e) =>
        `${e.level} ${e.finding.ruleId} ${e.finding.name} x${Math.max(1, e.finding.instances.length)} [${e.finding.scanner}, risk ${e.finding.risk}]` +
        (e.finding.instances[0] ? ` e.g. ${e.finding.instances[0].method} ${e.finding.instances[0].uri}` : ''),
    );
  const shown = lines.slice(0, limit);
  if (lines.length > limit) shown.push(`... and ${lines.length - limit} more`);
  return shown.join('\n');
}
