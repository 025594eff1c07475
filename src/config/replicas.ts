import { z } from 'zod';
import type { AuthConfig } from './auth.ts';
import { checkServicePort } from './stages/refine-context.ts';
import type { RefinementCtx } from './stages/refine-context.ts';

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a lower-case name of letters, digits and dashes');

/** HTTP methods a replica-consistency request may use. */
const REPLICA_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const replicaRequestSchema = z.strictObject({
  method: z.enum(REPLICA_METHODS).default('GET'),
  path: z.string().startsWith('/'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.json().optional(),
  /** Who this request is sent as (a principal of auth.principals), instead of the group's `as`. */
  as: name.optional(),
});

/**
 * One group of replicas of the same service: the same requests, with the same credentials, are
 * sent to each replica directly (its own host port, not through a load balancer), and every
 * replica must accept or refuse each alike (same status class).
 */
const replicaGroupSchema = z
  .strictObject({
    /** The check id's last part, `boot.replicas.<name>` (default: the first service's name). */
    name: name.optional(),
    services: z
      .array(name)
      .min(2, 'name at least two replicas')
      .refine((list) => new Set(list).size === list.length, 'lists a service twice'),
    /** The container port every replica serves the requests on. */
    port: z.number().int().min(1).max(65535),
    /** Who the requests are sent as: a principal of auth.principals (a scheme 'none' one for anonymous). */
    as: name,
    requests: z.array(replicaRequestSchema).min(1, 'name at least one request'),
    /** Bound of one request (default 5 s). */
    timeoutMs: z.number().int().positive().default(5_000),
  })
  .transform(({ name: groupName, ...rest }) => ({ ...rest, name: groupName ?? rest.services[0] ?? 'replicas' }));

export type ReplicaGroup = z.output<typeof replicaGroupSchema>;
export type ReplicaRequest = ReplicaGroup['requests'][number];

/** `boot.replicas`: replica groups whose answers must agree; empty means not configured. */
export const replicasSchema = z.array(replicaGroupSchema).default([]);

/** Cross-checks `boot.replicas` against the services and `auth.principals`; issues carry paths under `boot.replicas`. */
export function refineReplicas(
  config: RefinementCtx['config'] & {
    readonly auth?: AuthConfig | undefined;
    readonly boot: { readonly replicas: readonly ReplicaGroup[] };
  },
  ctx: RefinementCtx['ctx'],
): void {
  const principals = Object.keys(config.auth?.principals ?? {});
  const fix = `name a principal of auth.principals (${principals.join(', ') || 'none configured'}); see docs/auth.md`;
  const seen = new Set<string>();
  config.boot.replicas.forEach((group, i) => {
    const at = ['boot', 'replicas', i];
    if (seen.has(group.name))
      ctx.addIssue({ code: 'custom', path: [...at, 'name'], message: `duplicate replica group "${group.name}"` });
    seen.add(group.name);
    group.services.forEach((service, j) => {
      checkServicePort(config, ctx, at, { service, port: group.port }, [...at, 'services', j]);
    });
    const checkAs = (as: string, path: readonly (string | number)[]): void => {
      if (!principals.includes(as)) ctx.addIssue({ code: 'custom', path: [...path], message: `"${as}": ${fix}` });
    };
    checkAs(group.as, [...at, 'as']);
    group.requests.forEach((request, j) => {
      if (request.as !== undefined) checkAs(request.as, [...at, 'requests', j, 'as']);
    });
  });
}
