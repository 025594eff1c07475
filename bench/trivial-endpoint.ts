// What the k6 benches share: a trivial loopback endpoint in this process, a temp folder, and the
// project's k6 binary (built or found as the load stage would).
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigSchema } from '../src/config/stages/load.ts';
import { ensureK6 } from '../src/load/index.ts';

/** The endpoint's port, a temp folder, the k6 binary, and how to close them. */
export interface TrivialEndpoint {
  readonly port: number;
  readonly dir: string;
  readonly k6: string;
  readonly close: () => Promise<void>;
}

/** Starts a node:http server answering 200 `ok` on 127.0.0.1 and finds k6; `close` stops it and removes the folder. */
export async function trivialEndpoint(prefix: string): Promise<TrivialEndpoint> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const close = async (): Promise<void> => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const load = loadConfigSchema.parse({
      script: 'x',
      target: { service: 'x', port: 1 },
      scenarios: [{ id: 'x', ratePerSec: 1, durationSec: 1 }],
    });
    const k6 = await ensureK6(load, { reporter: {} });
    return { port, dir, k6, close };
  } catch (error) {
    await close();
    throw error;
  }
}
