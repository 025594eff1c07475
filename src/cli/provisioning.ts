import type { ResolvedConfig } from '../config/load-config.ts';
import { EXIT, StackStartError, ToolMissingError } from '../core/errors.ts';
import type { ExitCode } from '../core/errors.ts';
import type { Reporter } from '../core/reporter.ts';
import { ensureChromium } from '../provision/chromium.ts';
import { provision } from '../provision/provision.ts';
import { ensurePythonVenv } from '../provision/python-venv.ts';
import { ensureK6 } from '../load/load-stage.ts';
import { SECURITY_REQUIREMENTS } from '../security/scanner-checks.ts';
import type { ResolvedImage } from '../provision/images.ts';
import { stackImageRefs } from '../stack/stack-provider.ts';

/** Installing an engine needs root on Debian; CI and `certify` may, a library caller decides itself. */
const mayInstall = (): boolean => process.getuid?.() === 0;

/** Provisions the engine and the images a stack needs; returns config ref -> ref to run. */
export async function provisionImages(
  config: ResolvedConfig,
  refs: readonly string[],
  reporter: Reporter,
): Promise<Record<string, string>> {
  const result = await provision({
    imageRefs: refs,
    pull: config.images.pull,
    pullTimeoutMs: config.images.pullTimeoutMs,
    installEngine: mayInstall(),
    reporter,
  });
  const unavailable = Object.values(result.images).filter((i) => i.kind === 'unavailable');
  if (unavailable.length > 0) {
    throw new StackStartError(
      `Images the stack needs cannot be had: ${unavailable.map((i) => `${i.ref} (${i.reason})`).join('; ')}`,
      {
        hint: 'make the image available locally (docker load / docker build -t <ref>) or point the config at one that exists',
      },
    );
  }
  return Object.fromEntries(Object.entries(result.images).map(([ref, image]) => [ref, image.ref]));
}

function describe(image: ResolvedImage): string {
  switch (image.kind) {
    case 'official':
      return `${image.ref} (${image.source})`;
    case 'drop-in':
      return `${image.ref} (local drop-in for ${image.replaces}${image.built ? ', built now' : ''})`;
    case 'unavailable':
      return `unavailable: ${image.reason}`;
  }
}

/** `readiness provision`: the one idempotent entry point used by certify, npm test and .ci/run. */
export async function provisionCommand(options: {
  config: ResolvedConfig;
  reporter: Reporter;
  out: (t: string) => void;
  purpose: string;
}): Promise<ExitCode> {
  if (options.purpose !== 'certify' && options.purpose !== 'test') {
    throw new ToolMissingError(`--for must be "certify" or "test" (received "${options.purpose}")`);
  }
  const refs = stackImageRefs(options.config);
  const result = await provision({
    imageRefs: refs,
    pull: options.config.images.pull,
    pullTimeoutMs: options.config.images.pullTimeoutMs,
    installEngine: mayInstall(),
    reporter: options.reporter,
  });
  options.out(`docker ${result.docker.serverVersion}; ${refs.length} images in ${Math.round(result.durationMs)}ms`);
  for (const [ref, image] of Object.entries(result.images)) options.out(`  ${ref.padEnd(36)} -> ${describe(image)}`);
  // The certificate PDF (certify) and the certificate page tests (test) need Debian's headless Chromium.
  options.out(`chromium ${await ensureChromium({ install: mayInstall(), reporter: options.reporter })}`);
  // schemathesis' venv (~30 s once per machine) before the first security stage needs it.
  if (options.config.stages.includes('security') && options.config.security?.schemathesis.enabled) {
    const venv = await ensurePythonVenv(
      { name: 'security', requirementsFile: SECURITY_REQUIREMENTS },
      { reporter: options.reporter },
    );
    options.out(`security venv ${venv.dir}`);
  }
  // The pinned k6 (~3 min to build once per machine) before the first load stage needs it.
  if (options.config.stages.includes('load') && options.config.load) {
    options.out(`k6 ${await ensureK6(options.config.load, { reporter: options.reporter })}`);
  }
  return Object.values(result.images).some((i) => i.kind === 'unavailable') ? EXIT.harness : EXIT.certified;
}

/** `readiness images build|list`. */
export async function imagesCommand(options: {
  config: ResolvedConfig;
  reporter: Reporter;
  out: (t: string) => void;
  action: string;
  json: boolean;
}): Promise<ExitCode> {
  if (options.action !== 'build' && options.action !== 'list') {
    throw new ToolMissingError(`images: unknown action "${options.action}"; use "build" or "list"`);
  }
  const refs = stackImageRefs(options.config);
  const result = await provision({
    imageRefs: refs,
    pull: options.action === 'build' ? 'never' : options.config.images.pull,
    pullTimeoutMs: options.config.images.pullTimeoutMs,
    installEngine: mayInstall(),
    reporter: options.reporter,
  });
  if (options.json) options.out(JSON.stringify(result.images, null, 2));
  else for (const [ref, image] of Object.entries(result.images)) options.out(`${ref.padEnd(36)} -> ${describe(image)}`);
  return EXIT.certified;
}
