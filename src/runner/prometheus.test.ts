import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricValue, parsePrometheus } from './prometheus.ts';

// Recorded from the reference orders service's GET /metrics.
const text = readFileSync(join(import.meta.dirname, '../../test/fixtures/chaos/orders-metrics.txt'), 'utf8');

describe('Prometheus text', () => {
  const samples = parsePrometheus(text);

  it('reads gauges and labelled counters of a real exposition', () => {
    expect(metricValue(samples, 'payments_breaker_state')).toBe(0);
    expect(metricValue(samples, 'orders_outbox_pending')).toBe(0);
    expect(
      metricValue(samples, 'rate_limit_decisions_total', { backend: 'redis', outcome: 'allowed' }),
    ).toBeGreaterThan(0);
  });

  it('sums the series that match, and says undefined (not 0) for a metric that is not exported', () => {
    const all = metricValue(samples, 'rate_limit_decisions_total') ?? 0;
    const redis = metricValue(samples, 'rate_limit_decisions_total', { backend: 'redis' }) ?? 0;
    expect(all).toBeGreaterThanOrEqual(redis);
    expect(metricValue(samples, 'rate_limit_decisions_total', { backend: 'memory' })).toBeUndefined();
    expect(metricValue(samples, 'no_such_metric')).toBeUndefined();
  });

  it('parses escapes, +Inf and skips comments', () => {
    const parsed = parsePrometheus('# HELP x y\nx_bucket{le="+Inf",path="a\\"b"} 3\ny +Inf\n');
    expect(parsed).toEqual([
      { name: 'x_bucket', labels: { le: '+Inf', path: 'a"b' }, value: 3 },
      { name: 'y', labels: {}, value: Infinity },
    ]);
  });
});
