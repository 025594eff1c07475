import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');
const CORPUS = resolve(import.meta.dirname, '../fixtures/configs');
const files = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.config.ts'))
  .sort();

describe('malformed config corpus', () => {
  it('has at least 20 cases', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it.each(files)('%s: exit 2, one line per problem naming the file and key, nothing started', (file) => {
    const expected = /^\/\/ expect: (.+)$/m.exec(readFileSync(join(CORPUS, file), 'utf8'))?.[1];
    expect(expected, `${file} needs an "// expect: <key>" line`).toBeDefined();
    const result = spawnSync(process.execPath, [MAIN, 'certify', '--config', file], {
      cwd: CORPUS,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status, result.stderr).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.startsWith(`${file}: `), line).toBe(true);
    expect(
      lines.some((line) => line.includes(expected!)),
      result.stderr,
    ).toBe(true);
    expect(result.stdout).toBe('');
    expect(existsSync(join(CORPUS, 'reports'))).toBe(false);
  });
});
