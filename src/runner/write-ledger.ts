import type { LedgerConfig } from '../config/stages/chaos.ts';
import { ConfigError } from '../core/errors.ts';
import type { HttpOutcome, HttpRequest } from './http.ts';
import { getPath, renderString, renderTemplate, seededUuid } from './templates.ts';
import type { Json } from './templates.ts';

/** Fills each header template of a ledger request. */
function renderHeaders(
  templates: Readonly<Record<string, string>>,
  vars: Readonly<Record<string, string | number>>,
  random: () => number,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(templates).map(([name, value]) => [name, renderString(value, vars, random)]),
  );
}

/** The variables each ledger request's templates may use (besides `uuid` and `pick`), with sample values. */
const LEDGER_VARS = { write: { seq: 1, key: 'k' }, read: { id: '1' }, list: {} } as const;

/** Every template of a ledger config that does not render (an unknown placeholder or filter), one line each under `key`. */
function ledgerTemplateProblems(config: LedgerConfig, key: string): string[] {
  const problems: string[] = [];
  const tryRender = (at: string, render: () => unknown): void => {
    try {
      render();
    } catch (error) {
      problems.push(`${key}.${at}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const random = (): number => 0.5;
  tryRender('write.body', () => renderTemplate(config.write.body, LEDGER_VARS.write, random));
  for (const part of ['write', 'read', 'list'] as const)
    for (const [name, value] of Object.entries(config[part].headers))
      tryRender(`${part}.headers.${name}`, () => renderString(value, LEDGER_VARS[part], random));
  return problems;
}

/** How a ledger writes: the part of a chaos experiment's ledger plan (or a recovery drill's) it uses. */
export interface LedgerWritePlan {
  /** Share of writes whose first answer the client loses (it resets the connection), then retries with the same key. */
  readonly lostResponseRatio?: number;
  /** Attempts per write, same idempotency key each time (default 6). */
  readonly maxAttempts?: number;
}

/** One intended write: its key, its body's fingerprint, and what the service said. */
export interface LedgerEntry {
  readonly seq: number;
  readonly key: string;
  readonly fingerprint: string;
  readonly body: Json;
  attempts: number;
  /** Answers the client lost on purpose (it reset the connection after the answer started). */
  lostResponses: number;
  statuses: number[];
  /** Set when the service acknowledged the write. */
  id?: string;
  acknowledgedAtMs?: number;
}

export type WriteClass = 'stable' | 'lost' | 'duplicated' | 'unacknowledged' | 'unknown';

export interface LedgerVerdict {
  readonly counts: Readonly<Record<WriteClass, number>>;
  /** Lost acknowledged writes, and duplicates of writes sent with an idempotency key: each fails the check. */
  readonly failures: readonly string[];
  readonly lines: readonly string[];
  /** Each write's class, by its `seq`. */
  readonly classes: ReadonlyMap<number, WriteClass>;
}

/** What the ledger needs to talk to the service (the experiment's session and endpoints). */
export interface LedgerIo {
  request(request: HttpRequest): Promise<HttpOutcome>;
  /** Sends a write and resets the connection once the answer starts. */
  sendAndLose(request: HttpRequest): Promise<{ answered: boolean; detail: string }>;
  random(): number;
  sleep(ms: number): Promise<void>;
  now(): number;
  readonly signal: AbortSignal;
}

/** The values at the fingerprint paths of a body or a listed record, as one string. */
export function fingerprintOf(value: unknown, paths: readonly string[]): string {
  return JSON.stringify(paths.map((p) => getPath(value, p) ?? null));
}

/**
 * The write ledger (Jepsen-lite): every write gets a seeded idempotency key and a body whose
 * fingerprint names it; every acknowledgement is recorded; after recovery each write is read back
 * and the listing is searched for copies.
 */
export class WriteLedger {
  readonly entries: LedgerEntry[] = [];
  readonly #config: LedgerConfig;
  readonly #plan: LedgerWritePlan;
  readonly #io: LedgerIo;

  /** Throws `ConfigError` (naming `key`, e.g. `chaos.ledger`) when a body or header template does not render. */
  constructor(config: LedgerConfig, plan: LedgerWritePlan, io: LedgerIo, key = 'ledger') {
    const problems = ledgerTemplateProblems(config, key);
    if (problems.length > 0) throw new ConfigError(problems);
    this.#config = config;
    this.#plan = plan;
    this.#io = io;
  }

  get acknowledged(): number {
    return this.entries.filter((e) => e.id !== undefined).length;
  }

  /** Makes one write, retrying with the same key until acknowledged, `maxAttempts` or `stop`. */
  async write(stop: () => boolean = () => false): Promise<LedgerEntry> {
    const seq = this.entries.length + 1;
    const key = seededUuid(() => this.#io.random());
    const body = renderTemplate(this.#config.write.body, { seq, key }, () => this.#io.random());
    const loseFirst = this.#io.random() < (this.#plan.lostResponseRatio ?? 0);
    const entry: LedgerEntry = {
      seq,
      key,
      fingerprint: fingerprintOf(body, this.#config.fingerprint),
      body,
      attempts: 0,
      lostResponses: 0,
      statuses: [],
    };
    this.entries.push(entry);
    const header = this.#config.write.idempotencyHeader;
    const headers = renderHeaders(this.#config.write.headers, { seq, key }, () => this.#io.random());
    if (header) headers[header] = key;
    const request: HttpRequest = {
      method: this.#config.write.method,
      path: this.#config.write.path,
      body,
      auth: true,
      headers,
    };
    const maxAttempts = this.#plan.maxAttempts ?? 6;
    while (entry.attempts < maxAttempts && !stop()) {
      this.#io.signal.throwIfAborted();
      entry.attempts += 1;
      if (loseFirst && entry.attempts === 1) {
        const lost = await this.#io.sendAndLose(request);
        if (lost.answered) entry.lostResponses += 1;
        entry.statuses.push(-1);
        continue;
      }
      const outcome = await this.#io.request(request);
      entry.statuses.push(outcome.status);
      const id = getPath(outcome.json, this.#config.write.idField);
      if (
        this.#config.write.acknowledged.includes(outcome.status) &&
        (typeof id === 'string' || typeof id === 'number')
      ) {
        entry.id = String(id);
        entry.acknowledgedAtMs = this.#io.now();
        return entry;
      }
      await this.#io.sleep(Math.min(400, 50 * entry.attempts));
    }
    return entry;
  }

  /** Reads every record back and lists them; call after recovery. */
  async verify(): Promise<LedgerVerdict> {
    const reads = new Map<string, 'present' | 'missing' | 'unknown'>();
    for (const entry of this.entries) {
      if (entry.id === undefined) continue;
      reads.set(entry.id, await this.#readBack(entry.id));
    }
    const listed = await this.#list();
    return classifyLedger(this.entries, reads, listed, {
      fingerprint: this.#config.fingerprint,
      idField: this.#config.list.idField,
      keysSent: this.#config.write.idempotencyHeader !== undefined,
    });
  }

  /** A record that is missing is read again for ~1.5 s: only one that never appears is lost. */
  async #readBack(id: string): Promise<'present' | 'missing' | 'unknown'> {
    let missing = false;
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const outcome = await this.#io.request({
        path: this.#config.read.path.replace('{id}', encodeURIComponent(id)),
        auth: true,
        headers: renderHeaders(this.#config.read.headers, { id }, () => this.#io.random()),
      });
      if (outcome.status >= 200 && outcome.status < 300) return 'present';
      missing = this.#config.read.missingStatus.includes(outcome.status);
      await this.#io.sleep(100 * attempt);
    }
    return missing ? 'missing' : 'unknown';
  }

  async #list(): Promise<unknown[] | undefined> {
    const list = this.#config.list;
    const items: unknown[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < list.maxPages; page += 1) {
      const query = new URLSearchParams({ ...list.query, ...(cursor ? { [list.cursorParam]: cursor } : {}) });
      const outcome = await this.#io.request({
        path: `${list.path}?${query.toString()}`,
        auth: true,
        headers: renderHeaders(list.headers, {}, () => this.#io.random()),
      });
      if (outcome.status < 200 || outcome.status >= 300) return undefined;
      // An empty itemsField: the answer itself is the array (an API that lists without a wrapper).
      const pageItems = list.itemsField === '' ? outcome.json : getPath(outcome.json, list.itemsField);
      if (!Array.isArray(pageItems)) return undefined;
      items.push(...(pageItems as unknown[]));
      const next = list.cursorField ? getPath(outcome.json, list.cursorField) : undefined;
      if (typeof next !== 'string' || next === '') return items;
      cursor = next;
    }
    return items;
  }
}

/**
 * Classifies each write: stable (acknowledged, read back, one record), lost (acknowledged, gone),
 * duplicated (more than one record carries its fingerprint), unacknowledged (never acknowledged
 * and not duplicated: indeterminate, not a failure) or unknown (could not be read back). Pure.
 */
export function classifyLedger(
  entries: readonly LedgerEntry[],
  reads: ReadonlyMap<string, 'present' | 'missing' | 'unknown'>,
  listed: readonly unknown[] | undefined,
  options: { readonly fingerprint: readonly string[]; readonly idField: string; readonly keysSent: boolean },
): LedgerVerdict {
  const copies = new Map<string, string[]>();
  for (const item of listed ?? []) {
    const fp = fingerprintOf(item, options.fingerprint);
    const id = getPath(item, options.idField);
    copies.set(fp, [...(copies.get(fp) ?? []), String(id)]);
  }
  const counts: Record<WriteClass, number> = { stable: 0, lost: 0, duplicated: 0, unacknowledged: 0, unknown: 0 };
  const failures: string[] = [];
  const lines: string[] = [];
  const classes = new Map<number, WriteClass>();
  for (const e of entries) {
    const ids = copies.get(e.fingerprint) ?? [];
    const read = e.id === undefined ? undefined : reads.get(e.id);
    let cls: WriteClass;
    if (ids.length > 1) cls = 'duplicated';
    else if (e.id === undefined) cls = 'unacknowledged';
    else if (read === 'missing') cls = 'lost';
    else if (read === 'present') cls = 'stable';
    else cls = 'unknown';
    counts[cls] += 1;
    classes.set(e.seq, cls);
    const line = `#${e.seq} key ${e.key} ${cls}: acknowledged ${e.id ?? 'never'}, ${e.attempts} attempt(s) [${e.statuses.map((s) => (s === -1 ? 'lost-answer' : String(s))).join(', ')}], read ${read ?? '-'}, listed ${ids.length}x${ids.length > 1 ? ` (${ids.join(', ')})` : ''}`;
    lines.push(line);
    if (cls === 'lost') failures.push(`write #${e.seq} was acknowledged as ${e.id} and is gone`);
    if (cls === 'duplicated' && options.keysSent)
      failures.push(
        `write #${e.seq} exists ${ids.length} times (${ids.join(', ')}) although every attempt sent idempotency key ${e.key}`,
      );
  }
  if (listed === undefined) lines.push('listing failed: duplicates could not be counted');
  return { counts, failures, lines, classes };
}
