import { connect } from 'node:net';
import type { HealthConfig } from '../config/schema.ts';
import { pollUntil } from '../core/clock.ts';
import type { Clock } from '../core/clock.ts';

interface HealthObservation {
  readonly healthy: boolean;
  /** What was seen, for messages: `GET /health/ready -> 503`, `connect ECONNREFUSED`. */
  readonly detail: string;
}

export interface HealthTarget {
  readonly host: string;
  /** Host port of a container port. */
  readonly hostPort: (containerPort: number) => number;
  readonly exec: (command: readonly string[]) => Promise<{ exitCode: number; output: string }>;
}

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/** One HTTP GET with a per-attempt timeout; any status is an observation, not an error. */
export async function httpProbe(
  url: string,
  timeoutMs = 2_000,
): Promise<{ status: number; latencyMs: number; body: string }> {
  const started = performance.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await response.text();
  return { status: response.status, latencyMs: performance.now() - started, body };
}

export async function observeHealth(health: HealthConfig, target: HealthTarget): Promise<HealthObservation> {
  try {
    switch (health.kind) {
      case 'http': {
        const { status } = await httpProbe(`http://${target.host}:${target.hostPort(health.port)}${health.path}`);
        return { healthy: status >= 200 && status < 300, detail: `GET ${health.path} -> ${status}` };
      }
      case 'tcp': {
        await new Promise<void>((resolve, reject) => {
          const socket = connect({ host: target.host, port: target.hostPort(health.port), timeout: 2_000 });
          socket.once('connect', () => {
            socket.destroy();
            resolve();
          });
          socket.once('timeout', () => {
            socket.destroy();
            reject(new Error('connect timed out'));
          });
          socket.once('error', reject);
        });
        return { healthy: true, detail: `tcp ${health.port} open` };
      }
      case 'command': {
        const { exitCode, output } = await target.exec(health.command);
        return {
          healthy: exitCode === 0,
          detail: `${health.command.join(' ')} -> exit ${exitCode} ${output.trim().slice(0, 120)}`.trim(),
        };
      }
    }
  } catch (error) {
    const label =
      health.kind === 'http'
        ? `GET ${health.path}`
        : health.kind === 'tcp'
          ? `tcp ${health.port}`
          : health.command.join(' ');
    return { healthy: false, detail: `${label} -> ${firstLine(error)}` };
  }
}

/** Polls a health check until healthy or its budget (`timeoutMs`) runs out. */
export async function waitForHealth(
  health: HealthConfig,
  target: HealthTarget,
  options: { clock: Clock; signal?: AbortSignal; intervalMs?: number },
): Promise<{ healthy: boolean; elapsedMs: number; detail: string }> {
  const outcome = await pollUntil(
    () => observeHealth(health, target),
    (o) => o.healthy,
    {
      timeoutMs: health.timeoutMs,
      intervalMs: options.intervalMs ?? 100,
      clock: options.clock,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  return outcome.ok
    ? { healthy: true, elapsedMs: outcome.elapsedMs, detail: outcome.value.detail }
    : { healthy: false, elapsedMs: outcome.elapsedMs, detail: outcome.last?.detail ?? firstLine(outcome.lastError) };
}
