/**
 * The `web` consumer's client of the orders API: what the web front end calls and which fields
 * it reads. The consumer contract (web-orders.test.ts) exercises this code against Pact's mock.
 */

export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresIn: number;
}

export interface OrderLine {
  readonly sku: string;
  readonly name: string;
  readonly qty: number;
  readonly unitPriceCents: number;
  readonly lineTotalCents: number;
}

export interface Order {
  readonly id: string;
  readonly status: string;
  readonly currency: string;
  readonly items: readonly OrderLine[];
  readonly totalCents: number;
  readonly createdAt: string;
}

export interface OrderPage {
  readonly items: readonly Order[];
  readonly nextCursor: string | null;
}

export interface Me {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly role: string;
}

export interface NewOrder {
  readonly items: readonly { readonly sku: string; readonly qty: number }[];
  readonly currency?: string;
}

function fieldOf(body: Record<string, unknown>, key: string, type: 'string' | 'number' | 'array'): unknown {
  const value = body[key];
  const ok = type === 'array' ? Array.isArray(value) : typeof value === type;
  if (!ok) throw new TypeError(`response field "${key}" is not a ${type}: ${JSON.stringify(value)}`);
  return value;
}
const str = (body: Record<string, unknown>, key: string): string => fieldOf(body, key, 'string') as string;
const num = (body: Record<string, unknown>, key: string): number => fieldOf(body, key, 'number') as number;
const list = (body: Record<string, unknown>, key: string): unknown[] => fieldOf(body, key, 'array') as unknown[];
const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** An error answer of the API: `{ error, message, requestId }` plus the status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string;
  readonly authenticate: string | null;

  constructor(
    status: number,
    body: { error?: unknown; message?: unknown; requestId?: unknown },
    authenticate: string | null,
  ) {
    super(`${status} ${text(body.error)}: ${text(body.message ?? '')}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = text(body.error);
    this.requestId = text(body.requestId);
    this.authenticate = authenticate;
  }
}

function toOrder(raw: unknown): Order {
  const body = raw as Record<string, unknown>;
  const items = list(body, 'items').map((line) => {
    const l = line as Record<string, unknown>;
    return {
      sku: str(l, 'sku'),
      name: str(l, 'name'),
      qty: num(l, 'qty'),
      unitPriceCents: num(l, 'unitPriceCents'),
      lineTotalCents: num(l, 'lineTotalCents'),
    };
  });
  return {
    id: str(body, 'id'),
    status: str(body, 'status'),
    currency: str(body, 'currency'),
    items,
    totalCents: num(body, 'totalCents'),
    createdAt: str(body, 'createdAt'),
  };
}

export class OrdersApi {
  readonly #baseUrl: string;

  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl;
  }

  async #call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.#baseUrl}${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const body = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new ApiError(response.status, body, response.headers.get('www-authenticate'));
    return { status: response.status, headers: response.headers, body };
  }

  async login(email: string, password: string): Promise<TokenPair> {
    const { body } = await this.#call('POST', '/v1/auth/login', { body: { email, password } });
    return {
      accessToken: str(body, 'accessToken'),
      refreshToken: str(body, 'refreshToken'),
      expiresIn: num(body, 'expiresIn'),
    };
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const { body } = await this.#call('POST', '/v1/auth/refresh', { body: { refreshToken } });
    return {
      accessToken: str(body, 'accessToken'),
      refreshToken: str(body, 'refreshToken'),
      expiresIn: num(body, 'expiresIn'),
    };
  }

  async me(token: string): Promise<Me> {
    const { body } = await this.#call('GET', '/v1/users/me', { token });
    return {
      id: str(body, 'id'),
      email: str(body, 'email'),
      name: str(body, 'name'),
      role: str(body, 'role'),
    };
  }

  /** Places an order; `replayed` is true when the API answered with the order an earlier try created. */
  async createOrder(
    token: string | undefined,
    idempotencyKey: string,
    order: NewOrder,
  ): Promise<{ order: Order; replayed: boolean }> {
    const { body, headers } = await this.#call('POST', '/v1/orders', {
      ...(token === undefined ? {} : { token }),
      body: order,
      headers: { 'idempotency-key': idempotencyKey },
    });
    return { order: toOrder(body), replayed: headers.get('idempotent-replayed') === 'true' };
  }

  async getOrder(token: string, id: string): Promise<Order> {
    const { body } = await this.#call('GET', `/v1/orders/${encodeURIComponent(id)}`, { token });
    return toOrder(body);
  }

  async listOrders(token: string, limit: number): Promise<OrderPage> {
    const { body } = await this.#call('GET', `/v1/orders?limit=${limit}`, { token });
    const nextCursor = body['nextCursor'];
    return {
      items: list(body, 'items').map(toOrder),
      nextCursor: typeof nextCursor === 'string' ? nextCursor : null,
    };
  }

  async auditLog(token: string): Promise<unknown[]> {
    const { body } = await this.#call('GET', '/v1/admin/audit', { token });
    return list(body, 'items');
  }
}

/** What the web UI shows as an order's total: the field the contract pins. */
export function formatTotal(order: Pick<Order, 'totalCents' | 'currency'>): string {
  return `${(order.totalCents / 100).toFixed(2)} ${order.currency}`;
}
