import { describe, expect, it } from 'vitest';
import { ConfigError, EXIT } from '../core/errors.ts';
import { resolveConfig } from './load-config.ts';
import { listPolicyExceptions } from './policy-exceptions.ts';

const FILE = '/work/x/readiness.config.ts';
const base = (policy: Record<string, unknown>) => ({
  name: 'demo',
  stages: ['boot'],
  services: { api: { image: 'example/api:1', ports: [8080] } },
  policy,
});

function refusal(policy: Record<string, unknown>): ConfigError {
  try {
    resolveConfig(base(policy), FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('policy.strict (issue 15 point 4)', () => {
  it('refuses every policy exception, one line each naming the dotted key, with exit 2', () => {
    const error = refusal({
      strict: true,
      stages: { load: { minPassRate: 0.9 }, boot: { mandatory: false } },
      critical: { severities: ['blocker'] },
      skippable: ['security.scanner.zap'],
      conditionalMargin: 0.05,
    });
    expect(error.exitCode).toBe(EXIT.usage);
    const lines = error.problems.map((line) => line.replace(/^.*readiness\.config\.ts: /, '').replace(/ \(.*$/, ''));
    expect(lines).toEqual([
      'policy.stages.boot.mandatory is false, a policy exception that policy.strict: true refuses',
      'policy.stages.load.minPassRate is 0.9, a policy exception that policy.strict: true refuses',
      'policy.critical.severities is ["blocker"], a policy exception that policy.strict: true refuses',
      'policy.skippable is "security.scanner.zap", a policy exception that policy.strict: true refuses',
      'policy.conditionalMargin is 0.05, a policy exception that policy.strict: true refuses',
    ]);
    expect(error.problems[1]).toContain('remove it or set policy.strict: false');
  });

  it('accepts the strict policy and defaults its conditional margin to 0; without strict the margin stays 10%', () => {
    const strict = resolveConfig(base({ strict: true }), FILE);
    expect(strict.policy).toMatchObject({ strict: true, conditionalMargin: 0 });
    expect(listPolicyExceptions(strict.policy)).toEqual([]);
    const lenient = resolveConfig(base({}), FILE);
    expect(lenient.policy).toMatchObject({ strict: false, conditionalMargin: 0.1 });
    expect(listPolicyExceptions(lenient.policy).map((e) => e.key)).toEqual(['policy.conditionalMargin']);
  });

  it('names a critical set with no severity and no id as "no check is critical"', () => {
    expect(
      listPolicyExceptions({ ...resolveConfig(base({ critical: { severities: [] } }), FILE).policy }),
    ).toContainEqual({
      key: 'policy.critical.severities',
      value: [],
      text: 'No check is critical: every check may fail within its stage pass rate.',
    });
  });
});
