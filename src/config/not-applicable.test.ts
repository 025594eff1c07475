import { describe, expect, it } from 'vitest';
import { formatIssues } from './load-config.ts';
import { configSchema } from './schema.ts';

const base = { name: 'x', services: { api: { image: 'api:1' } } };
const problems = (notApplicable: Record<string, string>): string[] => {
  const parsed = configSchema.safeParse({ ...base, notApplicable });
  return parsed.success ? [] : formatIssues('readiness.config.ts', parsed.error.issues);
};

describe('config notApplicable (issue 14 point 3)', () => {
  it('maps check ids and family prefixes to their trimmed reasons; none by default', () => {
    expect(configSchema.parse(base).notApplicable).toEqual({});
    expect(
      configSchema.parse({
        ...base,
        notApplicable: { 'security.authn.refresh-reuse': ' no refresh tokens ', 'security.compliance.*': 'no PII' },
      }).notApplicable,
    ).toEqual({ 'security.authn.refresh-reuse': 'no refresh tokens', 'security.compliance.*': 'no PII' });
  });

  it('an empty reason is a config error naming the key', () => {
    expect(problems({ 'security.authn.lockout': '   ' })).toEqual([
      'readiness.config.ts: notApplicable.security.authn.lockout needs a reason: say why the check does not apply',
    ]);
  });

  it('a key that is no check id or prefix is a config error', () => {
    expect(problems({ 'Security Lockout': 'x' })).toEqual([
      "readiness.config.ts: notApplicable.Security Lockout is not a valid key: a check id, or an id prefix ending in '*'",
    ]);
  });
});
