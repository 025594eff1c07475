import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems, resolveConfig } from './load-config.ts';
import { DEFAULT_SIGNAL_STAGES } from './signals.ts';

const FILE = join(process.cwd(), 'readiness.config.ts');
const base = {
  name: 'shop',
  services: { db: { image: 'postgres:16', ports: [5432] }, api: { build: { context: '.' }, ports: [8080] } },
};
const problems = (config: unknown): string[] => configProblems(config, FILE);

describe('signals config', () => {
  it('is on by default: boot and contract only, fatal budget 0, a small error budget, a settle time after faults', () => {
    const { signals } = resolveConfig(base, FILE);
    expect(signals.enabled).toBe(true);
    expect(signals.stages).toEqual(DEFAULT_SIGNAL_STAGES);
    expect(signals.stages).toEqual(['boot', 'contract']);
    expect(signals.budgets).toEqual({ fatal: 0, error: 3, serverError: 3 });
    expect(signals.settleMs).toBe(10_000);
    expect(signals.services).toBeUndefined();
  });

  it('names the key of a stage it cannot judge, a pattern that does not compile, an unknown key, an unknown service', () => {
    expect(
      problems({
        ...base,
        signals: { stages: ['load', 'security'], patterns: { error: ['(unclosed'] }, budgets: { warn: 1 } },
      }),
    ).toEqual([
      'readiness.config.ts: signals.stages[1] must be one of "boot", "contract", "load", "chaos", "recovery" (received "security")',
      'readiness.config.ts: signals.patterns.error[0] is not a valid regular expression; give a JavaScript RegExp source such as \\bERROR\\b',
      'readiness.config.ts: signals.budgets.warn is not a known key; remove it or check the spelling',
    ]);
    expect(problems({ ...base, signals: { services: ['api', 'cache'] } })).toEqual([
      'readiness.config.ts: signals.services[1] names unknown service "cache"',
    ]);
  });
});
