import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');
const CONFIG_MODULE = resolve(import.meta.dirname, '../../src/config/index.ts');

function cli(args: readonly string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function project(configBody: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'readiness-cli-'));
  await writeFile(
    join(dir, 'readiness.config.ts'),
    `import { defineConfig } from ${JSON.stringify(CONFIG_MODULE)};\nexport default defineConfig(${configBody});\n`,
  );
  return dir;
}

describe('readiness CLI (spawned)', () => {
  it('exits 2 naming file and key for an unknown key, and starts nothing', async () => {
    const dir = await project(`{ name: 'x', services: { api: { image: 'a:1', portz: [80] } } } as never`);
    const { code, stderr } = cli(['certify'], dir);
    expect(code).toBe(2);
    expect(stderr).toContain(
      'readiness.config.ts: services.api.portz is not a known key; remove it or check the spelling',
    );
    // Nothing started: not even a run folder.
    expect(await readdir(dir)).toEqual(['readiness.config.ts']);
  });

  it('exits 2 for a wrong type with one line per problem', async () => {
    const dir = await project(
      `{ name: 'x', stages: ['boot', 'nope'], services: { api: { image: 'a:1', ports: ['80'] } } } as never`,
    );
    const { code, stderr } = cli(['certify'], dir);
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines).toContainEqual(expect.stringMatching(/^readiness\.config\.ts: stages\[1\] /));
    expect(lines).toContainEqual(
      expect.stringMatching(/^readiness\.config\.ts: services\.api\.ports\[0\] .*received "80"/),
    );
  });

  it('exits 2 for a config file that does not exist or does not load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-cli-'));
    expect(cli(['certify', '--config', 'missing.config.ts'], dir)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('missing.config.ts: file not found'),
    });
    await writeFile(join(dir, 'broken.config.ts'), 'export default {{;');
    expect(cli(['certify', '--config', 'broken.config.ts'], dir)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('broken.config.ts: cannot be loaded'),
    });
  });

  it('exits 2 for a stage that is not enabled and for a bad seed', async () => {
    const dir = await project(`{ name: 'x', services: { api: { image: 'a:1' } } }`);
    expect(cli(['certify', '--stages', 'chaos'], dir)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--stages: "chaos" is not enabled'),
    });
    expect(cli(['certify', '--seed', 'abc'], dir)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--seed must be a non-negative integer'),
    });
    expect(cli(['frobnicate'], dir)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command "frobnicate"'),
    });
  });

  it('prints help with examples', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-cli-'));
    const { code, stdout } = cli(['certify', '--help'], dir);
    expect(code).toBe(0);
    expect(stdout).toContain('npm run certify -- --stages boot');
  });
});
