import { ToolFailedError } from '../core/errors.ts';
import { faultJournal } from './fault-journal.ts';

/** A toxic as Toxiproxy lists it. */
export interface ToxicState {
  readonly name: string;
  readonly type: string;
  readonly stream: string;
  readonly toxicity: number;
  readonly attributes: Record<string, number>;
}

/** A toxic to add: `stream` is `upstream` (client -> service) or `downstream`; `toxicity` is the share of connections (0..1). */
interface ToxicInput {
  readonly name: string;
  readonly type: string;
  readonly stream: 'upstream' | 'downstream';
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;
}

interface ProxyState {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: readonly ToxicState[];
}

/**
 * A thin typed client of Toxiproxy's HTTP API (https://github.com/Shopify/toxiproxy#http-api).
 * Not `toxiproxy-node-client`: that package sends its calls through axios with no timeout, so a
 * Toxiproxy that stops answering would hang a fault's rollback (a teardown that must finish), and
 * it throws axios errors; here every call is bounded (5 s) and fails as a ToolFailedError naming
 * the call and Toxiproxy's answer, and removing a toxic is idempotent (`removeToxicIfPresent`),
 * as rollbacks need. The API is five endpoints; the package was a dependency nothing imported.
 */
export class ToxiproxyApi {
  readonly baseUrl: string;
  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    if (!response.ok)
      throw new ToolFailedError(`Toxiproxy ${method} ${path} -> ${response.status}: ${text.slice(0, 300)}`);
    if (method !== 'GET') faultJournal.noteToxiproxyCall(this.baseUrl, method, path, body, Date.now());
    return (text ? JSON.parse(text) : undefined) as T;
  }

  version(): Promise<string> {
    return fetch(`${this.baseUrl}/version`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.text());
  }

  createProxy(name: string, listen: string, upstream: string): Promise<ProxyState> {
    return this.#call('POST', '/proxies', { name, listen, upstream, enabled: true });
  }

  getProxy(name: string): Promise<ProxyState> {
    return this.#call('GET', `/proxies/${encodeURIComponent(name)}`);
  }

  listProxies(): Promise<Record<string, ProxyState>> {
    return this.#call('GET', '/proxies');
  }

  setEnabled(name: string, enabled: boolean): Promise<ProxyState> {
    return this.#call('POST', `/proxies/${encodeURIComponent(name)}`, { enabled });
  }

  /** Adds a toxic (`stream` and `toxicity` as Toxiproxy takes them). */
  addToxic(proxy: string, toxic: ToxicInput): Promise<ToxicState> {
    return this.#call('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, toxic);
  }

  /** Changes a toxic's attributes or toxicity; Toxiproxy re-draws toxicity for every open connection. */
  updateToxic(
    proxy: string,
    toxic: string,
    change: { readonly toxicity?: number; readonly attributes?: Readonly<Record<string, number>> },
  ): Promise<ToxicState> {
    return this.#call('POST', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`, change);
  }

  listToxics(proxy: string): Promise<ToxicState[]> {
    return this.#call('GET', `/proxies/${encodeURIComponent(proxy)}/toxics`);
  }

  removeToxic(proxy: string, toxic: string): Promise<unknown> {
    return this.#call('DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`);
  }

  /** Removes a toxic; true when it was there, false when it was already gone (404). */
  async removeToxicIfPresent(proxy: string, toxic: string): Promise<boolean> {
    try {
      await this.removeToxic(proxy, toxic);
      return true;
    } catch (error) {
      if (error instanceof ToolFailedError && / -> 404:/.test(error.message)) return false;
      throw error;
    }
  }

  /** Removes every toxic and re-enables every proxy. */
  reset(): Promise<unknown> {
    return this.#call('POST', '/reset');
  }
}
