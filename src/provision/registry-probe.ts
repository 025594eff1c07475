import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';

/** Whether a registry host answers on the network, and if not, what was seen. */
type RegistryReach =
  | { readonly registry: string; readonly reachable: true }
  | { readonly registry: string; readonly reachable: false; readonly reason: string };

const DOCKER_HUB = 'registry-1.docker.io';

/** The host and port Docker talks to for a registry (`docker.io` is served by registry-1.docker.io:443). */
export function registryEndpoint(registry: string): { readonly host: string; readonly port: number } {
  const name = registry === 'docker.io' ? DOCKER_HUB : registry;
  const colon = name.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(name.slice(colon + 1))) {
    return { host: name.slice(0, colon), port: Number(name.slice(colon + 1)) };
  }
  return { host: name, port: 443 };
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reason: string | undefined): void => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => {
      done(`no TCP answer from ${host}:${port.toString()} within ${timeoutMs.toString()}ms`);
    });
    socket.once('connect', () => {
      done(undefined);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      done(`${host}:${port.toString()}: ${error.code ?? error.message}`);
    });
  });
}

/**
 * Whether `registry` can be reached at all: its name resolves and a TCP connection to its port
 * opens within `timeoutMs`. Sends no request and pulls nothing; a registry that answers may still
 * lack an image, which only a pull can tell.
 */
export async function probeRegistry(registry: string, timeoutMs = 3000): Promise<RegistryReach> {
  const { host, port } = registryEndpoint(registry);
  let address: string;
  try {
    address = (await lookup(host)).address;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { registry, reachable: false, reason: `${host} does not resolve (${code})` };
  }
  const failure = await tcpConnect(address, port, timeoutMs);
  return failure === undefined ? { registry, reachable: true } : { registry, reachable: false, reason: failure };
}
