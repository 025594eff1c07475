import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { describe, expect, it, vi } from 'vitest';
import { provisionImages } from '../../src/cli/provisioning.ts';
import { resolveConfig } from '../../src/config/index.ts';
import type { ReadinessConfigInput } from '../../src/config/index.ts';
import { ServiceStartError } from '../../src/core/errors.ts';
import { createRedactor } from '../../src/core/redact.ts';
import { LABELS, StackProvider, stackImageRefs } from '../../src/stack/index.ts';
import { containerIdOf } from '../../src/stack/stack-handle.ts';
import { onlyRun, runCli } from '../support/harness.ts';

/** Sends a Redis inline PING through a host port and returns the reply (or the socket error). */
function redisPing(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(`timeout:${data}`);
    });
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\r\n')) {
        socket.destroy();
        resolve(data.trim());
      }
    });
    socket.on('error', (error) => resolve(`error:${error.message}`));
    socket.on('close', () => resolve(data ? data.trim() : 'closed'));
  });
}

/** Starts a one-off stack that must fail to start; returns its run id and the error it failed with. */
async function startExpectingFailure(
  name: string,
  services: ReadinessConfigInput['services'],
): Promise<{ runId: string; error: unknown }> {
  const root = await mkdtemp(join(tmpdir(), 'readiness-stack-'));
  const config = resolveConfig({ name, services }, join(root, 'readiness.config.ts'));
  const images = await provisionImages(config, stackImageRefs(config), {});
  const runId = `test-${name}-${Date.now().toString()}`;
  const provider = new StackProvider(config, {
    runId,
    seed: 1,
    logsDir: join(root, 'logs'),
    images,
    redact: createRedactor(),
  });
  const error: unknown = await provider.start().then(
    () => undefined,
    (e: unknown) => e,
  );
  return { runId, error };
}

/** Containers and networks still labelled with a run id. */
async function labelled(runId: string): Promise<{ containers: unknown[]; networks: unknown[] }> {
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const filters = JSON.stringify({ label: [`${LABELS.runId}=${runId}`] });
  return {
    containers: await docker.listContainers({ all: true, filters }),
    networks: await docker.listNetworks({ filters }),
  };
}

describe('StackProvider (real Docker)', () => {
  it('starts services on one network with Toxiproxy taking the dependency alias, and removes everything', async () => {
    const root = await mkdtemp(join(tmpdir(), 'readiness-stack-'));
    const config = resolveConfig(
      {
        name: 'stack-test',
        services: {
          redis: {
            image: 'redis:7',
            ports: [6379],
            health: { kind: 'command', command: ['redis-cli', 'ping'], timeoutMs: 30_000 },
          },
          // A client on the network: it pings "redis" by alias, which is the Toxiproxy.
          client: {
            image: 'redis:7',
            ports: [6379],
            dependsOn: ['redis'],
            health: { kind: 'command', command: ['redis-cli', '-h', 'redis', 'ping'], timeoutMs: 30_000 },
          },
        },
        links: [{ service: 'redis', port: 6379 }],
      },
      join(root, 'readiness.config.ts'),
    );
    const images = await provisionImages(config, stackImageRefs(config), {});
    const runId = `test-${Date.now()}`;
    const provider = new StackProvider(config, {
      runId,
      seed: 1,
      logsDir: join(root, 'logs'),
      images,
      redact: createRedactor(),
    });
    const docker = (await getContainerRuntimeClient()).container.dockerode;
    const filters = JSON.stringify({ label: [`${LABELS.runId}=${runId}`] });
    {
      await using stack = await provider.start();
      const { handle } = stack;
      expect(Object.keys(handle.services).sort()).toEqual(['client', 'redis']);
      const proxy = handle.toxiproxy?.proxies['redis'];
      expect(proxy).toMatchObject({ service: 'redis', upstream: 'redis-upstream:6379' });
      // Through the proxy, Redis answers; with the link disabled it does not; the client sees the same.
      expect(await redisPing(proxy!.hostPort)).toBe('+PONG');
      const clientExec = (): Promise<{ exitCode: number; output: string }> =>
        stack.containers.get('client')!.exec(['redis-cli', '-h', 'redis', 'ping']);
      expect((await clientExec()).output.trim()).toBe('PONG');
      await stack.toxiproxy!.setEnabled('redis', false);
      expect(await redisPing(proxy!.hostPort)).not.toBe('+PONG');
      expect((await clientExec()).output).not.toContain('PONG');
      await stack.toxiproxy!.setEnabled('redis', true);
      expect((await clientExec()).output.trim()).toBe('PONG');
      const labelled = await docker.listContainers({ all: true, filters });
      expect(labelled).toHaveLength(3);
      expect(labelled.every((c) => c.Labels[LABELS.ownerPid] === String(process.pid))).toBe(true);
    }
    expect(await docker.listContainers({ all: true, filters })).toEqual([]);
    expect(await docker.listNetworks({ filters })).toEqual([]);
  });

  it('keeps a service log across restarts and replacements, live and at teardown, redacted', async () => {
    const root = await mkdtemp(join(tmpdir(), 'readiness-stack-'));
    // Each start prints a line of its own (a fresh UUID) and a bearer JWT that must not reach the file.
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsb2ctdGVzdCJ9.c2lnbmF0dXJlLW9mLWxvZy10ZXN0';
    const config = resolveConfig(
      {
        name: 'stack-logs',
        services: {
          redis: {
            image: 'redis:7',
            ports: [6379],
            command: [
              'sh',
              '-c',
              `echo "lifetime $(cat /proc/sys/kernel/random/uuid) Authorization: Bearer ${jwt}"; exec redis-server`,
            ],
            health: { kind: 'command', command: ['redis-cli', 'ping'], timeoutMs: 30_000 },
          },
        },
      },
      join(root, 'readiness.config.ts'),
    );
    const images = await provisionImages(config, stackImageRefs(config), {});
    const logsDir = join(root, 'logs');
    const runId = `test-logs-${Date.now()}`;
    const lifetimesIn = (text: string): number => new Set(text.match(/lifetime [0-9a-f-]{36}/g)).size;
    const provider = new StackProvider(config, {
      runId,
      seed: 1,
      logsDir,
      images,
      redact: createRedactor(),
    });
    const docker = (await getContainerRuntimeClient()).container.dockerode;
    {
      await using stack = await provider.start();
      const container = docker.getContainer(containerIdOf(stack.handle, 'redis'));
      const ready = async (): Promise<void> => {
        for (;;) {
          const exec = await stack.containers.get('redis')!.exec(['redis-cli', 'ping']);
          if (exec.output.includes('PONG')) return;
        }
      };
      await ready();
      // A restart (docker restart), then a crash and a start of the same container (chaos kill).
      await container.restart({ t: 1 });
      await ready();
      await container.kill({ signal: 'SIGKILL' });
      await container.start();
      await ready();
      // Followed live: the file holds every lifetime while the stack still runs.
      await vi.waitFor(async () => expect(lifetimesIn(await readFile(join(logsDir, 'redis.log'), 'utf8'))).toBe(3), {
        timeout: 20_000,
        interval: 100,
      });
      // A container that replaces the service for a while and is removed before teardown.
      const replacement = await docker.createContainer({
        Image: images['redis:7'] ?? 'redis:7',
        name: `readiness-${runId}-redis-replacement`,
        Cmd: ['sh', '-c', 'echo "replacement up"; sleep 30'],
        Labels: { [LABELS.runId]: runId, [LABELS.service]: 'redis' },
      });
      await replacement.start();
      await vi.waitFor(
        async () => expect(await readFile(join(logsDir, 'redis.log'), 'utf8')).toContain('replacement up'),
        {
          timeout: 20_000,
          interval: 100,
        },
      );
      await replacement.remove({ force: true });
      // Another container of the run that is no service of the stack (a scanner): not the stack's log.
      const scanner = await docker.createContainer({
        Image: images['redis:7'] ?? 'redis:7',
        name: `readiness-${runId}-scanner`,
        Cmd: ['sh', '-c', 'echo "scanner output"; sleep 30'],
        Labels: { [LABELS.runId]: runId, [LABELS.service]: 'scanner' },
      });
      await scanner.start();
    }
    expect(await readdir(logsDir)).toEqual(['redis.log']);
    const log = await readFile(join(logsDir, 'redis.log'), 'utf8');
    expect(lifetimesIn(log)).toBe(3);
    expect(log.match(/Ready to accept connections/g)).toHaveLength(3);
    // Written whole at teardown: the stack's container, then the removed replacement under its own header.
    expect(log).toMatch(/^# container readiness-test-logs-\d+-redis \(/m);
    expect(log).toMatch(
      /^# container readiness-test-logs-\d+-redis-replacement \([0-9a-f]{12}\)[^\n]*\n\S+Z replacement up$/m,
    );
    // Shutdowns: the restart and the teardown (stopped before its log is taken); the SIGKILL leaves none.
    expect(log.match(/Redis is now ready to exit/g)).toHaveLength(2);
    expect(log).not.toContain(jwt);
    expect(log).toContain('Authorization: Bearer [REDACTED]');
  });

  it('fails with the health detail and log tail when a service never becomes healthy, leaving nothing behind', async () => {
    const { runId, error } = await startExpectingFailure('stack-fail', {
      redis: {
        image: 'redis:7',
        ports: [6379],
        health: { kind: 'http', port: 6379, path: '/health', timeoutMs: 2_000 },
      },
    });
    expect((error as Error).message).toMatch(
      /Service "redis" not healthy after 2000ms \(GET \/health -> .*\)\. Logs: .*redis\.log\n.*Ready to accept connections/s,
    );
    expect(await labelled(runId)).toEqual({ containers: [], networks: [] });
  });

  // A service that refuses its own config: the system's failure (a failed check, exit 1), never the harness's.
  const refusing = (delay: string): ReadinessConfigInput['services'][string] => ({
    image: 'redis:7',
    command: ['sh', '-c', `sleep ${delay}; echo "FATAL: invalid value for PORT: 'abc'" >&2; exit 3`],
    ports: [6379],
    health: { kind: 'command', command: ['redis-cli', 'ping'], timeoutMs: 60_000 },
  });

  it.each([
    ['as it starts', '0'],
    ['while its health is awaited', '2'],
  ])('a service that exits %s is a ServiceStartError with its exit code and last line', async (_, delay) => {
    const { runId, error } = await startExpectingFailure('stack-refuses', { app: refusing(delay) });
    expect(error, String(error)).toBeInstanceOf(ServiceStartError);
    expect((error as ServiceStartError).service).toBe('app');
    expect((error as Error).message).toMatch(
      /Service "app" exited with code 3 .*\n.*FATAL: invalid value for PORT: 'abc'/s,
    );
    expect((await labelled(runId)).containers).toEqual([]);
  });

  it('certify: a service refusing its config fails the run (exit 1) with a failed check carrying its log line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-refuses-'));
    const reports = join(dir, 'reports');
    await writeFile(
      join(dir, 'readiness.config.ts'),
      `export default ${JSON.stringify({ name: 'refuses', stages: ['boot'], services: { app: refusing('2') }, reportsDir: reports })};\n`,
    );
    const run = await runCli(dir, ['certify']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const cert = JSON.parse(await readFile(join(await onlyRun(reports), 'certification.json'), 'utf8')) as {
      verdict: string;
      criticalFailures: { check: string; message: string }[];
    };
    expect(cert.verdict).toBe('NOT_CERTIFIED');
    expect(cert.criticalFailures[0]).toMatchObject({ check: 'boot.stack' });
    expect(cert.criticalFailures[0]?.message).toContain("FATAL: invalid value for PORT: 'abc'");
  });
});
