import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { parseCommandArgs, parsePort, parseSeed, parseStages } from './args.ts';

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseCommandArgs', () => {
  it('fills the defaults, the config from the given default', () => {
    const { values, positionals } = parseCommandArgs('drill', ['postgres-latency', '--seed', '7'], 'ci.config.ts');
    expect(positionals).toEqual(['postgres-latency']);
    expect(values).toMatchObject({ config: 'ci.config.ts', seed: '7', json: false, 'fail-fast': false });
    expect(parseCommandArgs('up', []).values.config).toBe('readiness.config.ts');
  });

  it("names the command's help for an unknown option", () => {
    const [problem] = problems(() => parseCommandArgs('certify', ['--stagez', 'boot']));
    expect(problem).toMatch(/--stagez/);
    expect(problem).toMatch(/\(see readiness certify --help\)$/);
  });
});

describe('parseSeed', () => {
  it('takes a non-negative integer, or nothing', () => {
    expect(parseSeed('42')).toBe(42);
    expect(parseSeed('0')).toBe(0);
    expect(parseSeed(undefined)).toBeUndefined();
  });

  it('refuses a negative, fractional or non-numeric seed, quoting it', () => {
    for (const text of ['-1', '1.5', 'abc'])
      expect(problems(() => parseSeed(text))).toEqual([`--seed must be a non-negative integer (received "${text}")`]);
  });
});

describe('parsePort', () => {
  it('takes 0-65535, or nothing', () => {
    expect(parsePort('8080')).toBe(8080);
    expect(parsePort('0')).toBe(0);
    expect(parsePort(undefined)).toBeUndefined();
  });

  it('refuses a port out of range or not an integer', () => {
    for (const text of ['65536', '-1', 'http'])
      expect(problems(() => parsePort(text))).toEqual([`--port must be an integer 0-65535 (received "${text}")`]);
  });
});

describe('parseStages', () => {
  it('trims the names and drops empty ones', () => {
    expect(parseStages(' boot, load,,security ')).toEqual(['boot', 'load', 'security']);
  });
});
