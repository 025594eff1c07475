import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'readiness';

function isPackageRoot(dir: string): boolean {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    // An unreadable package.json on the way up is not ours: keep looking.
    return false;
  }
}

let cachedRoot: string | undefined;

/**
 * The folder of readiness's own package.json, found from this module upwards: the checkout when
 * the harness runs from `src/`, `node_modules/readiness` when it runs from the installed `dist/`.
 * Files shipped beside the code (drop-in recipes, pinned requirements) are found from here.
 */
function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (isPackageRoot(dir)) return (cachedRoot = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`readiness: no package.json named "${PACKAGE_NAME}" above ${import.meta.url}`);
    dir = parent;
  }
}

/** A path inside the package (`packagePath('ci', 'images')`). */
export function packagePath(...segments: string[]): string {
  return join(packageRoot(), ...segments);
}

/**
 * A module next to `moduleUrl` by its base name, with the caller's own extension: `.ts` when the
 * harness runs from source, `.js` from the built package (for files started as separate processes).
 */
export function siblingModule(moduleUrl: string, baseName: string): string {
  const self = fileURLToPath(moduleUrl);
  return join(dirname(self), `${baseName}${extname(self)}`);
}
