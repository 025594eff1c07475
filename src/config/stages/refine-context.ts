import type { z } from 'zod';

/** What a stage's refine function gets: the parsed config (before path resolution) and zod's context. */
export interface RefinementCtx {
  readonly config: {
    readonly services: Readonly<
      Record<
        string,
        { readonly ports: readonly number[]; readonly dependsOn: readonly string[]; readonly health?: unknown }
      >
    >;
    readonly links: readonly { readonly name?: string | undefined; readonly service: string; readonly port: number }[];
    readonly stages: readonly string[];
  };
  readonly ctx: z.RefinementCtx;
}

/**
 * Checks that `service` is a declared service: adds an issue at `path` (where the config names it,
 * a `service` field, a key or a list entry) when it is not. Returns whether it is.
 */
export function checkService(
  config: RefinementCtx['config'],
  ctx: RefinementCtx['ctx'],
  path: readonly PropertyKey[],
  service: string,
): boolean {
  if (config.services[service]) return true;
  ctx.addIssue({ code: 'custom', path: [...path], message: `names unknown service "${service}"` });
  return false;
}

/**
 * Checks a reference to a declared service and, when given, one of its ports: adds an issue at
 * `servicePath` (default `<at>.service`) for an unknown service or at `<at>.port` for a port the
 * service does not expose. Returns whether the reference holds.
 */
export function checkServicePort(
  config: RefinementCtx['config'],
  ctx: RefinementCtx['ctx'],
  at: readonly PropertyKey[],
  ref: { readonly service: string; readonly port?: number | undefined },
  servicePath: readonly PropertyKey[] = [...at, 'service'],
): boolean {
  if (!checkService(config, ctx, servicePath, ref.service)) return false;
  const ports = config.services[ref.service]?.ports ?? [];
  if (ref.port !== undefined && !ports.includes(ref.port)) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'port'],
      message: `port ${ref.port} is not in services.${ref.service}.ports`,
    });
    return false;
  }
  return true;
}
