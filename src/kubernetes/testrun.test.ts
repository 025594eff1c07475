import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigSchema } from '../config/stages/load.ts';
import { kubeName, testRunManifests } from './testrun.ts';

type Schema = Record<string, unknown>;

/** The TestRun CRD's schema with unknown fields refused wherever the CRD does not preserve them (strict field validation). */
function strictCrdSchema(): Schema {
  const crd = parse(
    readFileSync(new URL('../../test/fixtures/k6-operator/k6.io_testruns.yaml', import.meta.url), 'utf8'),
  ) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
  };
  const version = crd.spec.versions.find((v) => v.name === 'v1alpha1');
  if (!version) throw new Error('the CRD has no v1alpha1');
  const strict = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strict);
    if (node === null || typeof node !== 'object') return node;
    const out: Schema = {};
    for (const [key, value] of Object.entries(node as Schema)) {
      if (key.startsWith('x-kubernetes-') || key === 'nullable') continue;
      out[key] =
        key === 'properties'
          ? Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, strict(v)]))
          : strict(value);
    }
    const preserve = (node as Schema)['x-kubernetes-preserve-unknown-fields'] === true;
    if (out['properties'] && out['additionalProperties'] === undefined && !preserve)
      out['additionalProperties'] = false;
    // int-or-string fields (resource quantities) are either.
    if ((node as Schema)['x-kubernetes-int-or-string'] === true) {
      delete out['type'];
      out['anyOf'] = [{ type: 'integer' }, { type: 'string' }];
    }
    return out;
  };
  return strict(version.schema.openAPIV3Schema) as Schema;
}

const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
const validateTestRun = ajv.compile(strictCrdSchema());

const config = loadConfigSchema.parse({
  script: 'scenarios/load/orders-mix.js',
  target: { service: 'orders', port: 8080 },
  env: { THINK_MS: '50' },
  slo: { p95Ms: 300, maxErrorRate: 0.01 },
  scenarios: [
    {
      id: 'baseline-and-fault',
      ratePerSec: 40,
      phases: [
        { name: 'baseline', durationSec: 20 },
        { name: 'fault', durationSec: 20, fault: true },
      ],
      fault: { kind: 'latency', link: 'postgres', latencyMs: 200 },
    },
  ],
});
const scenario = config.scenarios[0]!;

describe('k6-operator TestRun generator', () => {
  const { configMap, testRun } = testRunManifests({
    config,
    scenario,
    script: 'export default function () {}\n',
    namespace: 'readiness-run-1',
    runId: '20261206T091500Z-ab12',
    parallelism: 4,
    baseUrl: 'http://orders.readiness-run-1.svc.cluster.local:8080',
    secretEnv: 'readiness-auth',
  });

  it('validates against the CRD schema of k6-operator, unknown fields refused', () => {
    const valid = validateTestRun(testRun);
    expect(validateTestRun.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema check can fail: a misspelt field and a wrong type are refused', () => {
    const spec = testRun['spec'] as Record<string, unknown>;
    expect(validateTestRun({ ...testRun, spec: { ...spec, paralelism: 2 } })).toBe(false);
    expect(validateTestRun({ ...testRun, spec: { ...spec, parallelism: '4' } })).toBe(false);
    expect(validateTestRun({ ...testRun, spec: { ...spec, cleanup: 'always' } })).toBe(false);
  });

  it('runs the local options (same executors, rates and phases) with N runners sharing the total rate', () => {
    const spec = testRun['spec'] as {
      parallelism: number;
      args: string[];
      script: { configMap: { name: string; file: string } };
    };
    expect(spec.parallelism).toBe(4);
    expect(spec.script.configMap).toEqual({ name: configMap.metadata.name, file: 'orders-mix.js' });
    expect(spec.args).toEqual([
      '--config',
      '/test/baseline-and-fault.options.json',
      '--out',
      'json=/dev/stdout',
      '--no-color',
    ]);
    const data = configMap['data'] as Record<string, string>;
    const options = JSON.parse(data['baseline-and-fault.options.json'] ?? '{}') as {
      scenarios: Record<string, { rate: number; startTime: string }>;
    };
    expect(Object.keys(options.scenarios)).toEqual(['baseline', 'fault']);
    expect(options.scenarios['fault']).toMatchObject({ rate: 40, startTime: '20s' });
  });

  it('labels both objects with the run for teardown by label, and keeps credentials in a Secret', () => {
    expect(testRun.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'readiness',
      'readiness.dev/run': '20261206t091500z-ab12',
    });
    expect(configMap.metadata.labels).toEqual(testRun.metadata.labels);
    const runner = (testRun['spec'] as { runner: { env: { name: string; value: string }[]; envFrom: unknown[] } })
      .runner;
    expect(runner.env).toContainEqual({
      name: 'BASE_URL',
      value: 'http://orders.readiness-run-1.svc.cluster.local:8080',
    });
    expect(runner.envFrom).toEqual([{ secretRef: { name: 'readiness-auth' } }]);
  });

  it('makes DNS-1123 names', () => {
    expect(kubeName('readiness', 'Run_1', 'Mixed--Load')).toBe('readiness-run-1-mixed-load');
    expect(kubeName('x'.repeat(80)).length).toBe(63);
  });
});
