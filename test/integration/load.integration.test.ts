import { readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCertification } from '../../src/certify/index.ts';
import { readCheckResults } from '../../src/core/results.ts';
import { readKneeFigures } from '../../src/load/knee.ts';
import { ROOT, leftovers, onlyRun, referenceProject, runCli } from '../support/harness.ts';
import type { CliRun, Project } from '../support/harness.ts';

/**
 * The reference config with the load stage from examples/reference-stack/load.ts (whether or not it is
 * enabled there), reports in a temp folder; `only` keeps the scenarios a defect run needs.
 */
function loadProject(only?: { scenarios: string[]; knee: boolean; runners?: number }): Promise<Project> {
  const keep = only ? JSON.stringify(only.scenarios) : 'undefined';
  return referenceProject(
    'load',
    `stages: [...base.stages.filter((s) => s !== 'load'), 'load'],
  load: {
    ...load.config,
    scenarios: load.config.scenarios.filter((s) => keep === undefined || keep.includes(s.id)),
    ${only && !only.knee ? 'knee: undefined,' : ''}
    ${only?.runners === undefined ? '' : `runners: ${only.runners},`}
  },
  policy: { ...base.policy, stages: { ...base.policy.stages, load: load.policy } }`,
    `import { load } from ${JSON.stringify(join(ROOT, 'examples/reference-stack/load.ts'))};
const keep = ${keep};`,
  );
}

function certify(dir: string, fragile: string): Promise<CliRun> {
  return runCli(dir, ['certify', '--stages', 'load'], { FRAGILE: fragile });
}

describe('load stage (k6) on the reference stack', () => {
  it('healthy: the load stage passes with p95/p99/rps/error rate per scenario and phase, and a knee', async () => {
    const { dir, reports } = await loadProject();
    const run = await certify(dir, '');
    const folder = await onlyRun(reports);
    const cert = await readCertification(join(folder, 'certification.json'));
    expect(cert.stages.load.status, run.stdout).toBe('passed');
    expect(run.code, run.stderr).toBe(0);
    const { checks } = await readCheckResults(join(folder, 'allure-results'));
    const load = checks.filter((c) => c.stage === 'load');
    // A fresh reports folder has no earlier CERTIFIED run: the capacity comparison is not applicable.
    expect(load.filter((c) => c.status !== 'passed').map((c) => [c.id, c.status, c.message])).toEqual([
      [
        'load.capacity.regression',
        'not-applicable',
        `Not applicable: no earlier CERTIFIED run of ${cert.name ?? ''}: this run's figures are the baseline`,
      ],
    ]);
    const fault = load.find((c) => c.id === 'load.fault-phase.http_req_duration.phase-fault.p95');
    expect(fault?.metrics.map((m) => m.name)).toEqual(
      expect.arrayContaining(['samples', 'p95_ms', 'p99_ms', 'rps', 'error_rate']),
    );
    // A per-tag check carries its own requests' figures: the list requests of the steady phase.
    const list = load.find((c) => c.id === 'load.baseline.http_req_duration.phase-steady.name-list.p95');
    const steady = load.find((c) => c.id === 'load.baseline.http_req_duration.phase-steady.p95');
    const requests = (c: typeof list): number | undefined => c?.metrics.find((m) => m.name === 'requests')?.value;
    expect(requests(list)).toBeGreaterThanOrEqual(50);
    expect(requests(list)).toBeLessThan(requests(steady) ?? 0);
    // k6 held every planned rate: nothing dropped.
    expect(load.filter((c) => c.metrics.some((m) => m.name === 'dropped_iterations' && m.value > 0))).toEqual([]);
    // One check per scenario carries every phase's figures and the services' resources.
    const perPhase = load.find(
      (c) => c.id.startsWith('load.fault-phase.') && c.metrics.some((m) => m.name === 'fault_p95_ms'),
    );
    expect(perPhase?.metrics.map((m) => m.name)).toEqual(
      expect.arrayContaining([
        'baseline_p95_ms',
        'fault_p95_ms',
        'recovery_p95_ms',
        'fault_rps',
        'orders_memory_max_mb',
      ]),
    );
    const retained = load.find((c) => c.id === 'load.soak-short.memory-retained.orders');
    expect(retained?.metrics.find((m) => m.name === 'memory_retained_mb')?.value).toBeLessThan(96);
    // Without a floor the knee is a figure in the run folder, not a check counted in the pass rate.
    expect(load.find((c) => c.id === 'load.knee')).toBeUndefined();
    const knee = await readKneeFigures(join(folder, 'load', 'knee.json'));
    expect(knee.status).toBe('measured');
    expect(knee.maxReachedRatePerSec).toBeGreaterThan(0);
    expect((await stat(join(folder, 'load', 'baseline.summary.json'))).size).toBeGreaterThan(0);
    expect(await leftovers(folder)).toBe(0);
  });

  const defects = [
    {
      fragile: 'slow-list',
      scenarios: ['baseline'],
      check: 'load.baseline.http_req_duration.phase-steady.name-list.p95',
      text: /p\(95\)<200 on http_req_duration\{phase:steady,name:list\}/,
    },
    {
      fragile: 'leak',
      scenarios: ['soak-short'],
      check: 'load.soak-short.memory-retained.orders',
      text: /orders kept [\d.]+ MB of memory \(nodejs_heap_size_used_bytes \+ nodejs_external_memory_bytes\) after the load/,
    },
    {
      fragile: 'no-timeout',
      scenarios: ['fault-phase'],
      check: 'load.fault-phase.http_req_duration.phase-fault.p95',
      text: /\[phase fault\]/,
    },
  ];
  for (const defect of defects) {
    it(`FRAGILE=${defect.fragile}: the load stage fails on ${defect.check}`, async () => {
      const { dir, reports } = await loadProject({ scenarios: defect.scenarios, knee: false });
      const run = await certify(dir, defect.fragile);
      expect(run.code, run.stderr).toBe(1);
      const folder = await onlyRun(reports);
      const cert = await readCertification(join(folder, 'certification.json'));
      expect(cert.stages.load.status).toBe('failed');
      const failure = cert.criticalFailures.find((f) => f.check === defect.check);
      expect(failure?.message).toMatch(defect.text);
      // Caught as the system's failure: the generator held its rate (else the check would be broken).
      const { checks } = await readCheckResults(join(folder, 'allure-results'));
      expect(checks.find((c) => c.id === defect.check)?.status, failure?.message).toBe('failed');
      expect(await leftovers(folder)).toBe(0);
    });
  }

  it('FRAGILE=small-pool: only load.capacity.regression fails, on the slow-db fault phase against the last CERTIFIED run', async () => {
    // The same config twice in one reports folder: healthy first (the baseline), then one Postgres connection.
    const { dir, reports } = await loadProject({ scenarios: ['slow-db'], knee: false });
    const healthy = await certify(dir, '');
    expect(healthy.code, healthy.stderr).toBe(0);
    const baseline = await realpath(join(reports, 'latest'));
    // A load-only run is PASSED_PARTIAL, and only a CERTIFIED run is a baseline: promote this one (its load
    // figures are a healthy run's; a full certify to get one would take five minutes).
    const certFile = join(baseline, 'certification.json');
    const cert = JSON.parse(await readFile(certFile, 'utf8')) as { verdict: string };
    expect(cert.verdict).toBe('PASSED_PARTIAL');
    await writeFile(certFile, JSON.stringify({ ...cert, verdict: 'CERTIFIED' }));
    const run = await certify(dir, 'small-pool');
    const folder = await realpath(join(reports, 'latest'));
    expect(folder).not.toBe(baseline);
    const { checks } = await readCheckResults(join(folder, 'allure-results'));
    const load = checks.filter((c) => c.stage === 'load');
    // Every threshold of the scenario still holds: a pool of one fails fast within its SLO.
    expect(load.filter((c) => c.status !== 'passed').map((c) => [c.id, c.status])).toEqual([
      ['load.capacity.regression', 'failed'],
    ]);
    const regression = load.find((c) => c.id === 'load.capacity.regression');
    expect(regression?.message).toMatch(/slow-db\.fault\.error-rate: [\d.]+ now, [\d.]+ in the baseline/);
    expect(regression?.parameters.baseline).toBe(basename(baseline));
    expect(run.code, run.stderr).toBe(1);
    expect(await leftovers(folder)).toBe(0);
  });

  describe('load.runners: 2 (each scenario as 2 k6 processes on execution segments, judged on the merged samples)', () => {
    it('healthy: the baseline and fault-phase scenarios and the knee pass, each judged on the requests of both runners', async () => {
      const { dir, reports } = await loadProject({ scenarios: ['baseline', 'fault-phase'], knee: true, runners: 2 });
      const run = await certify(dir, '');
      const folder = await onlyRun(reports);
      const { checks } = await readCheckResults(join(folder, 'allure-results'));
      const load = checks.filter((c) => c.stage === 'load');
      expect(
        load.filter((c) => c.status !== 'passed' && c.id !== 'load.capacity.regression').map((c) => [c.id, c.message]),
      ).toEqual([]);
      expect(run.code, run.stderr).toBe(0);
      const metric = (id: string, name: string): number | undefined =>
        load.find((c) => c.id === id)?.metrics.find((m) => m.name === name)?.value;
      // Both scenarios ran as 2 processes, each with its own segment's summary and no sample file left.
      for (const scenario of ['baseline', 'fault-phase']) {
        const first = load.find(
          (c) => c.id.startsWith(`load.${scenario}.`) && c.metrics.some((m) => m.name === 'k6_runners'),
        );
        expect(first?.metrics.find((m) => m.name === 'k6_runners')?.value).toBe(2);
        expect(first?.metrics.find((m) => m.name === 'dropped_iterations')?.value).toBe(0);
        for (const i of [1, 2]) {
          expect((await stat(join(folder, 'load', `${scenario}.runner-${i}.summary.json`))).size).toBeGreaterThan(0);
          await expect(stat(join(folder, 'load', `${scenario}.runner-${i}.samples.ndjson`))).rejects.toThrow(/ENOENT/);
        }
      }
      // The knee probe ran as 2 runners too, its windows judged on both runners' requests.
      for (const i of [1, 2])
        expect((await stat(join(folder, 'load', `knee.runner-${i}.summary.json`))).size).toBeGreaterThan(0);
      const knee = await readKneeFigures(join(folder, 'load', 'knee.json'));
      expect(knee.status, knee.message).toBe('measured');
      expect(knee.maxReachedRatePerSec).toBeGreaterThan(0);
      // The steady phase at 30/s for 15 s: the merged count is the whole rate's, not one runner's half.
      expect(metric('load.baseline.http_req_duration.phase-steady.p95', 'requests')).toBeGreaterThan(15 * 30 * 0.9);
      expect(metric('load.baseline.http_req_duration.phase-steady.name-list.p95', 'requests')).toBeGreaterThanOrEqual(
        50,
      );
      // The fault fired once on the shared time origin: the fault phase is slower than the baseline one.
      const faultP95 = metric('load.fault-phase.http_req_duration.phase-fault.p95', 'p95_ms') ?? 0;
      const baselineP95 =
        metric('load.fault-phase.http_req_duration.phase-baseline.p95', 'p95_ms') ?? Number.POSITIVE_INFINITY;
      expect(faultP95).toBeGreaterThan(baselineP95);
      expect(await leftovers(folder)).toBe(0);
    });

    for (const defect of defects.filter((d) => d.fragile !== 'no-timeout')) {
      it(`FRAGILE=${defect.fragile}: still caught with 2 runners on ${defect.check}`, async () => {
        const { dir, reports } = await loadProject({ scenarios: defect.scenarios, knee: false, runners: 2 });
        const run = await certify(dir, defect.fragile);
        expect(run.code, run.stderr).toBe(1);
        const folder = await onlyRun(reports);
        const cert = await readCertification(join(folder, 'certification.json'));
        const failure = cert.criticalFailures.find((f) => f.check === defect.check);
        expect(failure?.message).toMatch(defect.text);
        const { checks } = await readCheckResults(join(folder, 'allure-results'));
        expect(checks.find((c) => c.id === defect.check)?.status, failure?.message).toBe('failed');
        const ran = checks.find(
          (c) =>
            c.id.startsWith(`load.${defect.scenarios[0] ?? ''}.`) && c.metrics.some((m) => m.name === 'k6_runners'),
        );
        expect(ran?.metrics.find((m) => m.name === 'k6_runners')?.value).toBe(2);
        expect(await leftovers(folder)).toBe(0);
      });
    }
  });
});
