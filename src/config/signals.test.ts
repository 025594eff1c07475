import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems, resolveConfig } from './load-config.ts';
import { DEFAULT_SIGNAL_STAGES, parseCounterSelector } from './signals.ts';

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
    expect(signals.budgets).toEqual({ fatal: 0, error: 3, serverError: 3, dependencyErrors: 0 });
    expect(signals.metrics).toEqual({});
    expect(signals.scrapeIntervalMs).toBe(2_000);
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

  it('parses counter selectors: a metric name with = and != label matchers, escapes included', () => {
    const { signals } = resolveConfig(
      {
        ...base,
        signals: {
          metrics: {
            api: {
              port: 8080,
              counters: [
                'rate_limit_decisions_total{backend="memory"}',
                ' client_attempts_total{ outcome != "ok" , peer="a\\"b", } ',
              ],
            },
          },
        },
      },
      FILE,
    );
    expect(signals.metrics.api).toEqual({
      port: 8080,
      path: '/metrics',
      counters: [
        {
          text: 'rate_limit_decisions_total{backend="memory"}',
          name: 'rate_limit_decisions_total',
          matchers: [{ label: 'backend', op: '=', value: 'memory' }],
        },
        {
          text: 'client_attempts_total{ outcome != "ok" , peer="a\\"b", }',
          name: 'client_attempts_total',
          matchers: [
            { label: 'outcome', op: '!=', value: 'ok' },
            { label: 'peer', op: '=', value: 'a"b' },
          ],
        },
      ],
    });
    expect(parseCounterSelector('errors_total')).toEqual({ text: 'errors_total', name: 'errors_total', matchers: [] });
  });

  it('names the dotted key of a bad selector, an unknown or unjudged service, a port the service does not expose', () => {
    expect(
      problems({
        ...base,
        signals: {
          metrics: {
            api: {
              port: 8080,
              counters: [
                'errors total',
                'errors_total{kind=~"db|cache"}',
                'errors_total{kind="db"',
                'errors_total{kind=db}',
                '{kind="db"}',
              ],
            },
          },
        },
      }),
    ).toEqual([
      'readiness.config.ts: signals.metrics.api.counters[0] has "total" after the metric name, not label matchers in braces; write a metric name with optional label matchers, e.g. errors_total{dependency="redis",outcome!="ok"}',
      'readiness.config.ts: signals.metrics.api.counters[1] uses =~ on kind: regular-expression matchers are not supported; list one selector per value with = or !=',
      'readiness.config.ts: signals.metrics.api.counters[2] does not close its label matchers with }; write a metric name with optional label matchers, e.g. errors_total{dependency="redis",outcome!="ok"}',
      'readiness.config.ts: signals.metrics.api.counters[3] has a label matcher that does not parse at "kind=db"; write a metric name with optional label matchers, e.g. errors_total{dependency="redis",outcome!="ok"}',
      'readiness.config.ts: signals.metrics.api.counters[4] does not start with a Prometheus metric name; write a metric name with optional label matchers, e.g. errors_total{dependency="redis",outcome!="ok"}',
    ]);
    expect(
      problems({ ...base, signals: { metrics: { api: { port: 8080, counters: ['ok_total', ' ok_total'] } } } }),
    ).toEqual(['readiness.config.ts: signals.metrics.api.counters lists a counter twice']);
    expect(
      problems({
        ...base,
        signals: {
          metrics: {
            cache: { port: 6379, counters: ['errors_total'] },
            api: { port: 9090, counters: ['errors_total'] },
            db: { port: 5432, counters: ['errors_total'] },
          },
        },
      }),
    ).toEqual([
      'readiness.config.ts: signals.metrics.cache names unknown service "cache"',
      'readiness.config.ts: signals.metrics.api.port port 9090 is not in services.api.ports',
      'readiness.config.ts: signals.metrics.db names "db", whose signals are not judged by default (the config does not build it): list the judged services in signals.services',
    ]);
    expect(
      problems({
        ...base,
        signals: { services: ['api'], metrics: { db: { port: 5432, counters: ['errors_total'] } } },
      }),
    ).toEqual([
      'readiness.config.ts: signals.metrics.db names "db", whose signals are not judged: add it to signals.services',
    ]);
    expect(
      problems({ ...base, signals: { services: ['db'], metrics: { db: { port: 5432, counters: ['errors_total'] } } } }),
    ).toEqual([]);
  });
});
