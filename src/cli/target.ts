import type { ResolvedConfig } from '../config/load-config.ts';
import { ConfigError } from '../core/errors.ts';
import { readStackHandle } from '../stack/stack-handle.ts';
import type { StackHandle } from '../stack/stack-handle.ts';

/**
 * The stack `certify --target <file>` runs against: a stack handle (what `readiness up` writes, or
 * the same shape written for a stack something else started). Refused with exit 2, before
 * anything starts, when it is not the config's stack: another config's name, a service or port of the
 * config it lacks, or a Toxiproxy without a proxy for a link of the config. A handle naming no Toxiproxy
 * (`toxiproxy: null`) is accepted: the stages record what needs one (link faults) not applicable.
 */
export async function readTargetHandle(file: string, config: ResolvedConfig): Promise<StackHandle> {
  const handle = await readStackHandle(file);
  const problems: string[] = [];
  if (handle.stack !== config.name)
    problems.push(
      `${file}: stack is "${handle.stack}", the stack of another config than ${config.configFile} (name "${config.name}")`,
    );
  for (const service of Object.keys(config.services)) {
    const entry = handle.services[service];
    if (!entry) {
      problems.push(`${file}: services.${service} is missing (the config declares it; the target must run it)`);
      continue;
    }
    for (const port of config.services[service]?.ports ?? []) {
      if (entry.endpoint.ports[String(port)] === undefined)
        problems.push(`${file}: services.${service}.endpoint.ports.${port} is missing (services.${service}.ports)`);
    }
  }
  // Without a Toxiproxy (`toxiproxy: null`) the links are still there, unfaultable: their faults are not applicable.
  if (handle.toxiproxy) {
    for (const link of config.links) {
      const name = link.name ?? link.service;
      if (!handle.toxiproxy.proxies[name]) problems.push(`${file}: toxiproxy.proxies.${name} is missing (links)`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return handle;
}
