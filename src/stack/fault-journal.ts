/**
 * When the harness put faults on the stack, whoever injected them: Toxiproxy changes (a toxic added,
 * a proxy disabled) as `ToxiproxyApi` makes them, and container actions (kill, stop, pause, start)
 * as Docker reports them to the run's log follower. Checks that judge quiet phases (error signals in
 * the services' logs) leave these windows out. One journal per process: `certify` runs one stack.
 */

/** One change of a fault target: `faulted` after it, or back to normal (`faulted: false`). */
export interface FaultChange {
  /** `toxiproxy <api url>` or `docker <run id>`: whose changes these are. */
  readonly scope: string;
  /** The proxy or the service. */
  readonly target: string;
  readonly atMs: number;
  readonly faulted: boolean;
  readonly detail: string;
}

/** A span during which a target was faulted, and its aftermath; `faultEndMs` and `endMs` are null while it still is. */
export interface FaultWindow {
  readonly target: string;
  readonly startMs: number;
  /** When the fault was taken off. */
  readonly faultEndMs: number | null;
  /** The end of its aftermath: `faultEndMs` plus the settle time. */
  readonly endMs: number | null;
  readonly detail: string;
}

/**
 * The Docker events that mean the harness acted on a container, and what they leave it in. A restart
 * is `kill`, `die`, `start`, then `restart`: the kill opens the window, the start closes it. `die`
 * alone (a crash) is not a fault the harness made, and is not one here.
 */
const CONTAINER_EVENTS: Readonly<Record<string, boolean>> = {
  kill: true,
  stop: true,
  pause: true,
  start: false,
  unpause: false,
};

/** Docker events the follower subscribes to for the journal. */
export const CONTAINER_FAULT_EVENTS = Object.keys(CONTAINER_EVENTS);

export const toxiproxyScope = (apiUrl: string): string => `toxiproxy ${apiUrl.replace(/\/$/, '')}`;
export const dockerScope = (runId: string): string => `docker ${runId}`;

/** The state of one proxy as the calls left it: its toxics and whether it is enabled. */
interface ProxyFaults {
  readonly toxics: Set<string>;
  disabled: boolean;
}

/** Records fault changes and turns them into windows. */
export class FaultJournal {
  readonly #changes: FaultChange[] = [];
  readonly #proxies = new Map<string, ProxyFaults>();

  /** Every change so far, oldest first. */
  changes(): readonly FaultChange[] {
    return this.#changes;
  }

  note(change: FaultChange): void {
    this.#changes.push(change);
  }

  /**
   * A successful call of Toxiproxy's HTTP API: toxics added or removed and proxies disabled or
   * enabled change the proxy's state; reads and proxy creation do not.
   */
  noteToxiproxyCall(apiUrl: string, method: string, path: string, body: unknown, atMs: number): void {
    const scope = toxiproxyScope(apiUrl);
    if (method === 'POST' && path === '/reset') {
      for (const [name, state] of this.#proxies) {
        const was = state.disabled || state.toxics.size > 0;
        state.toxics.clear();
        state.disabled = false;
        if (was) this.note({ scope, target: name, atMs, faulted: false, detail: 'reset' });
      }
      return;
    }
    const match = /^\/proxies\/([^/]+)(?:\/toxics(?:\/([^/]+))?)?$/.exec(path);
    if (!match?.[1]) return;
    const proxy = decodeURIComponent(match[1]);
    const toxic = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
    const isToxics = path.includes('/toxics');
    const state = this.#proxies.get(proxy) ?? { toxics: new Set<string>(), disabled: false };
    this.#proxies.set(proxy, state);
    const before = state.disabled || state.toxics.size > 0;
    let detail: string;
    if (isToxics && toxic === undefined && method === 'POST') {
      const name = (body as { name?: unknown } | undefined)?.name;
      state.toxics.add(typeof name === 'string' ? name : `toxic-${String(this.#changes.length)}`);
      detail = `toxic ${typeof name === 'string' ? name : '(unnamed)'} added`;
    } else if (toxic !== undefined && method === 'DELETE') {
      state.toxics.delete(toxic);
      detail = `toxic ${toxic} removed`;
    } else if (!isToxics && method === 'POST') {
      const enabled = (body as { enabled?: unknown } | undefined)?.enabled;
      if (typeof enabled !== 'boolean') return;
      state.disabled = !enabled;
      detail = enabled ? 'proxy enabled' : 'proxy disabled';
    } else {
      return;
    }
    const after = state.disabled || state.toxics.size > 0;
    if (after || before) this.note({ scope, target: proxy, atMs, faulted: after, detail });
  }

  /** A Docker event of a run's container (`kill`, `stop`, `pause`, `start`, `unpause`; others are ignored). */
  noteContainerEvent(runId: string, service: string, action: string, atMs: number): void {
    const faulted = CONTAINER_EVENTS[action];
    if (faulted === undefined) return;
    this.note({ scope: dockerScope(runId), target: service, atMs, faulted, detail: `docker ${action}` });
  }
}

/**
 * The windows in which each target was faulted, from changes of the given scopes: a window opens at
 * the first `faulted` change of a target and closes at the next change that leaves it normal, plus
 * `settleMs` (clients reconnect, breakers close, retries drain: errors then are the fault's too).
 */
export function faultWindows(
  changes: readonly FaultChange[],
  scopes: readonly string[],
  settleMs: number,
): FaultWindow[] {
  const open = new Map<string, { startMs: number; details: string[] }>();
  const windows: FaultWindow[] = [];
  const sorted = changes.filter((c) => scopes.includes(c.scope)).sort((a, b) => a.atMs - b.atMs);
  for (const change of sorted) {
    const key = `${change.scope}\u0000${change.target}`;
    const current = open.get(key);
    if (change.faulted) {
      if (current) current.details.push(change.detail);
      else open.set(key, { startMs: change.atMs, details: [change.detail] });
    } else if (current) {
      open.delete(key);
      windows.push({
        target: change.target,
        startMs: current.startMs,
        faultEndMs: change.atMs,
        endMs: change.atMs + settleMs,
        detail: [...current.details, change.detail].join(', '),
      });
    }
  }
  for (const [key, current] of open)
    windows.push({
      target: key.split('\u0000')[1] ?? key,
      startMs: current.startMs,
      faultEndMs: null,
      endMs: null,
      detail: current.details.join(', '),
    });
  return windows.sort((a, b) => a.startMs - b.startMs);
}

/** Whether a time falls in any of the windows. */
export function inFaultWindow(windows: readonly FaultWindow[], atMs: number): FaultWindow | undefined {
  return windows.find((w) => atMs >= w.startMs && (w.endMs === null || atMs <= w.endMs));
}

/** The process's journal: `ToxiproxyApi` and the log follower write to it, quiet-phase checks read it. */
export const faultJournal = new FaultJournal();
