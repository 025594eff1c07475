import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** Every TypeScript and JavaScript file git tracks (the project's own code, tests, benches, examples). */
function trackedSources(): string[] {
  return execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.js', '*.mjs'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((path) => path !== '' && !path.includes('node_modules/'));
}

const DECLARATION =
  /^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum|abstract class)\s+([A-Za-z_$][\w$]*)/gm;

/** A folder's index re-exporting its modules: mentioning a name there is not using it. (`src/index.ts`, the public entry, is a user.) */
const BARREL = /^src\/[^/]+\/index\.ts$/;

/**
 * Names `src/` exports that no other tracked file mentions: an export nobody imports. Word matches
 * over the whole checkout are loose on purpose (a name mentioned anywhere else counts as used), so
 * this never flags a real import; what it flags is surely dead.
 */
function unusedExports(): string[] {
  const files = trackedSources();
  const texts = new Map(files.map((path) => [path, readFileSync(join(ROOT, path), 'utf8')]));
  const unused: string[] = [];
  for (const [path, text] of texts) {
    if (!path.startsWith('src/') || path.endsWith('.test.ts')) continue;
    for (const match of text.matchAll(DECLARATION)) {
      const name = match[1] ?? '';
      const word = new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`);
      const elsewhere = [...texts].some(
        ([other, otherText]) => other !== path && !BARREL.test(other) && word.test(otherText),
      );
      if (!elsewhere) unused.push(`${path}: ${name}`);
    }
  }
  return unused;
}

describe('exports (a module exports what others import)', () => {
  it('no name in src/ is exported without another file using it', () => {
    expect(unusedExports()).toEqual([]);
  });
});
