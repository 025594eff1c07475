import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_RUNNER_START_SKEW_MS, runK6Shards, shardProblems } from './k6-shards.ts';
import { segmentArgs } from './run-k6.ts';

describe('segmentArgs (k6 execution segments of N runners)', () => {
  it('gives runner i of N the segment i/N:(i+1)/N of the sequence 0,1/N,...,1', () => {
    expect(segmentArgs({ index: 0, count: 2 })).toEqual([
      '--execution-segment',
      '0:1/2',
      '--execution-segment-sequence',
      '0,1/2,1',
    ]);
    expect(segmentArgs({ index: 1, count: 4 })).toEqual([
      '--execution-segment',
      '1/4:2/4',
      '--execution-segment-sequence',
      '0,1/4,2/4,3/4,1',
    ]);
    expect(segmentArgs({ index: 3, count: 4 })[1]).toBe('3/4:1');
  });

  it('adds nothing for one runner (its run is as before) and refuses a runner outside the sequence', () => {
    expect(segmentArgs(undefined)).toEqual([]);
    expect(segmentArgs({ index: 0, count: 1 })).toEqual([]);
    expect(() => segmentArgs({ index: 2, count: 2 })).toThrow(/not a runner/);
  });
});

/** A stand-in k6 binary: logs its arguments; the runner of segment `1/2:1` fails at once, the other runs on. */
async function fakeK6(dir: string): Promise<string> {
  const file = join(dir, 'k6');
  await writeFile(
    file,
    `#!/bin/sh\necho "$*" >> ${join(dir, 'args.log')}\ncase "$*" in *"1/2:1"*) echo "bad segment" >&2; exit 107;; esac\nexec sleep 30\n`,
  );
  await chmod(file, 0o755);
  return file;
}

describe('runK6Shards', () => {
  it('starts every runner with its segment; one that fails breaks the run and stops the others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'k6-shards-'));
    const outcome = await runK6Shards(
      {
        k6: await fakeK6(dir),
        script: 'script.js',
        options: { scenarios: {}, thresholds: {}, summaryTrendStats: [], setupTimeout: '1s' },
        outDir: dir,
        label: 'scenario',
        env: {},
        timeoutMs: 60_000,
        rawOutput: true,
      },
      2,
    );
    expect(outcome.kind).toBe('broken');
    expect(outcome.kind === 'broken' ? outcome.message : '').toMatch(/^runner 2 of 2: k6 exited 107/);
    expect(outcome.kind === 'broken' ? outcome.stderrTail : '').toContain('bad segment');
    const args = (await readFile(join(dir, 'args.log'), 'utf8')).trim().split('\n').sort();
    expect(args).toHaveLength(2);
    expect(args[0]).toContain('--execution-segment 0:1/2 --execution-segment-sequence 0,1/2,1');
    expect(args[0]).toContain(`json=${join(dir, 'scenario.runner-1.samples.ndjson')}`);
    expect(args[1]).toContain('--execution-segment 1/2:1 --execution-segment-sequence 0,1/2,1');
  });

  it('judges no phased or ramped run whose runners started further apart than its windows can bear', () => {
    const runner = { summaryFile: 's', rawFile: 'r', durationMs: 1, startedAt: 0 };
    const runners = [runner, runner];
    const apart = (startSkewMs: number, timeShaped: boolean): string[] =>
      shardProblems({ kind: 'sharded', runners, startSkewMs }, timeShaped);
    expect(apart(MAX_RUNNER_START_SKEW_MS, true)).toEqual([]);
    expect(apart(MAX_RUNNER_START_SKEW_MS + 1, true)[0]).toMatch(/2 k6 runners started 1001ms apart/);
    // A constant rate without phases is the same load whenever each runner starts.
    expect(apart(MAX_RUNNER_START_SKEW_MS * 5, false)).toEqual([]);
  });
});
