import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import { z } from 'zod';
import { pollUntil } from '../core/clock.ts';
import type { Clock } from '../core/clock.ts';
import { ToolFailedError, ToolMissingError } from '../core/errors.ts';
import { exec, tail } from '../core/exec.ts';
import type { Reporter } from '../core/reporter.ts';
import { cachePaths, lockPath, resolveCacheDir, withFileLock } from './cache.ts';
import { aptInstall, findExecutable, hostFacts } from './host.ts';

/** What `doctor` and the certificate want to know about the engine. */
export interface DockerEngineInfo {
  readonly serverVersion: string;
  readonly operatingSystem: string;
  readonly kernelVersion: string;
  readonly storageDriver: string;
  readonly cgroupVersion: string;
  readonly architecture: string;
}

const infoSchema = z.object({
  ServerVersion: z.string().min(1),
  OperatingSystem: z.string().default(''),
  KernelVersion: z.string().default(''),
  Driver: z.string().default(''),
  CgroupVersion: z.string().default(''),
  Architecture: z.string().default(''),
});

type DockerProbe =
  | { readonly ok: true; readonly info: DockerEngineInfo }
  | { readonly ok: false; readonly reason: string; readonly isCliMissing: boolean };

/** Parses `docker info --format '{{json .}}'`; undefined when no server section answered. */
export function parseDockerInfo(stdout: string): DockerEngineInfo | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  const parsed = infoSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const info = parsed.data;
  return {
    serverVersion: info.ServerVersion,
    operatingSystem: info.OperatingSystem,
    kernelVersion: info.KernelVersion,
    storageDriver: info.Driver,
    cgroupVersion: info.CgroupVersion,
    architecture: info.Architecture,
  };
}

/** Asks the engine for `docker info` within `timeoutMs`; never throws. */
export async function probeDocker(timeoutMs = 5000): Promise<DockerProbe> {
  let result;
  try {
    result = await exec('docker', ['info', '--format', '{{json .}}'], { timeoutMs });
  } catch (error) {
    if (error instanceof ToolMissingError)
      return { ok: false, reason: 'the docker CLI is not on PATH', isCliMissing: true };
    throw error;
  }
  const info = result.exitCode === 0 ? parseDockerInfo(result.stdout) : undefined;
  if (info) return { ok: true, info };
  const seen = result.timedOut
    ? `no answer within ${timeoutMs}ms`
    : tail(result.stderr || result.stdout, 3) || `exit ${result.exitCode}`;
  return { ok: false, reason: seen, isCliMissing: false };
}

function engineMissing(reason: string, isCliMissing: boolean): ToolMissingError {
  return new ToolMissingError(`No Docker engine answers \`docker info\` (${reason})`, {
    hint: isCliMissing
      ? 'install the Docker CLI and engine (Debian: `apt-get install -y docker.io`), or run `readiness provision` as root on Debian to do it'
      : 'start a Docker engine (`dockerd &`, or `systemctl start docker`), set DOCKER_HOST to a reachable one, or run `readiness provision` as root on Debian to install and start one',
  });
}

interface EnsureDockerEngineOptions {
  readonly reporter?: Reporter;
  /** Allow installing docker.io with apt and starting dockerd (root on Debian only). */
  readonly install: boolean;
  readonly cacheDir?: string;
  /** How long to wait for a started dockerd to answer. */
  readonly startTimeoutMs?: number;
  readonly clock?: Clock;
}

async function pidFileOwnerAlive(path: string): Promise<boolean> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts dockerd in its own process group, logging to `logPath`; it outlives this process. */
async function startDockerd(dockerd: string, logPath: string): Promise<{ exited: () => string | undefined }> {
  const log = await open(logPath, 'a');
  let exit: string | undefined;
  try {
    const child = spawn(dockerd, [], { detached: true, stdio: ['ignore', log.fd, log.fd] });
    child.on('exit', (code, signal) => {
      exit = `dockerd exited ${code ?? signal}`;
    });
    child.on('error', (error) => {
      exit = `dockerd failed to start: ${error.message}`;
    });
    child.unref();
  } finally {
    await log.close();
  }
  return { exited: () => exit };
}

/**
 * Makes sure a Docker engine answers. When none does and `install` is allowed on a
 * Debian host as root, installs docker.io (if dockerd is missing) and starts dockerd
 * detached; otherwise throws `ToolMissingError` with the fix.
 */
export async function ensureDockerEngine(options: EnsureDockerEngineOptions): Promise<DockerEngineInfo> {
  const first = await probeDocker();
  if (first.ok) return first.info;
  const host = await hostFacts();
  if (!options.install || !host.isRoot || !host.isDebian) {
    const why = !options.install
      ? 'installing was not allowed'
      : !host.isRoot
        ? 'not root, so cannot install or start one'
        : 'not a Debian host, so cannot install one';
    throw engineMissing(`${first.reason}; ${why}`, first.isCliMissing);
  }
  const cacheDir = options.cacheDir ?? resolveCacheDir();
  const paths = cachePaths(cacheDir);
  await mkdir(paths.root, { recursive: true });
  return withFileLock(
    lockPath(cacheDir, 'docker-engine'),
    async () => {
      const again = await probeDocker();
      if (again.ok) return again.info;
      let dockerd = await findExecutable('dockerd');
      if (dockerd === undefined || (await findExecutable('docker')) === undefined) {
        await aptInstall(['docker.io', 'iptables', 'ca-certificates'], options.reporter);
        dockerd = await findExecutable('dockerd');
      }
      if (dockerd === undefined) {
        throw new ToolMissingError('dockerd is still missing after `apt-get install docker.io`', {
          hint: 'check the apt sources (docker.io is in Debian main) and install it by hand',
        });
      }
      let exited = (): string | undefined => undefined;
      if (await pidFileOwnerAlive('/var/run/docker.pid')) {
        options.reporter?.onInfo?.('dockerd is running but not answering yet; waiting for it');
      } else {
        options.reporter?.onInfo?.(`Starting ${dockerd} (log: ${paths.dockerdLog})`);
        ({ exited } = await startDockerd(dockerd, paths.dockerdLog));
      }
      const timeoutMs = options.startTimeoutMs ?? 60_000;
      const outcome = await pollUntil(
        async () => {
          const exit = exited();
          if (exit !== undefined) return { ok: false, reason: exit, isCliMissing: false, fatal: true } as const;
          return { ...(await probeDocker(2000)), fatal: false } as const;
        },
        (probe) => probe.ok || probe.fatal,
        { timeoutMs, intervalMs: 250, ...(options.clock ? { clock: options.clock } : {}) },
      );
      if (outcome.ok && outcome.value.ok) {
        options.reporter?.onInfo?.(
          `Docker engine ${outcome.value.info.serverVersion} answers after ${Math.round(outcome.elapsedMs)}ms`,
        );
        return outcome.value.info;
      }
      const last = outcome.ok ? outcome.value : outcome.last;
      const reason = last && !last.ok ? last.reason : 'no answer';
      const logTail = await readFile(paths.dockerdLog, 'utf8').then(
        (text) => tail(text, 15),
        () => '(no log)',
      );
      throw new ToolFailedError(
        `dockerd did not answer \`docker info\` within ${timeoutMs}ms (${reason}). Log ${paths.dockerdLog}:\n${logTail}`,
        {
          hint: 'read the dockerd log; in a container dockerd needs privileges (--privileged) and a cgroup/overlay-capable kernel',
        },
      );
    },
    { what: 'the Docker engine start', ...(options.reporter ? { reporter: options.reporter } : {}) },
  );
}
