import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../config/load-config.ts';
import { systemClock } from '../../core/clock.ts';
import { EXIT, describeError } from '../../core/errors.ts';
import type { ExitCode } from '../../core/errors.ts';
import type { Reporter } from '../../core/reporter.ts';
import { newSeed } from '../../core/seed.ts';
import { reapOrphans, removeRun } from '../../stack/reap.ts';
import { writeServiceLogs } from '../../stack/service-logs.ts';
import { readStackHandle, writeStackHandle } from '../../stack/stack-handle.ts';
import { preflight } from '../preflight.ts';
import { createRunFolder, newRunId } from '../run-folder.ts';
import { configRedactor } from './certify.ts';

/** The handle file `readiness up` writes and `drill`/`down` read by default. */
export function defaultHandleFile(config: ResolvedConfig): string {
  return join(config.reportsDir, 'stack-handle.json');
}

/** `readiness up`: start the stack and leave it running for drills; prints the endpoints. */
export async function up(options: {
  config: ResolvedConfig;
  seed?: number;
  reporter: Reporter;
  signal: AbortSignal;
  out: (t: string) => void;
  json: boolean;
}): Promise<ExitCode> {
  const { config, reporter } = options;
  // The stack is for drills and stage runs against it: every enabled stage's files must be there first.
  await preflight(config, config.stages);
  // What starts things loads once the config's files are known to be there, so bad input exits 2 fast.
  const [{ getContainerRuntimeClient }, { StackProvider, stackImageRefs }, { provisionImages }] = await Promise.all([
    import('testcontainers'),
    import('../../stack/stack-provider.ts'),
    import('../provisioning.ts'),
  ]);
  const images = await provisionImages(config, stackImageRefs(config), reporter);
  await reapOrphans((await getContainerRuntimeClient()).container.dockerode);
  const folder = await createRunFolder(config.reportsDir, newRunId());
  const seed = options.seed ?? newSeed();
  const provider = new StackProvider(config, {
    runId: folder.runId,
    seed,
    logsDir: folder.logsDir,
    images,
    redact: configRedactor(config),
    reporter,
    clock: systemClock,
    signal: options.signal,
    detached: true,
  });
  const stack = await provider.start();
  const handleFile = defaultHandleFile(config);
  await writeStackHandle(handleFile, stack.handle);
  await writeStackHandle(folder.handleFile, stack.handle);
  if (options.json) options.out(JSON.stringify(stack.handle, null, 2));
  else {
    options.out(`stack ${config.name} is up (run ${folder.runId}); handle: ${handleFile}`);
    for (const [id, s] of Object.entries(stack.handle.services)) {
      options.out(
        `  ${id.padEnd(12)} ${Object.entries(s.endpoint.ports)
          .map(([p, h]) => `${p} -> http://${s.endpoint.host}:${h}`)
          .join(', ')}`,
      );
    }
    if (stack.handle.toxiproxy) options.out(`  toxiproxy    ${stack.handle.toxiproxy.apiUrl}`);
    options.out('stop it with: readiness down');
  }
  return EXIT.certified;
}

/** `readiness down`: remove the stack that `up` left running (by run label), and its handle. */
export async function down(options: {
  config: ResolvedConfig;
  handleFile?: string;
  out: (t: string) => void;
}): Promise<ExitCode> {
  const file = options.handleFile ?? defaultHandleFile(options.config);
  const { getContainerRuntimeClient } = await import('testcontainers');
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const handle = await readStackHandle(file);
  const logs = await writeServiceLogs(
    docker,
    handle.runId,
    handle.logsDir,
    configRedactor(options.config),
    [],
    new Set([...Object.keys(handle.services), 'toxiproxy']),
  ).then(
    (services) => `logs of ${services.join(', ') || 'no service'} in ${handle.logsDir}`,
    (error: unknown) => `service logs not written: ${describeError(error)}`,
  );
  const removed = await removeRun(docker, handle.runId);
  await rm(file, { force: true });
  options.out(`removed run ${handle.runId}: ${removed.containers} containers, ${removed.networks} networks; ${logs}`);
  return EXIT.certified;
}
