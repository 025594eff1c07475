import { mkdtempSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';

/** The committed pacts the `contract` stage verifies. */
export const PACT_DIR = join(import.meta.dirname, 'pacts');

/**
 * Where a consumer test lets Pact write, and when its pact reaches `contracts/pacts/`: Pact writes
 * into a scratch folder (so it never merges with an older file), and after the file's tests the
 * pact replaces the committed one in one rename, only if every test passed and only if it changed.
 * A run of the stage in parallel therefore never sees a missing or half-written pact.
 */
export function pactOutput(file: string): string {
  const scratch = mkdtempSync(join(tmpdir(), 'readiness-pact-'));
  let failures = 0;
  afterEach((context) => {
    if (context.task.result?.state === 'fail') failures += 1;
  });
  afterAll(async () => {
    try {
      if (failures > 0) return;
      const text = await readFile(join(scratch, file), 'utf8');
      const target = join(PACT_DIR, file);
      const current = await readFile(target, 'utf8').catch(() => undefined);
      if (current === text) return;
      await writeFile(`${target}.tmp`, text);
      await rename(`${target}.tmp`, target);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
  return scratch;
}
