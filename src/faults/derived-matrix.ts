import type { HealthConfig } from '../config/schema.ts';
import type {
  ChaosConfig,
  DerivedConfig,
  DerivedLinkFault,
  DerivedOverride,
  DerivedServiceFault,
} from '../config/stages/chaos.ts';
import type { Fault } from './catalog.ts';
import { answersProbe, healthRequests, servedProbe, truthProbe, workRequests } from './derived-probes.ts';
import type { ExpectationInput, Experiment, ExperimentInput } from './experiment.ts';

// The experiment matrix a team does not have to write: from the links and services the config
// declares, each link down, slow and resetting, each service killed and paused, with expectations
// that hold for any stack (answers stay bounded, readiness tells the truth, the stack recovers, no
// acknowledged write is lost). A pure function of the config, so plan and run derive the same cells.

/** What the matrix is derived from: the config's services (their health checks), links and chaos section. */
export interface Topology {
  readonly services: Readonly<Record<string, { readonly health?: HealthConfig | undefined }>>;
  readonly links: readonly { readonly name?: string | undefined; readonly service: string }[];
  readonly chaos: ChaosConfig;
}

/** One cell: a link or a service, and the fault put on it. */
type DerivedCell =
  | { readonly kind: 'link'; readonly link: string; readonly fault: DerivedLinkFault }
  | { readonly kind: 'service'; readonly service: string; readonly fault: DerivedServiceFault };

/** A cell's key, as `chaos.derived.skip` and `overrides` name it: `postgres:slow`, `orders:kill`. */
export function cellKey(cell: DerivedCell): string {
  return `${cell.kind === 'link' ? cell.link : cell.service}:${cell.fault}`;
}

/** The experiment id of a cell: `derived-postgres-slow`. */
function cellExperimentId(cell: DerivedCell): string {
  return `derived-${cell.kind === 'link' ? cell.link : cell.service}-${cell.fault}`;
}

/**
 * The cell a (hand-written) fault stands for: `down` on a link is `<link>:down`, `latency` is
 * `<link>:slow`, `reset_peer` is `<link>:reset`, a container kill or pause is `<service>:kill|pause`.
 * Other faults (timeout, bandwidth, restart, a signal...) stand for no cell.
 */
export function cellOfFault(fault: Fault): DerivedCell | undefined {
  switch (fault.kind) {
    case 'down':
      return { kind: 'link', link: fault.link, fault: 'down' };
    case 'latency':
      return { kind: 'link', link: fault.link, fault: 'slow' };
    case 'reset_peer':
      return { kind: 'link', link: fault.link, fault: 'reset' };
    case 'container':
      return fault.action === 'restart' ? undefined : { kind: 'service', service: fault.service, fault: fault.action };
    case 'timeout':
    case 'bandwidth':
    case 'slicer':
    case 'limit_data':
    case 'slow_close':
    case 'signal':
      return undefined;
  }
}

/** Every cell of the matrix (before `skip`), links first, in config order. */
function matrixCells(topology: Topology, derived: DerivedConfig): DerivedCell[] {
  const links = topology.links.map((l) => l.name ?? l.service);
  return [
    ...links.flatMap((link) => derived.links.map((fault) => ({ kind: 'link' as const, link, fault }))),
    ...Object.keys(topology.services).flatMap((service) =>
      derived.services.map((fault) => ({ kind: 'service' as const, service, fault })),
    ),
  ];
}

interface CellSettings {
  readonly answerWithinMs: number;
  readonly failFastMs: number;
  readonly settleWithinMs: number;
  readonly recoverWithinMs: number;
  readonly latencyMs: number;
  readonly toxicity: number;
  readonly severity: ExperimentInput['severity'];
}

function settingsOf(derived: DerivedConfig, override: DerivedOverride | undefined): CellSettings {
  return {
    answerWithinMs: override?.answerWithinMs ?? derived.answerWithinMs,
    failFastMs: override?.failFastMs ?? derived.failFastMs,
    settleWithinMs: override?.settleWithinMs ?? derived.settleWithinMs,
    recoverWithinMs: override?.recoverWithinMs ?? derived.recoverWithinMs,
    latencyMs: override?.latencyMs ?? derived.slowLatencyMs,
    toxicity: override?.toxicity ?? derived.resetToxicity,
    severity: override?.severity ?? derived.severity,
  };
}

function faultOf(cell: DerivedCell, settings: CellSettings): Fault {
  if (cell.kind === 'service') return { kind: 'container', action: cell.fault, service: cell.service };
  switch (cell.fault) {
    case 'down':
      return { kind: 'down', link: cell.link };
    case 'slow':
      return { kind: 'latency', link: cell.link, latencyMs: settings.latencyMs };
    case 'reset':
      // Downstream: the server has done the work when the client's connection resets (the lost answer).
      return { kind: 'reset_peer', link: cell.link, toxicity: settings.toxicity, timeoutMs: 0, stream: 'downstream' };
  }
}

const FAULT_WORDS: Readonly<Record<DerivedLinkFault | DerivedServiceFault, string>> = {
  down: 'down',
  slow: 'slow',
  reset: 'resetting connections',
  kill: 'killed',
  pause: 'paused',
};

/**
 * The experiment of one cell, as an experiment file would write it (it goes through the same schema).
 * Steady state and recovery: every service's HTTP health and the target's work are served. During:
 * every service still up answers within `answerWithinMs`; for a total fault (not a partial reset)
 * that leaves the target running, readiness tells the truth (ready means served within `failFastMs`).
 * A ledger where `chaos.ledger` is configured: around the kill of the target, and during resets.
 */
function cellExperiment(topology: Topology, derived: DerivedConfig, cell: DerivedCell): ExperimentInput {
  const { chaos } = topology;
  const settings = settingsOf(derived, derived.overrides[cellKey(cell)]);
  const target = chaos.target.service;
  const faulted = cell.kind === 'service' ? cell.service : undefined;
  const health = healthRequests(topology.services);
  const work = workRequests(chaos.ledger, chaos.as !== undefined);
  const served = [...health, ...work];
  const stillUp = [...health.filter((r) => r.service !== faulted), ...(faulted === target ? [] : work)];
  const readiness = health.find((r) => r.service === target);
  const name = cell.kind === 'link' ? `link ${cell.link}` : `service ${cell.service}`;
  const during: ExpectationInput[] = [];
  if (stillUp.length > 0)
    during.push({
      ...answersProbe(
        `the services still up answer within ${settings.answerWithinMs}ms`,
        stillUp,
        settings.answerWithinMs,
      ),
      withinMs: settings.settleWithinMs,
      remediation: `Bound every call that crosses the ${name} with a timeout, so callers get an answer (an error is fine) within ${settings.answerWithinMs}ms instead of hanging`,
    });
  if (readiness && work.length > 0 && faulted !== target && cell.fault !== 'reset')
    during.push({
      ...truthProbe(
        `readiness tells the truth: ready means served within ${settings.failFastMs}ms`,
        readiness,
        work,
        settings,
      ),
      judgesTiming: true,
      remediation: `Report not ready while ${target} cannot serve without the ${name}; otherwise keep serving while ready (a fallback, a circuit breaker that fails fast) within ${settings.failFastMs}ms`,
    });
  const ledgerWrites = derived.ledgerWrites;
  const ledger: ExperimentInput['ledger'] =
    chaos.ledger === undefined
      ? undefined
      : cell.kind === 'service' && cell.fault === 'kill' && cell.service === target
        ? {
            writes: ledgerWrites,
            phase: 'around-injection',
            remediation: 'Acknowledge a write only once it is durable (committed), never from an in-memory buffer',
          }
        : cell.kind === 'link' && cell.fault === 'reset'
          ? {
              writes: ledgerWrites,
              phase: 'during-fault',
              redrawEachWrite: true,
              // Lost answers retried with the same key find a duplicate only when the API takes keys.
              ...(chaos.ledger.write.idempotencyHeader === undefined ? {} : { lostResponseRatio: 0.5 }),
              remediation:
                'Make writes durable and idempotent under connection resets: store the idempotency key with the record, in the same transaction',
            }
          : undefined;
  const probes = served.map((r) => servedProbe(r, settings.answerWithinMs));
  return {
    id: cellExperimentId(cell),
    title: `Derived: ${name} ${FAULT_WORDS[cell.fault]}`,
    severity: settings.severity,
    fault: faultOf(cell, settings),
    steadyState: probes,
    during,
    recovery: {
      withinMs: settings.recoverWithinMs,
      probes,
      remediation: `Recover without help once the ${name} is back: reconnect (a pool that replaces broken connections), re-resolve, restart cleanly`,
    },
    ...(ledger ? { ledger } : {}),
    remediation: `Survive the ${name} being ${FAULT_WORDS[cell.fault]}: bounded calls, truthful readiness, recovery on your own`,
    tags: ['derived', cellKey(cell)],
  };
}

/** A cell of the matrix with its experiment (validated later with the hand-written ones). */
interface DerivedExperiment {
  readonly cell: DerivedCell;
  readonly key: string;
  readonly experiment: ExperimentInput;
}

/** Why a cell of the matrix does not run. */
export interface LeftOutCell {
  readonly key: string;
  readonly reason: string;
}

/**
 * The derived matrix for a config: every cell but those `chaos.derived.skip` names and those a
 * hand-written experiment covers (same link or service and fault: the hand-written one takes
 * precedence), with what was left out and why. Nothing when `chaos.derived` is false.
 */
export function deriveMatrix(
  topology: Topology,
  handWritten: readonly Pick<Experiment, 'id' | 'fault'>[],
): {
  readonly experiments: DerivedExperiment[];
  readonly leftOut: LeftOutCell[];
  /** Why the matrix cannot run at all (nothing to probe), recorded as a not-applicable check. */
  readonly notApplicable?: string;
} {
  const derived = topology.chaos.derived;
  if (derived === false) return { experiments: [], leftOut: [] };
  const covered = new Map<string, string>();
  for (const e of handWritten) {
    const cell = cellOfFault(e.fault);
    if (cell && !covered.has(cellKey(cell))) covered.set(cellKey(cell), e.id);
  }
  const experiments: DerivedExperiment[] = [];
  const leftOut: LeftOutCell[] = [];
  // Without a request to send, no expectation can be judged: the cells say why instead of passing.
  const probed = healthRequests(topology.services).length + workRequests(topology.chaos.ledger, false).length > 0;
  const unprobed =
    'nothing to probe: no service declares an HTTP health check (services.<name>.health) and chaos.ledger is not set';
  for (const cell of matrixCells(topology, derived)) {
    const key = cellKey(cell);
    const by = covered.get(key);
    if (!probed) leftOut.push({ key, reason: unprobed });
    else if (derived.skip.includes(key)) leftOut.push({ key, reason: 'skipped (chaos.derived.skip)' });
    else if (by !== undefined) leftOut.push({ key, reason: `replaced by the hand-written experiment ${by}` });
    else experiments.push({ cell, key, experiment: cellExperiment(topology, derived, cell) });
  }
  return probed ? { experiments, leftOut } : { experiments, leftOut, notApplicable: unprobed };
}
