import { cp, mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCertification, verdictExitCode } from '../../src/certify/index.ts';
import { readCheckResults } from '../../src/core/results.ts';
import { cachePaths, resolveCacheDir } from '../../src/provision/cache.ts';
import { findExecutable } from '../../src/provision/host.ts';
import { ROOT, credentialLeaks, leftovers, onlyRun, runCli } from '../support/harness.ts';

const EXAMPLE = join(ROOT, 'examples/miniflux');
const PUBLIC_ENTRY = join(ROOT, 'src/index.ts');

/**
 * The example folder copied as a team would keep it in its own repository (outside this checkout):
 * every file as committed, without its run folders and built binary; its imports of the public
 * entry point at this checkout's `src/index.ts` (in a team's repository they say `'readiness'`).
 */
async function exampleProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'readiness-miniflux-'));
  await cp(EXAMPLE, dir, {
    recursive: true,
    filter: (source) => !/^(reports|image\/bin)(\/|$)/.test(relative(EXAMPLE, source)),
  });
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    const text = await readFile(file, 'utf8');
    const imports = /from '(?:\.\.\/)+src\/index\.ts'/g;
    // Nothing but the public entry: no other path of this checkout.
    expect(text.replace(imports, ''), file).not.toMatch(/from '(?:\.\.\/)+src\//);
    await writeFile(file, text.replace(imports, `from ${JSON.stringify(PUBLIC_ENTRY)}`));
  }
  return dir;
}

describe('examples/miniflux: a third-party Go app (HTTP basic, API keys, no OpenAPI) certified from its own folder', () => {
  it('runs every configured stage with evidence, nothing broken or unknown, and exits with the code of its verdict', async () => {
    const dir = await exampleProject();
    // build.prepare runs `go build` on the host: the Go the harness builds k6 and Toxiproxy with, on
    // PATH, with their module and build caches (kept between CI runs with the readiness cache).
    const go = await findExecutable('go');
    expect(go, 'Go is needed to build miniflux (apt-get install -y golang, or https://go.dev/dl/)').toBeDefined();
    const goCache = cachePaths(resolveCacheDir()).go;
    const run = await runCli(dir, ['certify'], {
      PATH: `${dirname(go ?? '')}${delimiter}${process.env['PATH'] ?? ''}`,
      GOMODCACHE: join(goCache, 'mod'),
      GOCACHE: join(goCache, 'build'),
      GOFLAGS: '-modcacherw',
    });
    const runDir = await onlyRun(join(dir, 'reports'));
    const cert = await readCertification(join(runDir, 'certification.json'));
    const { checks, invalid } = await readCheckResults(join(runDir, 'allure-results'));
    const report = `exit ${run.code}, ${cert.verdict}\n${run.stdout}\n${run.stderr.slice(-4000)}`;
    expect(invalid, report).toEqual([]);

    // The harness worked: no check broken, none unknown (the app's findings are failed checks).
    const harmed = checks.filter((c) => c.status === 'broken' || c.status === 'unknown');
    expect(
      harmed.map((c) => `${c.id} ${c.status}: ${c.message ?? ''}`),
      report,
    ).toEqual([]);
    // The exit code is the verdict's, whatever the verdict is.
    expect(run.code, report).toBe(
      verdictExitCode({
        verdict: cert.verdict,
        hasFailedCheck: checks.some((c) => c.status === 'failed'),
        conditionalExitCode: 4,
      }),
    );
    expect(cert.partial).toBe(false);

    // Every configured stage ran and left evidence: checks, a message on each one not passed, artifacts.
    const { default: config } = (await import(join(dir, 'readiness.config.ts'))) as {
      default: {
        stages: readonly string[];
        secrets: readonly string[];
        services: Record<string, { env?: Record<string, string> }>;
      };
    };
    for (const stage of config.stages) {
      const ran = checks.filter((c) => c.stage === stage && c.status !== 'not-applicable');
      expect(ran.length, `${stage}: no check ran\n${report}`).toBeGreaterThan(0);
      for (const check of ran.filter((c) => c.status !== 'passed')) expect(check.message, check.id).toBeTruthy();
    }
    for (const c of checks.filter((check) => check.status === 'not-applicable')) expect(c.message, c.id).toBeTruthy();
    const chaos = checks.filter((c) => c.stage === 'chaos');
    expect(chaos.every((c) => c.evidence.length > 0 || c.message)).toBe(true);
    for (const artifact of ['load/api-key.summary.json', 'load/basic-auth.summary.json', 'logs/miniflux.log']) {
      expect((await stat(join(runDir, artifact))).size, artifact).toBeGreaterThan(0);
    }
    expect(await readFile(join(runDir, 'certificate.html'), 'utf8')).toContain('miniflux');

    // The app's own defect, found on every run of v2.3.5: while Postgres is down, a request with valid
    // HTTP basic credentials gets 401 (the password check's query error is read as a wrong password).
    const downAuth = checks.find((c) => c.id.startsWith('chaos.postgres-down.during.an-authenticated-request'));
    expect(downAuth?.status, report).toBe('failed');
    expect(downAuth?.message).toMatch(/401/);

    // Nothing left running, and no credential in the run folder: the config's secrets, and the
    // admin's HTTP basic header value.
    expect(await leftovers(runDir)).toBe(0);
    const env = config.services.miniflux?.env ?? {};
    const basic = Buffer.from(`${env['ADMIN_USERNAME'] ?? ''}:${env['ADMIN_PASSWORD'] ?? ''}`).toString('base64');
    expect(basic.length).toBeGreaterThan(8);
    expect(await credentialLeaks(runDir, [...config.secrets, basic])).toEqual([]);
  });
});
