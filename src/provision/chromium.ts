import { ToolFailedError, ToolMissingError } from '../core/errors.ts';
import { exec } from '../core/exec.ts';
import type { Reporter } from '../core/reporter.ts';
import { aptInstall, findExecutable, hostFacts } from './host.ts';
import type { HostFacts } from './host.ts';

/** Where Debian's `chromium` package puts its launcher. */
const DEBIAN_CHROMIUM_PATH = '/usr/bin/chromium';

/** Debian packages that make a usable headless Chromium: the browser and a font for any text. */
const CHROMIUM_PACKAGES = ['chromium', 'fonts-dejavu-core'] as const;

/**
 * Flags for a headless Chromium that talks to nothing but the page it is given: no sandbox (root in
 * containers), no GPU, no QUIC, no first-run, sync, component update or background traffic.
 */
export const CHROMIUM_HEADLESS_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** The headless flags plus a profile directory, which must be fresh for every launch. */
export function chromiumArgs(userDataDir: string): string[] {
  return [...CHROMIUM_HEADLESS_ARGS, `--user-data-dir=${userDataDir}`];
}

/** The installed Chromium's path, or undefined: `chromium` on PATH, then Debian's location. */
export async function findChromium(pathEnv?: string): Promise<string | undefined> {
  return (await findExecutable('chromium', pathEnv)) ?? (await findExecutable('chromium-browser', pathEnv));
}

interface EnsureChromiumOptions {
  /** Allow `apt-get install chromium` (root on Debian only). */
  readonly install: boolean;
  readonly reporter?: Reporter;
  /** For tests: what the host allows; defaults to the real host. */
  readonly host?: HostFacts;
  /** For tests: the PATH to search; defaults to the process's. */
  readonly pathEnv?: string;
}

function chromiumMissing(host: HostFacts, install: boolean): ToolMissingError {
  const why = !install
    ? 'installing was not allowed'
    : !host.isDebian
      ? 'this is not a Debian host'
      : 'installing needs root';
  return new ToolMissingError(`Chromium is not installed (${why}); the certificate PDF and page checks need it`, {
    hint: `as root on Debian: apt-get install -y ${CHROMIUM_PACKAGES.join(' ')} (or run \`readiness provision --for test\` as root)`,
  });
}

/**
 * Returns the path of a headless-capable Chromium; installs Debian's `chromium` with apt-get when it
 * is missing and `install` is allowed on a Debian host as root. Never downloads a browser build.
 */
export async function ensureChromium(options: EnsureChromiumOptions): Promise<string> {
  const found = await findChromium(options.pathEnv);
  if (found !== undefined) return found;
  const host = options.host ?? (await hostFacts());
  if (!options.install || !host.isRoot || !host.isDebian) throw chromiumMissing(host, options.install);
  options.reporter?.onInfo?.('Chromium is missing: installing Debian packages');
  await aptInstall(CHROMIUM_PACKAGES, options.reporter);
  const installed = await findChromium(options.pathEnv);
  if (installed === undefined) {
    throw new ToolFailedError(`chromium is still missing after apt-get install ${CHROMIUM_PACKAGES.join(' ')}`, {
      hint: `check that ${DEBIAN_CHROMIUM_PATH} exists and is executable`,
    });
  }
  return installed;
}

/** `Chromium 156.0.8078.79 built on Debian ...` -> `156.0.8078.79`; undefined when it does not answer. */
export async function chromiumVersion(chromium: string): Promise<string | undefined> {
  const result = await exec(chromium, ['--version'], { timeoutMs: 15_000 }).catch(() => undefined);
  if (result?.exitCode !== 0) return undefined;
  return /(\d+\.\d+\.\d+\.\d+)/.exec(result.stdout)?.[1];
}
