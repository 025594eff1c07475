import { join } from 'node:path';
import { CERTIFICATION_FILE, readCertification } from '../certify/certification.ts';
import type { Certification } from '../certify/certification.ts';
import { STATUS_SEVERITY_ORDER } from '../certify/pass-rates.ts';
import type { CheckResult, CheckStatus } from '../core/check-result.ts';
import { readCheckResults } from '../core/results.ts';
import { STAGES } from '../core/stage.ts';
import type { Stage } from '../core/stage.ts';
import { verdictLabel } from './summary.ts';

/** What happened to one check between two runs. Only `passed` counts as passing. */
const CHECK_CHANGES = ['regressed', 'new', 'still-failing', 'fixed', 'removed', 'still-passing'] as const;
type CheckChange = (typeof CHECK_CHANGES)[number];

interface CheckDelta {
  readonly id: string;
  readonly stage: Stage;
  readonly name: string;
  readonly change: CheckChange;
  readonly before: CheckStatus | null;
  readonly after: CheckStatus | null;
  /** The newer run's message, or the older one's for a removed check. */
  readonly message?: string;
}

interface StageDelta {
  readonly stage: Stage;
  readonly before: number | null;
  readonly after: number | null;
  /** after - before; null unless both runs evaluated the stage. */
  readonly delta: number | null;
}

interface RunComparison {
  readonly base: { readonly runId: string; readonly verdict: Certification['verdict'] | null };
  readonly head: { readonly runId: string; readonly verdict: Certification['verdict'] | null };
  readonly checks: readonly CheckDelta[];
  readonly counts: Readonly<Record<CheckChange, number>>;
  readonly stages: readonly StageDelta[];
}

/** A run as compare needs it: its certification (null when unreadable) and its checks. */
interface RunSnapshot {
  readonly runId: string;
  readonly cert: Certification | null;
  readonly checks: readonly CheckResult[];
}

/** Reads a run folder's certification.json and allure-results. */
export async function readRunSnapshot(runDir: string, runId: string): Promise<RunSnapshot> {
  const { checks } = await readCheckResults(join(runDir, 'allure-results'));
  const cert = await readCertification(join(runDir, CERTIFICATION_FILE));
  return { runId, cert, checks };
}

function changeOf(before: CheckStatus | null, after: CheckStatus | null): CheckChange {
  if (before === null) return 'new';
  if (after === null) return 'removed';
  if (before === 'passed') return after === 'passed' ? 'still-passing' : 'regressed';
  return after === 'passed' ? 'fixed' : 'still-failing';
}

/** The worst status of a check id in a run (a check recorded twice counts by its worst outcome). */
function statusById(checks: readonly CheckResult[]): Map<string, CheckResult> {
  const rank = (status: CheckStatus): number => STATUS_SEVERITY_ORDER.indexOf(status);
  const byId = new Map<string, CheckResult>();
  for (const check of checks) {
    const seen = byId.get(check.id);
    if (seen === undefined || rank(check.status) < rank(seen.status)) byId.set(check.id, check);
  }
  return byId;
}

/** What changed from `base` (older) to `head` (newer): per check, and per stage pass rate. */
export function compareRuns(base: RunSnapshot, head: RunSnapshot): RunComparison {
  const before = statusById(base.checks);
  const after = statusById(head.checks);
  const ids = [...new Set([...before.keys(), ...after.keys()])].sort();
  const checks: CheckDelta[] = ids.map((id) => {
    const b = before.get(id);
    const a = after.get(id);
    const shown = a ?? b;
    if (shown === undefined) throw new Error(`unreachable: check ${id} in neither run`);
    const message = shown.message;
    return {
      id,
      stage: shown.stage,
      name: shown.name,
      change: changeOf(b?.status ?? null, a?.status ?? null),
      before: b?.status ?? null,
      after: a?.status ?? null,
      ...(message === undefined ? {} : { message }),
    };
  });
  const counts = Object.fromEntries(CHECK_CHANGES.map((c) => [c, 0])) as Record<CheckChange, number>;
  for (const delta of checks) counts[delta.change] += 1;
  const rate = (cert: Certification | null, stage: Stage): number | null => cert?.stages[stage].passRate ?? null;
  const stages = STAGES.map((stage): StageDelta => {
    const b = rate(base.cert, stage);
    const a = rate(head.cert, stage);
    return { stage, before: b, after: a, delta: a !== null && b !== null ? a - b : null };
  });
  return {
    base: { runId: base.runId, verdict: base.cert?.verdict ?? null },
    head: { runId: head.runId, verdict: head.cert?.verdict ?? null },
    checks,
    counts,
    stages,
  };
}

const pct = (ratio: number | null): string =>
  ratio === null ? '-' : `${(Math.floor(ratio * 1000 + 1e-6) / 10).toFixed(1)}%`;
const signedPct = (ratio: number | null): string =>
  ratio === null ? '' : `${ratio >= 0 ? '+' : ''}${(Math.round(ratio * 1000) / 10).toFixed(1)} pt`;

const HEADINGS: Readonly<Record<CheckChange, string>> = {
  regressed: 'Regressed (passed before, not now)',
  new: 'New checks',
  'still-failing': 'Still not passing',
  fixed: 'Fixed (not passing before, passed now)',
  removed: 'Removed (in the older run only)',
  'still-passing': 'Still passing',
};

/** A plain-text account of a comparison; unchanged passing checks are counted, not listed. */
export function formatComparison(cmp: RunComparison): string {
  const verdict = (v: Certification['verdict'] | null): string => (v === null ? 'unknown' : verdictLabel(v));
  const lines = [
    `Comparing ${cmp.base.runId} (${verdict(cmp.base.verdict)}) -> ${cmp.head.runId} (${verdict(cmp.head.verdict)})`,
    '',
    'Stage      Before   After    Change',
  ];
  for (const s of cmp.stages) {
    if (s.before === null && s.after === null) continue;
    lines.push(
      `${s.stage.padEnd(10)} ${pct(s.before).padEnd(8)} ${pct(s.after).padEnd(8)} ${signedPct(s.delta)}`.trimEnd(),
    );
  }
  lines.push('', CHECK_CHANGES.map((c) => `${cmp.counts[c].toString()} ${c}`).join(', '));
  for (const change of CHECK_CHANGES) {
    if (change === 'still-passing') continue;
    const list = cmp.checks.filter((c) => c.change === change);
    if (list.length === 0) continue;
    lines.push('', `${HEADINGS[change]}:`);
    for (const c of list) {
      const statuses = `${c.before ?? '-'} -> ${c.after ?? '-'}`;
      const message = c.message && change !== 'fixed' ? `: ${c.message.split('\n')[0] ?? ''}` : '';
      lines.push(`  - [${c.stage}] ${c.id} (${statuses})${message}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
