import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { resolveConfig } from './load-config.ts';
import { DEFAULT_NOISE_BANDS } from './noise-bands.ts';

const FILE = '/work/x/readiness.config.ts';
const withBands = (noiseBands: unknown) => ({
  name: 'demo',
  services: { api: { image: 'example/api:1', ports: [8080] } },
  policy: { noiseBands },
});

function problems(raw: unknown): string[] {
  try {
    resolveConfig(raw, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('policy.noiseBands', () => {
  it('is absent by default: the comparison uses the built-in bands', () => {
    expect(resolveConfig(withBands(undefined), FILE).policy.noiseBands).toBeUndefined();
    expect(resolveConfig(withBands({}), FILE).policy.noiseBands).toEqual(DEFAULT_NOISE_BANDS);
  });

  it('changes a built-in band (unset keys kept), turns one off and adds a new one, matched first', () => {
    const bands = resolveConfig(
      withBands({
        'load.knee': { ratio: 0.05 },
        'boot.startup.*': false,
        'custom.queue-depth': { worseWhen: 'higher', ratio: 0.25, minDelta: 2 },
      }),
      FILE,
    ).policy.noiseBands;
    expect(bands?.[0]).toEqual({ figure: 'custom.queue-depth', worseWhen: 'higher', ratio: 0.25, minDelta: 2 });
    expect(bands?.find((b) => b.figure === 'load.knee')).toEqual({
      figure: 'load.knee',
      worseWhen: 'lower',
      ratio: 0.05,
    });
    expect(bands?.find((b) => b.figure === 'load.baseline.p95')).toEqual({
      figure: 'load.baseline.p95',
      worseWhen: 'higher',
      ratio: 0.3,
      minDelta: 5,
    });
    expect(bands?.some((b) => b.figure === 'boot.startup.*')).toBe(false);
    expect(bands).toHaveLength(DEFAULT_NOISE_BANDS.length);
  });

  it('refuses an unknown key, a negative ratio, an incomplete new band and turning off a band that is not built in', () => {
    const found = problems(
      withBands({
        'load.knee': { ration: 0.1 },
        'load.baseline.p95': { ratio: -0.3 },
        'custom.x': { ratio: 0.2 },
        'custom.y': false,
      }),
    );
    expect(found).toContainEqual(expect.stringMatching(/policy\.noiseBands\.load\.knee\.ration is not a known key/));
    expect(found).toContainEqual(
      expect.stringMatching(/policy\.noiseBands\.load\.baseline\.p95\.ratio .*received -0\.3/),
    );
    expect(found).toContainEqual(
      expect.stringMatching(/policy\.noiseBands\.custom\.x\.worseWhen is required for a band that is not built in/),
    );
    expect(found).toContainEqual(
      expect.stringMatching(/policy\.noiseBands\.custom\.y turns off a band that is not built in/),
    );
  });
});
