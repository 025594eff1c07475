import { isIP } from 'node:net';
import { ReadinessError } from '../core/errors.ts';
import { EXIT } from '../core/errors.ts';
import type { StackHandle } from '../stack/stack-handle.ts';

/** A target outside loopback, the run's own containers and `allowTargets`: refused before any request. */
export class TargetNotAllowedError extends ReadinessError {
  constructor(target: string, allowed: readonly string[]) {
    super(
      'TARGET_NOT_ALLOWED',
      `Refusing to send traffic to ${target}: only loopback, the run's own containers (${allowed.join(', ')}) and config.allowTargets may be targeted`,
      { hint: `add the host to allowTargets in the config if this target is yours to test` },
      EXIT.usage,
    );
  }
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

/** The names of a run's own containers: aliases, `<service>-upstream`, container names, toxiproxy, and the host their ports are published on. */
function runHostnames(handle: StackHandle): string[] {
  const names = new Set<string>();
  for (const [id, service] of Object.entries(handle.services)) {
    names.add(id);
    names.add(`${id}-upstream`);
    names.add(service.endpoint.alias);
    if (service.containerName !== undefined) names.add(service.containerName);
    // Where the run's ports are published (loopback here; `docker` under GitLab's dind).
    names.add(service.endpoint.host);
  }
  if (handle.toxiproxy) {
    names.add('toxiproxy');
    names.add(new URL(handle.toxiproxy.apiUrl).hostname);
  }
  return [...names];
}

/**
 * Throws unless `target` (a URL or host[:port]) is loopback, one of the run's own containers,
 * or listed in `allowTargets` (as a host or host:port).
 */
export function assertAllowedTarget(target: string | URL, handle: StackHandle, allowTargets: readonly string[]): URL {
  let url: URL;
  try {
    url =
      target instanceof URL ? target : new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target : `tcp://${target}`);
  } catch {
    throw new TargetNotAllowedError(String(target), runHostnames(handle));
  }
  const host = url.hostname.toLowerCase();
  const hostPort = url.port ? `${host}:${url.port}` : host;
  const own = runHostnames(handle);
  if (
    isLoopback(host) ||
    own.includes(host) ||
    allowTargets.some((a) => a.toLowerCase() === host || a.toLowerCase() === hostPort)
  ) {
    return url;
  }
  throw new TargetNotAllowedError(url.toString(), own);
}
