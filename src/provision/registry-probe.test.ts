import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRegistry, registryEndpoint } from './registry-probe.ts';

describe('registryEndpoint', () => {
  it.each([
    ['docker.io', 'registry-1.docker.io', 443],
    ['ghcr.io', 'ghcr.io', 443],
    ['localhost:5000', 'localhost', 5000],
  ])('%s -> %s:%i', (registry, host, port) => {
    expect(registryEndpoint(registry)).toEqual({ host, port });
  });
});

describe('probeRegistry (real sockets on loopback)', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('says a registry that accepts connections is reachable', async () => {
    expect(await probeRegistry(`127.0.0.1:${port.toString()}`)).toEqual({
      registry: `127.0.0.1:${port.toString()}`,
      reachable: true,
    });
  });

  it('says a registry whose port refuses is unreachable, with the socket error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const reach = await probeRegistry(`127.0.0.1:${freePort.toString()}`);
    expect(reach).toMatchObject({ reachable: false, reason: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('says a registry whose name does not resolve is unreachable', async () => {
    // .invalid never resolves (RFC 6761), with or without a network.
    const reach = await probeRegistry('registry.invalid');
    expect(reach).toMatchObject({ reachable: false, reason: expect.stringMatching(/does not resolve/) });
  });
});
