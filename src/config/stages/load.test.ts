import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems, resolveConfig } from '../load-config.ts';
import { scenarioRunners, thresholdProblems } from './load.ts';

const FILE = join(process.cwd(), 'readiness.config.ts');

const base = {
  name: 'shop',
  stages: ['boot', 'load'],
  services: { db: { image: 'postgres:16', ports: [5432] }, api: { image: 'api:1', ports: [8080] } },
  links: [{ service: 'db', port: 5432 }],
};

const load = {
  script: 'scenarios/load/mix.js',
  target: { service: 'api', port: 8080 },
  slo: { p95Ms: 200, maxErrorRate: 0.01 },
  scenarios: [{ id: 'baseline', ratePerSec: 10, durationSec: 5 }],
};

const problems = (config: unknown): string[] => configProblems(config, FILE);

describe('load config', () => {
  it('accepts a minimal stage and fills the pinned k6', () => {
    const resolved = resolveConfig({ ...base, load }, FILE);
    expect(resolved.load?.k6.version).toBe('v1.8.1');
    expect(resolved.load?.scenarios[0]?.preAllocatedVUs).toBe(20);
  });

  it('runs each scenario as one k6 process unless load.runners or its own runners says more', () => {
    const one = resolveConfig({ ...base, load }, FILE);
    expect(one.load?.runners).toBe(1);
    const scenarios = [
      { ...load.scenarios[0], runners: 4 },
      { ...load.scenarios[0], id: 'other' },
    ];
    const resolved = resolveConfig({ ...base, load: { ...load, runners: 2, scenarios } }, FILE);
    const [own, inherited] = resolved.load?.scenarios ?? [];
    expect(
      resolved.load && own && inherited && [own, inherited].map((s) => scenarioRunners(resolved.load!, s)),
    ).toEqual([4, 2]);
  });

  it('rejects a runner count that is no k6 process count (exit 2 naming the key)', () => {
    expect(problems({ ...base, load: { ...load, runners: 0 } }).join('\n')).toMatch(/load\.runners/);
    const scenarios = [{ ...load.scenarios[0], runners: 1.5 }];
    expect(problems({ ...base, load: { ...load, scenarios } }).join('\n')).toMatch(/load\.scenarios\[0\]\.runners/);
  });

  it('rejects more runners than a scenario has preAllocatedVUs (k6 would give a runner none)', () => {
    const scenarios = [{ ...load.scenarios[0], preAllocatedVUs: 2 }];
    const found = problems({ ...base, load: { ...load, runners: 3, scenarios } });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/load\.runners.*3 runners share the 2 preAllocatedVUs of scenario "baseline"/);
    const own = problems({ ...base, load: { ...load, scenarios: [{ ...scenarios[0], runners: 3 }] } });
    expect(own[0]).toMatch(/load\.scenarios\[0\]\.runners/);
  });

  it('rejects more runners than the knee probe pre-allocates VUs (it runs as load.runners too)', () => {
    const knee = { fromRatePerSec: 20, toRatePerSec: 200, durationSec: 24, maxVUs: 3 };
    const found = problems({ ...base, load: { ...load, runners: 4, knee } });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/load\.runners.*4 runners share the 3 pre-allocated VUs of the knee probe/);
    expect(problems({ ...base, load: { ...load, runners: 3, knee } })).toEqual([]);
  });

  it('names the missing load section when the stage is enabled', () => {
    expect(problems(base).join('\n')).toMatch(/readiness\.config\.ts: load .*required/);
  });

  it('rejects a misspelled threshold metric that k6 would silently ignore', () => {
    const found = problems({
      ...base,
      load: {
        ...load,
        scenarios: [{ ...load.scenarios[0], thresholds: { 'http_req_duraton{name:list}': ['p(95)<200'] } }],
      },
    });
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('load.scenarios[0].thresholds.http_req_duraton{name:list}');
    expect(found[0]).toContain('"http_req_duraton" is not a metric k6 or the scripts define');
  });

  it('rejects a phase or scenario tag value no request can carry (a typo would pass on no sample)', () => {
    const found = problems({
      ...base,
      load: {
        ...load,
        scenarios: [
          {
            id: 'baseline',
            ratePerSec: 10,
            phases: [
              { name: 'warmup', durationSec: 2 },
              { name: 'steady', durationSec: 5 },
            ],
            thresholds: {
              'http_req_duration{phase:stedy,name:list}': ['p(95)<200'],
              'http_req_failed{scenario:baseline}': ['rate<0.01'],
              'http_req_duration{phase:steady,name:lst}': ['p(95)<200'],
            },
          },
          { id: 'spike', ratePerSec: 10, durationSec: 5, thresholds: { 'http_reqs{phase:steady}': ['count>10'] } },
        ],
      },
    });
    expect(found).toEqual([
      `readiness.config.ts: load.scenarios[0].thresholds.http_req_duration{phase:stedy,name:list} tag phase:stedy matches no request of scenario "baseline", so the threshold would pass on no sample; its phase values are warmup, steady`,
      // A phased scenario runs as one k6 scenario per phase: its id is not a k6 scenario name.
      `readiness.config.ts: load.scenarios[0].thresholds.http_req_failed{scenario:baseline} tag scenario:baseline matches no request of scenario "baseline", so the threshold would pass on no sample; its scenario values are warmup, steady`,
      `readiness.config.ts: load.scenarios[1].thresholds.http_reqs{phase:steady} tag phase:steady matches no request of scenario "spike", so the threshold would pass on no sample; it has no phases`,
    ]);
  });

  it('defaults the sample floor and the generator limits, and bounds them', () => {
    const resolved = resolveConfig({ ...base, load }, FILE);
    expect(resolved.load).toMatchObject({ minSamples: 50, maxDroppedRatio: 0.01, minReachedRatio: 0.9 });
    expect(problems({ ...base, load: { ...load, minSamples: 0, maxDroppedRatio: 5 } }).join('\n')).toMatch(
      /load\.minSamples[\s\S]*load\.maxDroppedRatio/,
    );
  });

  it('accepts a threshold on a declared custom metric, rejects an aggregation its type lacks', () => {
    expect(thresholdProblems('orders_created', ['count>10'], { orders_created: 'counter' })).toEqual([]);
    expect(thresholdProblems('http_req_failed', ['p(95)<0.1'], {})[0]).toMatch(/is a rate, which has no "p\(95\)"/);
    expect(thresholdProblems('http_req_duration', ['p95 < 200'], {})[0]).toMatch(/not a threshold expression/);
  });

  it('cross-checks phases, the fault link and the target', () => {
    const found = problems({
      ...base,
      load: {
        ...load,
        target: { service: 'api', port: 9999 },
        scenarios: [
          {
            id: 'fault-phase',
            ratePerSec: 5,
            fault: { kind: 'latency', link: 'redis', latencyMs: 300 },
            phases: [
              { name: 'baseline', durationSec: 3 },
              { name: 'fault', durationSec: 3 },
            ],
          },
        ],
      },
    });
    expect(found.join('\n')).toContain('load.target.port port 9999 is not in services.api.ports');
    expect(found.join('\n')).toContain('load.scenarios[0].phases mark exactly one phase fault: true (found 0)');
    expect(found.join('\n')).toContain('load.scenarios[0].fault.link names unknown link "redis"');
  });

  it('cross-checks memory limits and Prometheus memory sources against the services', () => {
    const found = problems({
      ...base,
      load: {
        ...load,
        scenarios: [{ id: 'soak', ratePerSec: 10, durationSec: 5, maxRetainedMemoryMb: { cache: 64 } }],
        resources: {
          services: ['api', 'queue'],
          memoryFromPrometheus: {
            api: { port: 9090, metrics: ['nodejs_heap_size_used_bytes'] },
            worker: { port: 8080, metrics: ['x'] },
          },
        },
      },
    }).join('\n');
    expect(found).toContain('load.scenarios[0].maxRetainedMemoryMb.cache names unknown service "cache"');
    expect(found).toContain('load.resources.memoryFromPrometheus.api.port port 9090 is not in services.api.ports');
    expect(found).toContain('load.resources.memoryFromPrometheus.worker names unknown service "worker"');
    expect(found).toContain('load.resources.services[1] names unknown service "queue"');
  });
});
