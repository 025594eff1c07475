import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { ensurePythonVenv, pythonVenvDir, unpinnedRequirements } from './python-venv.ts';

describe('pinned requirements', () => {
  it('accepts package==version lines (extras, markers, hashes, comments) and names the others', () => {
    const text = [
      '# tools',
      'schemathesis==4.32.5',
      'requests[socks]==2.34.2 ; python_version >= "3.9"',
      'idna==3.20 --hash=sha256:abc',
      'hypothesis>=6',
      'rich',
      '',
    ].join('\n');
    expect(unpinnedRequirements(text, 'req.txt')).toEqual([
      'req.txt:5: "hypothesis>=6" is not pinned; write package==version',
      'req.txt:6: "rich" is not pinned; write package==version',
    ]);
  });

  it('puts a new pin set or interpreter in a new venv', () => {
    const a = pythonVenvDir('/c', 'security', 'x==1\n', 'python 3.11.7');
    expect(a).toMatch(/^\/c\/venvs\/security-[0-9a-f]{12}$/);
    expect(pythonVenvDir('/c', 'security', 'x==2\n', 'python 3.11.7')).not.toBe(a);
    expect(pythonVenvDir('/c', 'security', 'x==1\n', 'python 3.12.1')).not.toBe(a);
  });
});

describe('ensurePythonVenv', () => {
  const temp: string[] = [];
  const tempCache = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-venv-'));
    temp.push(dir);
    return dir;
  };
  afterAll(() => Promise.all(temp.map((d) => rm(d, { recursive: true, force: true }))));

  it('creates the venv once under the cache and reuses it', async () => {
    const cacheDir = await tempCache();
    const requirementsFile = join(cacheDir, 'requirements.txt');
    // No package: nothing is downloaded, but the venv, pip check and the marker are real.
    await writeFile(requirementsFile, '# nothing pinned yet\n');
    const first = await ensurePythonVenv({ name: 'unit', requirementsFile }, { cacheDir });
    await access(first.python);
    await access(join(first.dir, '.readiness-complete'));
    expect(first.bin('pip')).toBe(join(first.dir, 'bin', 'pip'));
    const started = performance.now();
    const second = await ensurePythonVenv({ name: 'unit', requirementsFile }, { cacheDir });
    expect(second.dir).toBe(first.dir);
    expect(performance.now() - started).toBeLessThan(2_000);
  }, 120_000);

  it('refuses an unpinned requirements file before touching the cache', async () => {
    const cacheDir = await tempCache();
    const requirementsFile = join(cacheDir, 'requirements.txt');
    await writeFile(requirementsFile, 'schemathesis\n');
    await expect(ensurePythonVenv({ name: 'unit', requirementsFile }, { cacheDir })).rejects.toBeInstanceOf(
      ConfigError,
    );
    await expect(access(join(cacheDir, 'venvs'))).rejects.toThrow();
  });
});
