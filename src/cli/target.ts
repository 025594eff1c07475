import type { ResolvedConfig } from '../config/load-config.ts';
import { ConfigError } from '../core/errors.ts';
import { readStackHandle } from '../stack/stack-handle.ts';
import type { StackHandle } from '../stack/stack-handle.ts';

/**
 * The stack `certify --target <file>` runs against: a stack handle (what `readiness up` writes, or
 * the same shape written for a stack something else started). Refused with exit 2, before
 * anything starts, when it is not the config's stack: another config's name, a service of the
 * config it lacks, or links the config faults without a Toxiproxy to fault them through.
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
  if (config.links.length > 0) {
    if (!handle.toxiproxy) {
      problems.push(
        `${file}: toxiproxy is null but the config has links (${config.links.map((l) => l.name ?? l.service).join(', ')}): route them through a Toxiproxy and name it, or remove links`,
      );
    } else {
      for (const link of config.links) {
        const name = link.name ?? link.service;
        if (!handle.toxiproxy.proxies[name]) problems.push(`${file}: toxiproxy.proxies.${name} is missing (links)`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return handle;
}
