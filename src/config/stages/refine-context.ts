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
 * Checks a reference to a declared service and, when given, one of its ports: adds an issue at
 * `<at>.service` for an unknown service or at `<at>.port` for a port the service does not expose.
 * Returns whether the reference holds.
 */
export function checkServicePort(
  config: RefinementCtx['config'],
  ctx: RefinementCtx['ctx'],
  at: readonly PropertyKey[],
  ref: { readonly service: string; readonly port?: number | undefined },
): boolean {
  const service = config.services[ref.service];
  if (!service) {
    ctx.addIssue({ code: 'custom', path: [...at, 'service'], message: `names unknown service "${ref.service}"` });
    return false;
  }
  if (ref.port !== undefined && !service.ports.includes(ref.port)) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'port'],
      message: `port ${ref.port} is not in services.${ref.service}.ports`,
    });
    return false;
  }
  return true;
}
