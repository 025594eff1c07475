import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import type { SuiteContext } from '../runner/suite.ts';
import { stackHandleSchema } from '../stack/stack-handle.ts';
import { linkTargetOf } from './run-experiment-link.ts';

const ROOT = join(import.meta.dirname, '../..');
// A handle recorded from `readiness up` of the reference stack, and the reference config.
const handle = stackHandleSchema.parse(
  JSON.parse(readFileSync(join(ROOT, 'test/fixtures/chaos/stack-handle.json'), 'utf8')),
);

type Context = Parameters<typeof linkTargetOf>[0];

async function reference(): Promise<{ context: Context; chaos: NonNullable<SuiteContext['config']['chaos']> }> {
  const config = await loadConfig('readiness.config.ts', ROOT);
  if (!config.chaos) throw new Error('the reference config has a chaos section');
  const context: Context = { config, handle, assertTarget: (t) => new URL(String(t)) };
  return { context, chaos: config.chaos };
}

describe('where a fault is watched from outside', () => {
  it('a link fault: through its Toxiproxy proxy, with the link hello of the config', async () => {
    const { context, chaos } = await reference();
    const link = Object.keys(chaos.links)[0] ?? '';
    const target = linkTargetOf(context, chaos, { kind: 'down', link });
    expect(target).toMatchObject({
      host: '127.0.0.1',
      port: handle.toxiproxy?.proxies[link]?.hostPort,
      expectBytes: chaos.links[link]?.expectBytes,
      via: `link ${link}`,
    });
  });

  it('a container fault: through a link to that service, else at its HTTP health port', async () => {
    const { context, chaos } = await reference();
    const linked = Object.entries(handle.toxiproxy?.proxies ?? {}).find(([name]) => chaos.links[name]);
    const service = linked?.[1].service ?? '';
    expect(linkTargetOf(context, chaos, { kind: 'container', service, action: 'kill' })?.via).toBe(
      `link ${linked?.[0]}`,
    );
    const unlinked = Object.keys(handle.services).find(
      (s) =>
        context.config.services[s]?.health?.kind === 'http' &&
        !Object.values(handle.toxiproxy?.proxies ?? {}).some((p) => p.service === s),
    );
    const health = context.config.services[unlinked ?? '']?.health;
    if (!unlinked || health?.kind !== 'http') throw new Error('the reference stack has a service with HTTP health');
    const target = linkTargetOf(context, chaos, { kind: 'container', service: unlinked, action: 'pause' });
    expect(target).toMatchObject({
      host: '127.0.0.1',
      port: handle.services[unlinked]?.endpoint.ports[String(health.port)],
      expectBytes: 12,
      via: `${unlinked}:${health.port}`,
    });
    expect(target?.hello.toString()).toBe(`GET ${health.path} HTTP/1.0\r\nHost: ${unlinked}\r\n\r\n`);
  });

  it('nowhere for a link without a hello, a link the stack does not have, or a signal', async () => {
    const { context, chaos } = await reference();
    const bare = { ...chaos, links: {} };
    const link = Object.keys(chaos.links)[0] ?? '';
    expect(linkTargetOf(context, bare, { kind: 'down', link })).toBeUndefined();
    expect(linkTargetOf(context, chaos, { kind: 'down', link: 'no-such-link' })).toBeUndefined();
    expect(
      linkTargetOf(context, chaos, { kind: 'signal', service: link, process: 'x', signal: 'KILL' }),
    ).toBeUndefined();
  });
});
