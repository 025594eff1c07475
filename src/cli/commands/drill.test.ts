import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });

describe('readiness drill (usage)', () => {
  it('names the known experiments when the id is unknown or missing, exit 2, before touching any stack', () => {
    const unknown = run('drill', 'no-such-experiment');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(
      /no experiment "no-such-experiment": readiness drill <id> \(known: .*postgres-latency/,
    );
    const missing = run('drill');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/name an experiment/);
  });

  it('documents itself with examples', () => {
    const help = run('drill', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('readiness drill postgres-latency');
  });
});
