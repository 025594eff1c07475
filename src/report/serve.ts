import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { RUN_ARTIFACTS } from './runs.ts';
import { htmlEscape } from './certificate.ts';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.sarif': 'application/sarif+json; charset=utf-8',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.sha256': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
};

interface RunFolderServer {
  readonly url: string;
  close(): Promise<void>;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

function indexPage(runId: string, present: readonly { path: string; what: string }[]): string {
  const items = present
    .map((a) => `<li><a href="/${a.path}">${htmlEscape(a.path)}</a>: ${htmlEscape(a.what)}</li>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Run ${htmlEscape(runId)}</title></head><body style="font-family:sans-serif"><h1>Readiness run ${htmlEscape(runId)}</h1><ul>${items}</ul></body></html>`;
}

/**
 * Serves a run folder read-only on `host` (127.0.0.1 by default; port 0 picks a free one): GET/HEAD
 * of files inside the folder only, `/` lists the artifacts.
 */
export async function serveRunFolder(
  runDir: string,
  options: { readonly runId: string; readonly port?: number; readonly host?: string },
): Promise<RunFolderServer> {
  const root = resolve(runDir);
  const server = createServer((request, response) => {
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(405, 'method not allowed\n');
      return;
    }
    void (async () => {
      let pathname: string;
      try {
        pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
      } catch {
        send(400, 'bad path\n');
        return;
      }
      if (pathname === '/') {
        const present = [];
        for (const artifact of RUN_ARTIFACTS) if (await isFile(join(root, artifact.path))) present.push(artifact);
        send(200, indexPage(options.runId, present), CONTENT_TYPES['.html']);
        return;
      }
      const file = resolve(root, `.${pathname}`);
      if (!file.startsWith(`${root}${sep}`) || file.includes('\0')) {
        send(403, 'outside the run folder\n');
        return;
      }
      const target = (await isFile(file)) ? file : join(file, 'index.html');
      if (!(await isFile(target))) {
        send(404, 'not found\n');
        return;
      }
      response.writeHead(200, {
        'content-type': CONTENT_TYPES[extname(target)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      if (request.method === 'HEAD') {
        response.end();
        return;
      }
      createReadStream(target)
        .on('error', () => response.destroy())
        .pipe(response);
    })().catch(() => {
      if (!response.headersSent) send(500, 'internal error\n');
      else response.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port.toString()}/`,
    close: () =>
      new Promise<void>((resolveClose, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolveClose()));
      }),
  };
}
