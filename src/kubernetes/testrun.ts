import { basename } from 'node:path';
import type { LoadConfig, LoadScenario } from '../config/stages/load.ts';
import { buildK6Options } from '../load/k6-options.ts';

/** Where the script and its options are mounted in k6-operator's runner pods (a ConfigMap volume). */
const TESTRUN_SCRIPT_DIR = '/test';

/** A Kubernetes object as `kubectl apply` takes it. */
interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> };
  readonly [field: string]: unknown;
}

interface TestRunInput {
  readonly config: LoadConfig;
  readonly scenario: LoadScenario;
  /** The k6 script's text (the ConfigMap carries it). */
  readonly script: string;
  readonly namespace: string;
  /** The run id: names the objects and labels them, so teardown deletes by label. */
  readonly runId: string;
  /** Runner pods; k6-operator gives each its execution segment of the same total rate. */
  readonly parallelism: number;
  /** In-cluster URL of the load target (`http://orders.<ns>.svc.cluster.local:8080`): the script's `BASE_URL`. */
  readonly baseUrl: string;
  /** A Secret whose keys become env of the runners (credentials from `auth`, never written in the TestRun). */
  readonly secretEnv?: string;
  /** The runner image (default k6-operator's, which is the k6 release image). */
  readonly runnerImage?: string;
}

/** A DNS-1123 name: lower case, digits and dashes, at most 63 characters. */
export function kubeName(...parts: readonly string[]): string {
  const name = parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return name.slice(0, 63).replace(/-$/, '');
}

/**
 * The manifests that run one load scenario on k6-operator: a ConfigMap with the script and the
 * k6 options the local run uses (`buildK6Options`: the same executors, rates, phases and
 * thresholds), and a `k6.io/v1alpha1` `TestRun` with `parallelism` runners. k6-operator hands each
 * runner its `--execution-segment`, so N runners share the configured total rate as N local
 * shards do. Every runner writes its samples as JSON lines on stdout (`--out json=/dev/stdout`,
 * `quiet`), which the harness collects per pod and merges before judging: k6's per-process
 * thresholds cannot judge a sharded run, so they are exported, not trusted.
 */
export function testRunManifests(input: TestRunInput): { readonly configMap: Manifest; readonly testRun: Manifest } {
  const name = kubeName('readiness', input.runId, input.scenario.id);
  const labels = { 'app.kubernetes.io/managed-by': 'readiness', 'readiness.dev/run': kubeName(input.runId) };
  const scriptFile = basename(input.scenario.script ?? input.config.script);
  const optionsFile = `${input.scenario.id}.options.json`;
  const options = buildK6Options(input.config, input.scenario);
  const configMap: Manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: input.namespace, labels },
    data: { [scriptFile]: input.script, [optionsFile]: `${JSON.stringify(options, null, 2)}\n` },
  };
  const env = [
    { name: 'BASE_URL', value: input.baseUrl },
    ...Object.entries(input.config.env).map(([key, value]) => ({ name: key, value })),
    { name: 'K6_NO_USAGE_REPORT', value: 'true' },
  ];
  const testRun: Manifest = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name, namespace: input.namespace, labels },
    spec: {
      parallelism: input.parallelism,
      // Starts the runners together once every pod is up, so the segments cover the same time window.
      separate: false,
      quiet: 'true',
      script: { configMap: { name, file: scriptFile } },
      // `args` is passed to k6 as written (no shell): options from the same builder as local runs.
      args: ['--config', `${TESTRUN_SCRIPT_DIR}/${optionsFile}`, '--out', 'json=/dev/stdout', '--no-color'],
      runner: {
        ...(input.runnerImage ? { image: input.runnerImage } : {}),
        metadata: { labels },
        env,
        ...(input.secretEnv ? { envFrom: [{ secretRef: { name: input.secretEnv } }] } : {}),
        resources: { requests: { cpu: '500m', memory: '256Mi' } },
      },
      // No `cleanup: post`: the runner pods must stay until the harness has read their samples; they go with the run label.
    },
  };
  return { configMap, testRun };
}
