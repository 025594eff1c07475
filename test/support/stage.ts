import { SecurityContext } from '../../src/security/context.ts';
import { SecurityHttp } from '../../src/security/http.ts';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/index.ts';
import type { ReadinessConfigInput, ResolvedConfig } from '../../src/config/index.ts';
import { checkResultSchema } from '../../src/core/check-result.ts';
import type { CheckResult } from '../../src/core/check-result.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createRedactor } from '../../src/core/redact.ts';
import type { Stage } from '../../src/core/stage.ts';
import { Teardowns } from '../../src/core/teardown.ts';
import { assertAllowedTarget } from '../../src/runner/blast-radius.ts';
import { runStage } from '../../src/runner/index.ts';
import type { SuiteContext } from '../../src/runner/suite.ts';
import type { HostLoadSampler } from '../../src/runner/host-load.ts';
import type { StageRunOptions } from '../../src/runner/run-stage.ts';
import type { StackHandle } from '../../src/stack/index.ts';

/** A stack handle for unit tests of the stage runner: no service, no Toxiproxy. */
export const UNIT_HANDLE: StackHandle = {
  schemaVersion: 1,
  runId: 'unit',
  stack: 'unit',
  seed: 1,
  createdAt: new Date(0).toISOString(),
  ownerPid: process.pid,
  network: 'none',
  logsDir: '/tmp',
  services: {},
  toxiproxy: null,
};

/** Suite source that records one check with `ctx.record` (for suites written as strings). */
export const recordLine = (id: string, status: string, severity = 'normal'): string =>
  `await ctx.record({ id: '${id}', name: '${id}', feature: 'f', severity: '${severity}', status: '${status}', startedAt: 0, finishedAt: 0 });`;

export interface BootStageOptions {
  /** Config keys on top of `{ name: 'unit', services: { api: { image: 'a:1' } } }`. */
  readonly config?: Partial<ReadinessConfigInput>;
  /** Suites in the built-in folder (none by default, so only the given ones run). */
  readonly builtIn?: Readonly<Record<string, string>>;
  /** More options for `runStage` (fail-fast), made from the resolved config. */
  readonly run?: (config: ResolvedConfig) => Partial<StageRunOptions>;
}

/**
 * Runs the boot stage of a temp project whose `suites/boot/` holds `suites` (file name -> source),
 * through the real `runStage`; returns what was recorded, the results folder and the project root.
 */
export async function runBootStage(
  suites: Readonly<Record<string, string>>,
  options: BootStageOptions = {},
): Promise<{ results: CheckResult[]; resultsDir: string; root: string; config: ResolvedConfig }> {
  const root = await mkdtemp(join(tmpdir(), 'run-stage-'));
  await mkdir(join(root, 'suites', 'boot'), { recursive: true });
  await mkdir(join(root, 'built-in', 'boot'), { recursive: true });
  for (const [name, body] of Object.entries(suites)) await writeFile(join(root, 'suites', 'boot', name), body);
  for (const [name, body] of Object.entries(options.builtIn ?? {})) {
    await writeFile(join(root, 'built-in', 'boot', name), body);
  }
  const config = resolveConfig(
    { name: 'unit', services: { api: { image: 'a:1' } }, ...options.config },
    join(root, 'readiness.config.ts'),
  );
  const resultsDir = join(root, 'results');
  const results = await runStage({
    config,
    handle: UNIT_HANDLE,
    stage: 'boot',
    runDir: root,
    resultsDir,
    seed: 1,
    clock: systemClock,
    reporter: {},
    redact: createRedactor(),
    signal: new AbortController().signal,
    builtInSuitesDir: join(root, 'built-in'),
    ...options.run?.(config),
  });
  return { results, resultsDir, root, config };
}

/** A stack handle whose services are servers on loopback: service name -> host port of its container port 8080. */
export function loopbackHandle(logsDir: string, services: Readonly<Record<string, number>>): StackHandle {
  return {
    ...UNIT_HANDLE,
    runId: 'r1',
    logsDir,
    services: Object.fromEntries(
      Object.entries(services).map(([name, port]) => [
        name,
        {
          containerId: `c-${name}`,
          containerName: `readiness-r1-${name}`,
          image: 'a:1',
          endpoint: { host: '127.0.0.1', ports: { '8080': port }, alias: name },
          startupMs: 1,
        },
      ]),
    ),
  };
}

/**
 * A suite context over `config` whose stack is never touched (`UNIT_HANDLE`, or `options.handle`, e.g. a
 * `loopbackHandle`): checks are validated and pushed to `recorded` instead of written, for unit tests of a stage's runner.
 */
export function recordingContext(
  config: ResolvedConfig,
  stage: Stage,
  runDir: string,
  recorded: CheckResult[],
  options: { readonly handle?: StackHandle; readonly seed?: number; readonly hostLoad?: HostLoadSampler } = {},
): SuiteContext {
  const handle = options.handle ?? UNIT_HANDLE;
  return {
    config,
    handle,
    stage,
    runDir,
    seed: options.seed ?? 1,
    clock: systemClock,
    signal: new AbortController().signal,
    reporter: {},
    teardowns: new Teardowns(),
    redact: createRedactor(),
    assertTarget: (target) => assertAllowedTarget(target, handle, config.allowTargets),
    ...(options.hostLoad ? { hostLoad: options.hostLoad } : {}),
    record: (check) => {
      const result = checkResultSchema.parse({ ...check, stage });
      recorded.push(result);
      return Promise.resolve(result);
    },
  };
}

/**
 * A security stage context over `config` whose HTTP client talks to `baseUrl` (a test server):
 * checks are validated and pushed to the returned `recorded`.
 */
export function securityContext(
  config: ResolvedConfig,
  runDir: string,
  baseUrl: string,
  hostLoad?: HostLoadSampler,
): { ctx: SecurityContext; recorded: CheckResult[] } {
  const recorded: CheckResult[] = [];
  const suite = recordingContext(config, 'security', runDir, recorded, hostLoad ? { hostLoad } : {});
  if (!config.security) throw new Error('the config has no security section');
  const http = new SecurityHttp({
    baseUrl,
    correlationHeader: 'x-request-id',
    timeoutMs: 5_000,
    clock: systemClock,
    signal: suite.signal,
  });
  return { ctx: new SecurityContext(suite, config.security, http), recorded };
}
