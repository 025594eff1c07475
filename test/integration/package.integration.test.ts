import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leftovers, onlyRun, ROOT } from '../support/harness.ts';

/** A command run to the end; its output kept for the assertion message. */
function run(command: string, args: readonly string[], cwd: string, timeoutMs: number) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: process.env });
  return { code: result.status, out: `${result.stdout}\n${result.stderr}` };
}

// A team's repository: readiness installed from the packed tarball, a config importing 'readiness',
// no suitesDir (the built-in suites ship in the package), its own folder outside this checkout.
const CONFIG = `import { defineConfig } from 'readiness';
import type { ReadinessConfig } from 'readiness';

const db: ReadinessConfig['services'][string] = {
  image: 'postgres:16',
  env: { POSTGRES_PASSWORD: 'package-test-password', POSTGRES_INITDB_ARGS: '--no-sync' },
  ports: [5432],
  health: { kind: 'command', command: ['pg_isready', '-h', '127.0.0.1', '-U', 'postgres'], timeoutMs: 60_000 },
};

export default defineConfig({
  name: 'packaged',
  services: { db, cache: { image: 'redis:7', ports: [6379], health: { kind: 'command', command: ['redis-cli', 'ping'], timeoutMs: 30_000 } } },
  links: [{ service: 'db', port: 5432 }],
  stages: ['boot'],
});
`;

describe('readiness as an installed package (npm pack, npm install, npx readiness certify)', () => {
  it('certifies a small stack from a project outside the checkout whose config imports from "readiness"', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-package-'));
    const packed = run('npm', ['pack', '--silent', '--pack-destination', dir], ROOT, 300_000);
    expect(packed.code, packed.out).toBe(0);
    const tarball = (await readdir(dir)).find((name) => name.endsWith('.tgz'));
    expect(tarball, packed.out).toBeDefined();

    const project = join(dir, 'team-repo');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), '{ "name": "team-repo", "private": true, "type": "module" }\n');
    const installed = run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '-D', join(dir, tarball ?? '')],
      project,
      600_000,
    );
    expect(installed.code, installed.out).toBe(0);
    // Node strips no types inside node_modules: the package must carry JavaScript and declarations.
    const pkg = JSON.parse(await readFile(join(project, 'node_modules/readiness/package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string }>;
    };
    expect(pkg.exports['.']).toEqual({ types: './dist/src/index.d.ts', default: './dist/src/index.js' });
    await expect(readdir(join(project, 'node_modules/readiness/src'))).rejects.toThrow(/ENOENT/);

    await writeFile(join(project, 'readiness.config.ts'), CONFIG);
    const bin = join(project, 'node_modules/.bin/readiness');
    const certified = run(process.execPath, [bin, 'certify'], project, 600_000);
    expect(certified.code, certified.out).toBe(0);
    const runDir = await onlyRun(join(project, 'reports'));
    const cert = JSON.parse(await readFile(join(runDir, 'certification.json'), 'utf8')) as {
      verdict: string;
      stages: Record<string, { status: string; counts: { passed: number } }>;
    };
    expect(cert.verdict).toBe('CERTIFIED');
    // The built-in boot suite ran from the package: every service healthy within its budget.
    expect(cert.stages['boot']?.status).toBe('passed');
    expect(cert.stages['boot']?.counts.passed).toBeGreaterThanOrEqual(2); // one per service
    expect(await leftovers(runDir)).toBe(0);

    // Bad input in the team's config: exit 2 naming file and key, before anything starts.
    await writeFile(
      join(project, 'readiness.config.ts'),
      CONFIG.replace("name: 'packaged',", "name: 'packaged', bogus: 1,"),
    );
    const bad = run(process.execPath, [bin, 'certify'], project, 60_000);
    expect(bad.code, bad.out).toBe(2);
    expect(bad.out).toMatch(/readiness\.config\.ts: .*bogus/);
  });
});
