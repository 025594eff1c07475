import { createServer } from 'node:http';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A node:http server on 127.0.0.1 for a unit test: its base URL and how to close it. */
export interface LoopbackServer {
  readonly baseUrl: string;
  readonly close: () => Promise<void>;
}

/** Starts `handler` on an ephemeral loopback port. */
export async function startLoopbackServer(handler: RequestListener): Promise<LoopbackServer> {
  const server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
