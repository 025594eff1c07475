import { assertNever } from '../core/stage.ts';

/** Toxiproxy's two directions: `upstream` is client -> service, `downstream` service -> client. */
export const STREAMS = ['upstream', 'downstream'] as const;
type Stream = (typeof STREAMS)[number];

/** Fields every Toxiproxy toxic takes. `toxicity` is the share of connections it affects (drawn per connection by Toxiproxy). */
interface ToxicBase {
  /** Toxiproxy proxy name (a `links[]` entry of the config). */
  readonly link: string;
  readonly stream?: Stream;
  readonly toxicity?: number;
}

/** The fault catalog: Toxiproxy toxics on a link, the link disabled, and container faults. */
export type Fault =
  | (ToxicBase & { readonly kind: 'latency'; readonly latencyMs: number; readonly jitterMs?: number })
  | { readonly kind: 'down'; readonly link: string }
  /** Stops all data; closes the connection after `timeoutMs`, or never when 0. */
  | (ToxicBase & { readonly kind: 'timeout'; readonly timeoutMs: number })
  /** TCP RST on the connection's first data (after `timeoutMs`). */
  | (ToxicBase & { readonly kind: 'reset_peer'; readonly timeoutMs?: number })
  | (ToxicBase & { readonly kind: 'bandwidth'; readonly rateKBps: number })
  | (ToxicBase & {
      readonly kind: 'slicer';
      readonly averageSizeBytes: number;
      readonly sizeVariationBytes?: number;
      readonly delayUs?: number;
    })
  | (ToxicBase & { readonly kind: 'limit_data'; readonly bytes: number })
  | (ToxicBase & { readonly kind: 'slow_close'; readonly delayMs: number })
  | { readonly kind: 'container'; readonly action: 'pause' | 'kill' | 'restart'; readonly service: string }
  /**
   * A signal to processes inside a container whose command line contains `process`, e.g. a
   * crash of one Postgres backend, which makes the postmaster restart every server process.
   */
  | { readonly kind: 'signal'; readonly service: string; readonly process: string; readonly signal: 'KILL' | 'TERM' };

/** Faults that are a Toxiproxy toxic (the others: `down`, `container`, `signal`). */
const TOXIC_KINDS = ['latency', 'timeout', 'reset_peer', 'bandwidth', 'slicer', 'limit_data', 'slow_close'] as const;
type ToxicKind = (typeof TOXIC_KINDS)[number];
export type ToxicFault = Extract<Fault, { readonly kind: ToxicKind }>;
export type ContainerFault = Extract<Fault, { readonly kind: 'container' }>;

export function isToxic(fault: Fault): fault is ToxicFault {
  return (TOXIC_KINDS as readonly string[]).includes(fault.kind);
}

/** The link a fault acts on, if any. */
export function faultLink(fault: Fault): string | undefined {
  return 'link' in fault ? fault.link : undefined;
}

/** The body of Toxiproxy's `POST /proxies/{proxy}/toxics` for a toxic fault. */
export interface ToxicSpec {
  readonly name: string;
  readonly type: ToxicFault['kind'];
  readonly stream: Stream;
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;
}

/** Toxiproxy attributes of a toxic fault (https://github.com/Shopify/toxiproxy#toxics). */
function toxicAttributes(fault: ToxicFault): Record<string, number> {
  switch (fault.kind) {
    case 'latency':
      return { latency: fault.latencyMs, jitter: fault.jitterMs ?? 0 };
    case 'timeout':
      return { timeout: fault.timeoutMs };
    case 'reset_peer':
      return { timeout: fault.timeoutMs ?? 0 };
    case 'bandwidth':
      return { rate: fault.rateKBps };
    case 'slicer':
      return {
        average_size: fault.averageSizeBytes,
        size_variation: fault.sizeVariationBytes ?? 0,
        delay: fault.delayUs ?? 0,
      };
    case 'limit_data':
      return { bytes: fault.bytes };
    case 'slow_close':
      return { delay: fault.delayMs };
    default:
      return assertNever(fault, 'toxic fault');
  }
}

/** The toxic Toxiproxy gets; `name` is unique per run and experiment so a leftover is recognisable. */
export function toToxic(fault: ToxicFault, name: string): ToxicSpec {
  return {
    name,
    type: fault.kind,
    stream: fault.stream ?? 'downstream',
    toxicity: fault.toxicity ?? 1,
    attributes: toxicAttributes(fault),
  };
}

/** Problems with a fault's numbers, one line each (empty when fine). */
export function validateFault(fault: Fault): string[] {
  const problems: string[] = [];
  const nonNegative = (value: number | undefined, what: string): void => {
    if (value !== undefined && (!Number.isFinite(value) || value < 0))
      problems.push(`${what} must be >= 0 (received ${value})`);
  };
  if (isToxic(fault)) {
    const toxicity = fault.toxicity ?? 1;
    if (!(toxicity > 0 && toxicity <= 1)) problems.push(`toxicity must be in (0, 1] (received ${toxicity})`);
    for (const [key, value] of Object.entries(toxicAttributes(fault))) nonNegative(value, key);
    if (fault.kind === 'latency' && fault.latencyMs <= 0) problems.push('latencyMs must be > 0');
    if (fault.kind === 'bandwidth' && fault.rateKBps <= 0) problems.push('rateKBps must be > 0');
  }
  return problems;
}

/**
 * What Toxiproxy draws for a fault from its own random source, which takes no seed (empty when
 * nothing): the run seed replays everything the harness decides, never these draws.
 */
export function unseededDraws(fault: Fault): string[] {
  if (!isToxic(fault)) return [];
  const draws: string[] = [];
  const toxicity = fault.toxicity ?? 1;
  if (toxicity < 1) draws.push(`which connections the toxic affects (toxicity ${toxicity}, drawn per connection)`);
  if (fault.kind === 'latency' && (fault.jitterMs ?? 0) > 0)
    draws.push(`each delay within the ±${fault.jitterMs}ms jitter`);
  if (fault.kind === 'slicer' && (fault.sizeVariationBytes ?? 0) > 0)
    draws.push(`slice sizes within ±${fault.sizeVariationBytes}B`);
  return draws;
}

/** One line for reports: `latency 500ms ±50ms on postgres (downstream, toxicity 1)`. */
export function describeFault(fault: Fault): string {
  const toxic = (what: string, f: ToxicFault): string =>
    `${what} on ${f.link} (${f.stream ?? 'downstream'}, toxicity ${f.toxicity ?? 1})`;
  switch (fault.kind) {
    case 'latency':
      return toxic(`latency ${fault.latencyMs}ms${fault.jitterMs ? ` ±${fault.jitterMs}ms` : ''}`, fault);
    case 'down':
      return `link ${fault.link} down (proxy disabled)`;
    case 'timeout':
      return toxic(`timeout ${fault.timeoutMs === 0 ? '(never answers)' : `${fault.timeoutMs}ms`}`, fault);
    case 'reset_peer':
      return toxic(`reset_peer after ${fault.timeoutMs ?? 0}ms`, fault);
    case 'bandwidth':
      return toxic(`bandwidth ${fault.rateKBps}KB/s`, fault);
    case 'slicer':
      return toxic(`slicer ${fault.averageSizeBytes}B slices`, fault);
    case 'limit_data':
      return toxic(`limit_data ${fault.bytes}B`, fault);
    case 'slow_close':
      return toxic(`slow_close ${fault.delayMs}ms`, fault);
    case 'container':
      return `container ${fault.action} of ${fault.service}`;
    case 'signal':
      return `SIG${fault.signal} to "${fault.process}" in ${fault.service}`;
    default:
      return assertNever(fault, 'fault');
  }
}
