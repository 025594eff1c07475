import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readK6Summary } from './k6-summary.ts';
import { dropSetupData } from './run-k6.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'load');

describe('dropSetupData', () => {
  it("removes setup()'s data (live tokens) from a recorded k6 summary export and keeps what the harness reads", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'k6-setup-data-'));
    const file = join(dir, 'baseline.summary.json');
    await copyFile(join(FIXTURES, 'baseline.summary.json'), file);
    const before = await readK6Summary(file);

    await dropSetupData(file);

    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('setup_data');
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\./);
    expect(await readK6Summary(file)).toEqual(before);
  });

  it('leaves a missing or unparsable summary to its reader', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'k6-setup-data-'));
    await expect(dropSetupData(join(dir, 'none.json'))).resolves.toBeUndefined();
    await writeFile(join(dir, 'cut.json'), '{"metrics": {');
    await dropSetupData(join(dir, 'cut.json'));
    expect(await readFile(join(dir, 'cut.json'), 'utf8')).toBe('{"metrics": {');
  });
});
