import { z } from 'zod';
import { ToolFailedError } from '../core/errors.ts';
import { exec, tail } from '../core/exec.ts';
import type { ExecOptions, ExecResult } from '../core/exec.ts';

/** Runs the docker CLI; the seam through which every docker call of this folder goes. */
export type DockerRunner = (args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

/** The real docker CLI. */
export const dockerCli: DockerRunner = (args, options) => exec('docker', args, options);

/** What we read from `docker image inspect`. */
export interface LocalImage {
  /** Image id (`sha256:...`), the digest recorded on the certificate. */
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly repoDigests: readonly string[];
  readonly created: string;
}

const inspectSchema = z.array(
  z.object({
    Id: z.string(),
    Created: z.string().default(''),
    RepoDigests: z.array(z.string()).nullish(),
    Config: z.object({ Labels: z.record(z.string(), z.string()).nullish() }).nullish(),
  }),
);

/** `docker image inspect ref`, or undefined when the image is not present locally. */
export async function inspectImage(docker: DockerRunner, ref: string): Promise<LocalImage | undefined> {
  const result = await docker(['image', 'inspect', ref], { timeoutMs: 30_000 });
  if (result.exitCode !== 0) {
    if (/no such (image|object)/i.test(result.stderr)) return undefined;
    throw new ToolFailedError(
      `docker image inspect ${ref} exited ${result.exitCode ?? result.signal}: ${tail(result.stderr, 5)}`,
      {
        hint: 'check that the Docker engine answers (`docker info`)',
      },
    );
  }
  const parsed = inspectSchema.safeParse(JSON.parse(result.stdout));
  const first = parsed.success ? parsed.data[0] : undefined;
  if (!first) {
    throw new ToolFailedError(`docker image inspect ${ref} printed an unexpected document`, {
      hint: 'check the Docker CLI version (`docker version`)',
    });
  }
  return {
    id: first.Id,
    labels: first.Config?.Labels ?? {},
    repoDigests: first.RepoDigests ?? [],
    created: first.Created,
  };
}
