import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolveConfig } from '../config/load-config.ts';
import type { ResolvedConfig } from '../config/load-config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Stage } from '../core/stage.ts';
import { preflight, preflightProblems } from './preflight.ts';

const ROOT = join(import.meta.dirname, '../..');
// Files the test configs name (a k6 script with a syntax error, a bad rules file, bad pacts).
const DIR = 'test/fixtures/configs/preflight';
// The config lives beside them, so the paths it names resolve there; problems show paths from ROOT.
const CONFIG = join(ROOT, DIR, 'readiness.config.ts');
const SHOWN = `${DIR}/readiness.config.ts`;

const services = {
  db: { image: 'postgres:16', ports: [5432] },
  api: { image: 'api:1', ports: [8080] },
};

const load = {
  script: 'ok.js',
  target: { service: 'api', port: 8080 },
  scenarios: [{ id: 'baseline', ratePerSec: 5, durationSec: 5 }],
};

const security = {
  target: { service: 'api', port: 8080 },
  rulesFile: 'bad-rules.tsv',
  auth: { probe: { path: '/me' } },
};

// Who the security stage acts as: a principal and throwaway users like it.
const auth = {
  principals: {
    alice: { scheme: 'basic', username: 'alice@example.test', password: 'pw', role: 'customer' },
  },
  disposable: { like: 'alice', signup: { method: 'POST', path: '/users' } },
};

const contract = { pactDir: 'pacts-bad', providers: { api: { service: 'api', port: 8080 } } };

const chaos = (experimentsDir: string, extra: Record<string, unknown> = {}) => ({
  experimentsDir: join(ROOT, experimentsDir),
  target: { service: 'api', port: 8080 },
  ...extra,
});

function config(raw: Record<string, unknown>): ResolvedConfig {
  return resolveConfig(
    {
      name: 'preflight',
      services,
      links: [{ service: 'db', port: 5432 }],
      ...('security' in raw ? { auth } : {}),
      ...raw,
    },
    CONFIG,
  );
}

const problems = (c: ResolvedConfig, stages: readonly Stage[] = c.stages): Promise<string[]> =>
  preflightProblems(c, stages, ROOT);

describe('preflight', () => {
  it('passes the reference config with every stage it enables', async () => {
    const reference = await loadConfig('readiness.config.ts', ROOT);
    expect(reference.stages.length).toBeGreaterThan(1);
    expect(await problems(reference)).toEqual([]);
  });

  it('names a missing k6 script and one with a syntax error by key, once per key', async () => {
    const c = config({
      stages: ['boot', 'load'],
      load: {
        ...load,
        script: 'missing.js',
        scenarios: [
          { id: 'baseline', ratePerSec: 5, durationSec: 5, script: 'syntax-error.js' },
          { id: 'spike', ratePerSec: 5, durationSec: 5, script: 'syntax-error.js' },
        ],
        knee: { script: 'ok.js', fromRatePerSec: 1, toRatePerSec: 2, durationSec: 5 },
      },
    });
    expect(await problems(c)).toEqual([
      `${SHOWN}: load.script (${DIR}/missing.js) does not exist`,
      `${SHOWN}: load.scenarios[0].script (${DIR}/syntax-error.js) is not valid JavaScript: SyntaxError: missing ) after argument list (line 4)`,
      `${SHOWN}: load.scenarios[1].script (${DIR}/syntax-error.js) is not valid JavaScript: SyntaxError: missing ) after argument list (line 4)`,
    ]);
  });

  it('requires a k6 binary named in the config to be an executable file', async () => {
    const c = config({ stages: ['boot', 'load'], load: { ...load, k6: { binary: 'ok.js' } } });
    expect(await problems(c)).toEqual([`${SHOWN}: load.k6.binary (${DIR}/ok.js) is not executable`]);
  });

  it('parses the security rules file as ZAP would, naming the line', async () => {
    expect(await problems(config({ stages: ['boot', 'security'], security }))).toEqual([
      `${SHOWN}: security.rulesFile: ${DIR}/bad-rules.tsv:3: level "BLOCK" is not one of IGNORE, INFO, WARN, FAIL or OUTOFSCOPE (rule 10038)`,
    ]);
    const missing = config({ stages: ['boot', 'security'], security: { ...security, rulesFile: 'rules.tsv' } });
    expect(await problems(missing)).toEqual([`${SHOWN}: security.rulesFile (${DIR}/rules.tsv) does not exist`]);
  });

  it('reads security.openapi.file as an OpenAPI 3 document, naming the key and the fix (issue 14 point 4)', async () => {
    const rules = `${SHOWN}: security.rulesFile: ${DIR}/bad-rules.tsv:3: level "BLOCK" is not one of IGNORE, INFO, WARN, FAIL or OUTOFSCOPE (rule 10038)`;
    const fix =
      'give the OpenAPI 3 document of the service, use security.openapi: { path } to fetch it from the service, or security.openapi: false when it has none';
    const withFile = (file: string) =>
      problems(config({ stages: ['boot', 'security'], security: { ...security, openapi: { file } } }));
    expect(await withFile('openapi.json')).toEqual([
      rules,
      `${SHOWN}: security.openapi.file (${DIR}/openapi.json) does not exist; ${fix}`,
    ]);
    expect(await withFile('openapi-cut-short.json')).toEqual([
      rules,
      // The parser's own words follow "is not valid JSON:" (V8's wording varies between Node versions).
      expect.stringMatching(
        /^test\/fixtures\/configs\/preflight\/readiness\.config\.ts: security\.openapi\.file \(test\/fixtures\/configs\/preflight\/openapi-cut-short\.json\) is not valid JSON: .+; give the OpenAPI 3 document/,
      ),
    ]);
    expect(await withFile('openapi-swagger.yaml')).toEqual([
      rules,
      `${SHOWN}: security.openapi.file (${DIR}/openapi-swagger.yaml) not an OpenAPI 3.x document: "openapi" is missing (Swagger 2.0 is not supported: convert it to OpenAPI 3); ${fix}`,
    ]);
    // A recorded document, found relative to the config's folder: no problem but the rules file's.
    expect(await withFile('../../security/openapi-orders.json')).toEqual([rules]);
    // From the service or none: nothing on disk to check.
    expect(await problems(config({ stages: ['boot', 'security'], security: { ...security, openapi: false } }))).toEqual(
      [rules],
    );
  });

  it('parses every pact of contract.pactDir, and wants at least one', async () => {
    expect(await problems(config({ stages: ['boot', 'contract'], contract }))).toEqual([
      `${SHOWN}: contract.pactDir (${DIR}/pacts-bad/cut-short.json) is not JSON: Unexpected end of JSON input`,
      `${SHOWN}: contract.pactDir (${DIR}/pacts-bad/no-provider.json) is not a pact file: provider Invalid input: expected object, received undefined`,
    ]);
    const empty = config({ stages: ['boot', 'contract'], contract: { ...contract, pactDir: 'pacts-empty' } });
    expect(await problems(empty)).toEqual([
      `${SHOWN}: contract.pactDir (${DIR}/pacts-empty) has no pact file (*.json); run the consumer tests to write them`,
    ]);
    const missing = config({ stages: ['boot', 'contract'], contract: { ...contract, pactDir: 'pacts' } });
    expect(await problems(missing)).toEqual([
      `${SHOWN}: contract.pactDir (${DIR}/pacts) does not exist; run the consumer tests to write the pacts, or set contract.broker`,
    ]);
  });

  it('leaves pacts to the broker when one is configured', async () => {
    const broker = { url: 'https://broker.example.test', token: 't' };
    const c = config({ stages: ['boot', 'contract'], contract: { ...contract, pactDir: 'pacts', broker } });
    expect(await problems(c)).toEqual([]);
  });

  it('validates every experiment file against the config: schema, links, services, ids', async () => {
    const c = config({
      stages: ['boot', 'chaos'],
      links: [{ name: 'postgres', service: 'db', port: 5432 }],
      chaos: chaos('test/fixtures/chaos/experiments-bad'),
    });
    const BAD = 'test/fixtures/chaos/experiments-bad';
    expect(await problems(c)).toEqual([
      `${BAD}/empty-steady-state.ts: steadyState must list at least one probe (what holds before anything is injected) (received [])`,
      `${BAD}/no-default.ts: has no default export; write export default defineExperiment({ ... })`,
      `${BAD}/same-check-id.ts: during[1].samples must be >= 1 (received 0)`,
      `${BAD}/same-check-id.ts: during[1].name gives the same check id (during.orders-up) as during[0]; name each expectation differently`,
      `${BAD}/unknown-fault-kind.ts: fault.kind must be one of "latency", "down", "timeout", "reset_peer", "bandwidth", "slicer", "limit_data", "slow_close", "container", "signal" (received "lag")`,
      `${BAD}/unknown-fault-kind.ts: steadyState[0].run must be a function (api) => Promise<{ ok, detail }>`,
      `${BAD}/unknown-key.ts: recovery.timeoutMs is not a known key; remove it or check the spelling`,
      `${BAD}/unknown-link.ts: id "unknown-link" is already used by ${BAD}/duplicate-id.ts`,
      `${BAD}/unknown-link.ts: fault.link names unknown link "mysql" (links: postgres)`,
      `${BAD}/unknown-link.ts: steadyState[0].request.service names unknown service "cache" (services: db, api)`,
      `${BAD}/wrong-type.ts: fault.latencyMs must be a number (received "500")`,
    ]);
  });

  it('names what an experiment needs from the config: chaos.ledger and the load section', async () => {
    const c = config({ stages: ['boot', 'chaos'], chaos: chaos('test/fixtures/chaos/experiments-needs') });
    const file = 'test/fixtures/chaos/experiments-needs/ledger-under-load.ts';
    expect(await problems(c)).toEqual([
      `${file}: ledger needs chaos.ledger in ${SHOWN} (how to write, read and list records)`,
      `${file}: load needs the load section of ${SHOWN} (load.script and load.target drive it)`,
    ]);
  });

  it('checks load.script for an experiment under load even when the load stage does not run', async () => {
    const ledger = {
      write: { path: '/orders', body: { n: '{{seq}}' } },
      read: { path: '/orders/{id}' },
      list: { path: '/orders' },
      fingerprint: ['n'],
    };
    const c = config({
      stages: ['boot', 'chaos'],
      chaos: chaos('test/fixtures/chaos/experiments-needs', { ledger }),
      load: { ...load, script: 'missing.js' },
    });
    expect(await problems(c)).toEqual([`${SHOWN}: load.script (${DIR}/missing.js) does not exist`]);
  });

  it('names a missing or empty experiments folder and experiment ids no file has', async () => {
    const missing = config({ stages: ['boot', 'chaos'], chaos: chaos('scenarios/nope') });
    expect(await problems(missing)).toEqual([`${SHOWN}: chaos.experimentsDir (scenarios/nope) does not exist`]);
    const empty = config({ stages: ['boot', 'chaos'], chaos: chaos(`${DIR}/pacts-empty`) });
    expect(await problems(empty)).toEqual([
      `${SHOWN}: chaos.experimentsDir (${DIR}/pacts-empty) has no experiment file; add one (export default defineExperiment({...}))`,
    ]);
    const unknown = config({
      stages: ['boot', 'chaos'],
      links: [{ service: 'db', port: 5432 }],
      chaos: chaos('test/fixtures/chaos/experiments', { experiments: ['no-traffic-link', 'db-latency'] }),
    });
    // The fixtures name links of the reference stack; the unknown id is what matters here.
    expect(await problems(unknown)).toContain(
      `${SHOWN}: chaos.experiments[1] names no experiment of chaos.experimentsDir ("db-latency"; known: interrupt-pause, interrupt-toxic, no-traffic-link)`,
    );
  });

  it('checks build contexts and Dockerfiles of every service', async () => {
    const c = config({
      services: {
        ...services,
        web: { build: { context: 'web' } },
        worker: { build: { context: '.', dockerfile: 'Dockerfile.worker' } },
      },
    });
    expect(await problems(c)).toEqual([
      `${SHOWN}: services.web.build.context (${DIR}/web) does not exist`,
      `${SHOWN}: services.worker.build.dockerfile (${DIR}/Dockerfile.worker) does not exist`,
    ]);
  });

  it('checks only the stages about to run, and throws one ConfigError with every problem', async () => {
    const c = config({
      stages: ['boot', 'load', 'security', 'contract'],
      load: { ...load, script: 'missing.js' },
      security,
      contract,
    });
    expect(await problems(c, ['boot'])).toEqual([]);
    const error = await preflight(c, c.stages, ROOT).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(4);
    expect((error as ConfigError).exitCode).toBe(2);
  });
});

describe('commands that start things run it first', () => {
  it.each([['up'], ['drill', 'wrong-type']])(
    'readiness %s: exit 2 on a bad experiment, nothing written',
    async (...args) => {
      const dir = await mkdtemp(join(tmpdir(), 'readiness-preflight-'));
      const experiments = join(ROOT, 'test/fixtures/chaos/experiments-bad');
      await writeFile(
        join(dir, 'readiness.config.ts'),
        `import base from ${JSON.stringify(join(ROOT, 'readiness.config.ts'))};
export default { ...base, reportsDir: 'reports', chaos: { ...base.chaos, experimentsDir: ${JSON.stringify(experiments)} } };\n`,
      );
      const run = spawnSync(process.execPath, [join(ROOT, 'src/cli/main.ts'), ...args], { cwd: dir, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr).toContain(`${experiments}/wrong-type.ts: fault.latencyMs must be a number (received "500")`);
      expect(await readdir(dir)).toEqual(['readiness.config.ts']);
    },
  );
});
