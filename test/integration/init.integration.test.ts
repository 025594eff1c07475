import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAIN, ROOT } from '../support/harness.ts';

function cli(args: readonly string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: 'utf8', timeout: 600_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// rails/solid_queue's Compose file: MySQL 8.0.31 and Postgres 15.1, no healthchecks.
const FIXTURE = join(ROOT, 'test/fixtures/compose/solid-queue/docker-compose.yml');

describe('readiness init --from <compose> then certify --stages boot (real Docker)', () => {
  it('the generated config of a real Compose file certifies boot once the images this machine has are named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-init-'));
    const generated = join(dir, 'readiness.config.ts');
    const init = cli(['init', '--from', FIXTURE, '--out', generated], dir);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('services.postgres.healthcheck');

    // The adjustments, and only these:
    // 1. the generated import names the package entry ('readiness'); here it is the repository's src/config;
    // 2. this machine has no registry: Postgres runs as postgres:16 (a local drop-in) instead of 15.1,
    //    and the MySQL service (and its link) is left out, as no MySQL image can be had here;
    // 3. the suites and the reports folder are the repository's suites and a temp folder.
    const source = await readFile(generated, 'utf8');
    expect(source).toContain("import { defineConfig } from 'readiness';");
    await writeFile(
      generated,
      source.replace(
        "from 'readiness'",
        `from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/config/index.ts')).href)}`,
      ),
    );
    const reports = join(dir, 'reports');
    await writeFile(
      join(dir, 'adjusted.config.ts'),
      `import generated from './readiness.config.ts';
const { mysql: _mysql, ...services } = generated.services;
export default {
  ...generated,
  services: { ...services, postgres: { ...services.postgres, image: 'postgres:16' } },
  links: (generated.links ?? []).filter((link) => link.service !== 'mysql'),
  suitesDir: ${JSON.stringify(join(ROOT, 'suites'))},
  reportsDir: ${JSON.stringify(reports)},
};
`,
    );
    const certify = cli(['certify', '--config', 'adjusted.config.ts', '--stages', 'boot', '--json'], dir);
    expect(certify.code, `${certify.stdout}\n${certify.stderr}`).toBe(0);
    const certification = JSON.parse(await readFile(join(reports, 'latest', 'certification.json'), 'utf8')) as {
      stages: Record<string, { status: string; passed?: number }>;
    };
    expect(certification.stages['boot']?.status).toBe('passed');
  });
});
