import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import reference from '../../readiness.config.ts';
import { resolveConfig } from '../config/index.ts';
import { ConfigError } from '../core/errors.ts';
import { stackHandleSchema } from '../stack/stack-handle.ts';
import { readTargetHandle } from './target.ts';

const ROOT = join(import.meta.dirname, '../..');
const config = resolveConfig(reference, join(ROOT, 'readiness.config.ts'));

/**
 * The handle `readiness up` of the reference stack wrote (recorded before the config had its replicas, which
 * get an entry like orders'), changed by `change`, in a temp file.
 */
async function handleFile(change: (handle: Record<string, unknown>) => Record<string, unknown>): Promise<string> {
  const recorded = stackHandleSchema.parse(
    JSON.parse(await readFile(join(ROOT, 'test/fixtures/chaos/stack-handle.json'), 'utf8')),
  );
  const services = Object.fromEntries(
    Object.entries(config.services).map(([name, service]) => {
      const entry = recorded.services[name] ?? recorded.services['orders'];
      if (!entry) throw new Error('the recorded handle runs orders');
      const ports = Object.fromEntries(service.ports.map((port, i) => [String(port), 40_000 + i]));
      return [name, { ...entry, endpoint: { ...entry.endpoint, ports: { ...ports, ...entry.endpoint.ports } } }];
    }),
  );
  const file = join(await mkdtemp(join(tmpdir(), 'target-')), 'handle.json');
  await writeFile(file, JSON.stringify(change({ ...recorded, services })));
  return file;
}

describe('certify --target: the handle of a stack something else started', () => {
  it('accepts a handle that routes the config links through no Toxiproxy (toxiproxy: null)', async () => {
    expect(config.links.length).toBeGreaterThan(0);
    const file = await handleFile((h) => ({ ...h, toxiproxy: null }));
    const handle = await readTargetHandle(file, config);
    expect(handle.toxiproxy).toBeNull();
    expect(Object.keys(handle.services).sort()).toEqual(Object.keys(config.services).sort());
  });

  it('still refuses a Toxiproxy without a proxy for a link of the config, naming file and key', async () => {
    const file = await handleFile((h) => {
      const toxiproxy = h['toxiproxy'] as { proxies: Record<string, unknown> };
      const { postgres: _postgres, ...proxies } = toxiproxy.proxies;
      return { ...h, toxiproxy: { ...toxiproxy, proxies } };
    });
    const error = await readTargetHandle(file, config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(`${file}: toxiproxy.proxies.postgres is missing (links)`);
  });

  it('accepts a handle without Docker access (containers: "none") whose services and Toxiproxy name no container', async () => {
    const file = await handleFile((h) => {
      const { containerId: _toxiproxyContainer, ...toxiproxy } = h['toxiproxy'] as Record<string, unknown>;
      return {
        ...h,
        containers: 'none',
        toxiproxy,
        services: Object.fromEntries(
          Object.entries(h['services'] as Record<string, Record<string, unknown>>).map(([name, entry]) => {
            const { containerId: _id, containerName: _name, ...rest } = entry;
            return [name, rest];
          }),
        ),
      };
    });
    const handle = await readTargetHandle(file, config);
    expect(handle.containers).toBe('none');
    expect(handle.services['orders']?.containerId).toBeUndefined();
    expect(handle.toxiproxy?.containerId).toBeUndefined();
    expect(handle.toxiproxy?.proxies['postgres']).toBeDefined();
  });

  it('refuses a service without its container unless containers is "none", naming file and key', async () => {
    const file = await handleFile((h) => {
      const services = h['services'] as Record<string, Record<string, unknown>>;
      const { containerId: _id, ...orders } = services['orders'] ?? {};
      return { ...h, services: { ...services, orders } };
    });
    const error = await readTargetHandle(file, config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(
      `${file}: services.orders.containerId is required (the Docker container) unless containers is "none" (no Docker access)`,
    );
  });
});
