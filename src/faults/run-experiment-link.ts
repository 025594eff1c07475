import type { ChaosConfig } from '../config/stages/chaos.ts';
import type { SuiteContext } from '../runner/suite.ts';
import { helloBytes } from '../runner/templates.ts';
import { faultLink } from './catalog.ts';
import type { Fault } from './catalog.ts';
import { judgeLink, samplesFor } from './fault-proof.ts';
import type { LinkVerdict } from './fault-proof.ts';
import { observeLink } from './link-probe.ts';
import type { LinkObservation } from './link-probe.ts';
import { judgeContainerLink, linkWatch } from './run-experiment-judge.ts';

/** Where a fault is watched from outside: a host port, the hello to send there and the answer to expect. */
export interface LinkTarget {
  readonly host: string;
  readonly port: number;
  readonly hello: Buffer;
  readonly expectBytes: number;
  readonly via: string;
  /** The blast-radius guard of the run (throws for a host that is not the run's own). */
  readonly assert: (target: string) => unknown;
}

/** Where to look for a fault from the outside: through its Toxiproxy link, or at the service's own port. */
export function linkTargetOf(
  context: Pick<SuiteContext, 'handle' | 'config' | 'assertTarget'>,
  chaos: ChaosConfig,
  fault: Fault,
): LinkTarget | undefined {
  const { handle, config } = context;
  const link = faultLink(fault);
  const toxiproxyHost = handle.toxiproxy ? new URL(handle.toxiproxy.apiUrl).hostname : '127.0.0.1';
  const assert = (t: string) => context.assertTarget(t);
  const throughLink = (name: string, hostPort: number): LinkTarget | undefined => {
    const hello = chaos.links[name];
    if (!hello) return undefined;
    const { send, expectBytes } = hello;
    return { host: toxiproxyHost, port: hostPort, hello: helloBytes(send), expectBytes, via: `link ${name}`, assert };
  };
  if (link !== undefined) {
    const proxy = handle.toxiproxy?.proxies[link];
    return proxy ? throughLink(link, proxy.hostPort) : undefined;
  }
  if (fault.kind !== 'container') return undefined;
  const viaLink = Object.entries(handle.toxiproxy?.proxies ?? {}).find(
    ([name, p]) => p.service === fault.service && chaos.links[name],
  );
  const linked = viaLink && throughLink(viaLink[0], viaLink[1].hostPort);
  if (linked) return linked;
  const health = config.services[fault.service]?.health;
  const entry = handle.services[fault.service];
  if (health?.kind !== 'http' || !entry) return undefined;
  const port = entry.endpoint.ports[String(health.port)];
  if (port === undefined) return undefined;
  return {
    host: entry.endpoint.host,
    port,
    hello: Buffer.from(`GET ${health.path} HTTP/1.0\r\nHost: ${fault.service}\r\n\r\n`),
    expectBytes: 12,
    via: `${fault.service}:${health.port}`,
    assert,
  };
}

/** Opens `n` connections through the target, one after another, and says what each saw. */
export async function observeMany(
  target: LinkTarget,
  n: number,
  timeoutMs: number,
  waitCloseMs?: number,
): Promise<LinkObservation[]> {
  const out: LinkObservation[] = [];
  target.assert(`${target.host}:${target.port}`);
  for (let i = 0; i < n; i += 1)
    out.push(
      await observeLink(target.host, target.port, target.hello, {
        expectBytes: target.expectBytes,
        timeoutMs,
        ...(waitCloseMs === undefined ? {} : { waitCloseMs }),
      }),
    );
  return out;
}

/** What the link shows of the fault in place, against what it showed before the fault. */
export async function observeFaultOnLink(
  target: LinkTarget | undefined,
  fault: Fault,
  baseline: readonly LinkObservation[],
): Promise<LinkVerdict> {
  if (!target) return { verdict: 'unobservable', detail: 'no link hello configured for this fault' };
  if (fault.kind === 'container') return judgeContainerLink(fault, target.via, await observeMany(target, 1, 1_000));
  if (fault.kind === 'signal')
    return { verdict: 'unobservable', detail: 'a process signal is proven by the process table' };
  const { timeoutMs, waitCloseMs } = linkWatch(fault);
  const during = await observeMany(target, samplesFor(fault), timeoutMs, waitCloseMs);
  const link = judgeLink(fault, baseline, during, target.expectBytes);
  return { ...link, detail: `${target.via}: ${link.detail}` };
}
