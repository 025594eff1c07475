import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';

const endpointSchema = z.strictObject({
  /** Host-side address: `http://127.0.0.1:<mapped>` style host and port map (container port -> host port). */
  host: z.string(),
  ports: z.record(z.string(), z.number().int()),
  /** In-network DNS name the other services use. */
  alias: z.string(),
});

/**
 * How the harness reaches the services' containers: `docker`, the Docker engine it uses (the default, as for
 * every stack `readiness up` starts), or `none`, no access to them (a stack something else runs elsewhere).
 */
const CONTAINER_ACCESS = ['docker', 'none'] as const;

export const stackHandleSchema = z
  .strictObject({
    schemaVersion: z.literal(1),
    runId: z.string(),
    stack: z.string(),
    seed: z.number().int(),
    createdAt: z.string(),
    ownerPid: z.number().int(),
    network: z.string(),
    logsDir: z.string(),
    /** Absent: `docker`. With `none`, container faults, container logs and Docker stats are not applicable. */
    containers: z.enum(CONTAINER_ACCESS).optional(),
    services: z.record(
      z.string(),
      z.strictObject({
        /** Required unless `containers` is `none`. */
        containerId: z.string().optional(),
        /** Required unless `containers` is `none`. */
        containerName: z.string().optional(),
        image: z.string(),
        endpoint: endpointSchema,
        startupMs: z.number(),
      }),
    ),
    toxiproxy: z
      .strictObject({
        /** Required unless `containers` is `none`. */
        containerId: z.string().optional(),
        apiUrl: z.string(),
        image: z.string(),
        proxies: z.record(
          z.string(),
          z.strictObject({ service: z.string(), listen: z.string(), upstream: z.string(), hostPort: z.number().int() }),
        ),
      })
      .nullable(),
  })
  .superRefine((handle, ctx) => {
    if (handle.containers === 'none') return;
    const required = (path: (string | number)[]): void => {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `is required (the Docker container) unless containers is "none" (no Docker access)`,
      });
    };
    for (const [name, service] of Object.entries(handle.services))
      for (const key of ['containerId', 'containerName'] as const)
        if (service[key] === undefined) required(['services', name, key]);
    if (handle.toxiproxy && handle.toxiproxy.containerId === undefined) required(['toxiproxy', 'containerId']);
  });
/** Everything a stage needs to reach a running stack; a file, so `readiness up` can leave one running. */
export type StackHandle = z.infer<typeof stackHandleSchema>;

export async function writeStackHandle(file: string, handle: StackHandle): Promise<void> {
  await writeFile(file, `${JSON.stringify(stackHandleSchema.parse(handle), null, 2)}\n`);
}

export async function readStackHandle(file: string): Promise<StackHandle> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${file}: stack handle not found; start a stack with "readiness up" first`], {
      cause: error,
    });
  }
  const parsed = stackHandleSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${file}: ${i.path.join('.')} ${i.message}`));
  }
  return parsed.data;
}

/**
 * Why link faults cannot be injected on a stack whose handle names no Toxiproxy (`toxiproxy: null`, a stack
 * something else started that routes its links through none); undefined when it names one. `handleFile` is
 * the handle file the run was given (`certify --target`, a drill), named in the reason.
 */
export function noToxiproxyReason(handle: StackHandle, handleFile?: string): string | undefined {
  if (handle.toxiproxy) return undefined;
  const where = handleFile ?? `the stack handle of run ${handle.runId}`;
  return `${where} routes its links through no Toxiproxy (toxiproxy: null), so link faults cannot be injected on this stack`;
}

/**
 * Why nothing can be done to the services' containers (faults, logs, stats) on a stack whose handle says
 * `containers: "none"`; undefined when the harness reaches them through Docker. `handleFile` as for `noToxiproxyReason`.
 */
export function noContainerAccessReason(handle: StackHandle, handleFile?: string): string | undefined {
  if (handle.containers !== 'none') return undefined;
  const where = handleFile ?? `the stack handle of run ${handle.runId}`;
  return `${where} gives the harness no Docker access to its containers (containers: "none")`;
}

/** The Docker container id of a service; throws when the stack gives no Docker access to it or has no such service. */
export function containerIdOf(handle: StackHandle, service: string): string {
  const entry = handle.services[service];
  if (!entry)
    throw new Error(
      `Stack "${handle.stack}" has no service "${service}" (known: ${Object.keys(handle.services).join(', ')})`,
    );
  if (entry.containerId === undefined)
    throw new Error(
      `Stack "${handle.stack}" gives no Docker access to the container of "${service}" (containers: "none")`,
    );
  return entry.containerId;
}

/** `http://host:port` of a service's container port, as seen from the host. */
export function serviceUrl(handle: StackHandle, service: string, containerPort: number): string {
  const entry = handle.services[service];
  if (!entry)
    throw new Error(
      `Stack "${handle.stack}" has no service "${service}" (known: ${Object.keys(handle.services).join(', ')})`,
    );
  const hostPort = entry.endpoint.ports[String(containerPort)];
  if (hostPort === undefined) throw new Error(`Service "${service}" does not expose port ${containerPort}`);
  return `http://${entry.endpoint.host}:${hostPort}`;
}
