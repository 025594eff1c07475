import type { ResolvedConfig } from '../../config/load-config.ts';
import { EXIT } from '../../core/errors.ts';
import type { ExitCode } from '../../core/errors.ts';
import { exec } from '../../core/exec.ts';
import { probeDocker } from '../../provision/docker-engine.ts';
import { dockerCli, inspectImage } from '../../provision/docker-cli.ts';
import { findDropIn, registryOf } from '../../provision/drop-ins.ts';
import { findExecutable } from '../../provision/host.ts';
import { probeRegistry } from '../../provision/registry-probe.ts';
import { stackImageRefs } from '../../stack/stack-provider.ts';

type Level = 'ok' | 'warn' | 'missing';
interface Finding {
  readonly what: string;
  readonly level: Level;
  readonly detail: string;
  readonly fix?: string;
}

async function version(file: string, args: readonly string[]): Promise<string | undefined> {
  const path = await findExecutable(file);
  if (!path) return undefined;
  const result = await exec(path, args, { timeoutMs: 10_000 }).catch(() => undefined);
  return result?.exitCode === 0 ? (result.stdout || result.stderr).trim().split('\n')[0] : undefined;
}

/**
 * One finding per registry that images not present locally would be pulled from: whether it
 * answers at all (a connection, no request). When none answers, drop-ins are the only way.
 */
async function registryFindings(refs: readonly string[]): Promise<Finding[]> {
  const registries = [...new Set(refs.map(registryOf))].sort();
  const reaches = await Promise.all(registries.map((registry) => probeRegistry(registry)));
  const findings: Finding[] = reaches.map((reach) =>
    reach.reachable
      ? { what: `registry ${reach.registry}`, level: 'ok', detail: 'answers' }
      : {
          what: `registry ${reach.registry}`,
          level: 'warn',
          detail: `does not answer: ${reach.reason}`,
          fix: 'images from it come from local drop-ins (readiness images build) or must be loaded with docker load',
        },
  );
  if (reaches.length > 0 && reaches.every((reach) => !reach.reachable)) {
    findings.push({
      what: 'registries',
      level: 'warn',
      detail: `no registry answers (${registries.join(', ')}): every image must be local or a drop-in`,
      fix: 'readiness images build; set images.pull: never to skip pull attempts',
    });
  }
  return findings;
}

/** Everything a run needs, each with its state and the fix; changes nothing. */
async function diagnose(config: ResolvedConfig): Promise<Finding[]> {
  const findings: Finding[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  findings.push({
    what: 'node',
    level: major >= 22 ? 'ok' : 'missing',
    detail: process.version,
    fix: 'run through npm scripts (the node@24 devDependency) or install Node >= 22',
  });
  const docker = await probeDocker();
  findings.push(
    docker.ok
      ? {
          what: 'docker engine',
          level: 'ok',
          detail: `${docker.info.serverVersion} (${docker.info.storageDriver}, cgroup v${docker.info.cgroupVersion})`,
        }
      : {
          what: 'docker engine',
          level: 'missing',
          detail: docker.reason,
          fix: docker.isCliMissing
            ? 'install Docker (Debian: apt-get install docker.io)'
            : 'start the daemon (readiness provision does it as root on Debian)',
        },
  );
  if (docker.ok) {
    const toPull: string[] = [];
    for (const ref of stackImageRefs(config)) {
      const local = await inspectImage(dockerCli, ref);
      if (local) {
        findings.push({ what: `image ${ref}`, level: 'ok', detail: `local ${local.id.slice(7, 19)}` });
        continue;
      }
      toPull.push(ref);
      const dropIn = findDropIn(ref);
      if (dropIn?.kind === 'recipe') {
        const built = await inspectImage(dockerCli, dropIn.local);
        findings.push({
          what: `image ${ref}`,
          level: built ? 'ok' : 'warn',
          detail: built ? `local drop-in ${dropIn.local}` : `not local; a drop-in ${dropIn.local} can be built`,
          fix: 'readiness images build',
        });
      } else {
        findings.push({
          what: `image ${ref}`,
          level: config.images.pull === 'never' ? 'missing' : 'warn',
          detail: dropIn?.kind === 'none' ? `not local, no drop-in: ${dropIn.reason}` : 'not local; will be pulled',
          fix: `docker pull ${ref} (or docker load it)`,
        });
      }
    }
    if (config.images.pull !== 'never') findings.push(...(await registryFindings(toPull)));
  }
  const tools: readonly [string, string, readonly string[], string][] = [
    ['go', 'go', ['version'], 'apt-get install golang (builds Toxiproxy and k6 drop-ins)'],
    ['debootstrap', 'debootstrap', ['--version'], 'apt-get install debootstrap (base of the drop-in images)'],
    ['python3', 'python3', ['--version'], 'apt-get install python3-venv (schemathesis)'],
    ['chromium', 'chromium', ['--version'], 'apt-get install chromium (certificate PDF)'],
  ];
  for (const [what, file, args, fix] of tools) {
    const found = await version(file, args);
    findings.push({ what, level: found ? 'ok' : 'warn', detail: found ?? 'not found', fix });
  }
  return findings;
}

/** `readiness doctor`: Docker, images, tools and versions, each with the fix. Exit 3 when something required is missing. */
export async function doctor(options: {
  config: ResolvedConfig;
  out: (t: string) => void;
  json: boolean;
}): Promise<ExitCode> {
  const findings = await diagnose(options.config);
  if (options.json) options.out(JSON.stringify(findings, null, 2));
  else {
    for (const f of findings) {
      const mark = f.level === 'ok' ? 'ok  ' : f.level === 'warn' ? 'warn' : 'MISS';
      options.out(
        `${mark}  ${f.what.padEnd(40)} ${f.detail}${f.level === 'ok' || !f.fix ? '' : `\n      fix: ${f.fix}`}`,
      );
    }
  }
  return findings.some((f) => f.level === 'missing') ? EXIT.harness : EXIT.certified;
}
