import { join } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { describe, expect, it } from 'vitest';
import { readCertification } from '../../src/certify/index.ts';
import { readCheckResults } from '../../src/core/results.ts';
import { containerIdOf, readStackHandle } from '../../src/stack/stack-handle.ts';
import { ToxiproxyApi } from '../../src/stack/toxiproxy-api.ts';
import { ROOT, leftovers, onlyRun, referenceProject, runCli as cli } from '../support/harness.ts';
import type { Project } from '../support/harness.ts';

/**
 * The reference config with its reports in a temp folder; optionally other chaos experiments, or only
 * some of the reference ones (a defect run needs only the experiments that must catch it).
 */
function chaosProject(
  options: { experimentsDir?: string; experiments?: readonly string[]; derivedOnly?: boolean } = {},
): Promise<Project> {
  const overrides = options.derivedOnly
    ? 'chaos: { ...base.chaos, experimentsDir: false, experiments: undefined, derived: {} }'
    : options.experimentsDir
      ? `chaos: { ...base.chaos, experimentsDir: ${JSON.stringify(options.experimentsDir)}, shuffle: false }`
      : options.experiments
        ? `chaos: { ...base.chaos, experiments: ${JSON.stringify(options.experiments)} }`
        : '';
  return referenceProject('chaos', overrides);
}

const EXPERIMENTS = [
  'orders-kill',
  'payments-flaky',
  'payments-unresponsive',
  'postgres-down',
  'postgres-latency',
  'postgres-restart',
  'postgres-unresponsive',
  'redis-down',
  'reset-during-writes',
];

/** Each planted defect, the experiment check that must fail for it, and the remediation it must carry. */
const DEFECTS: readonly { defect: string; experiments: readonly string[]; check: RegExp; remediation: RegExp }[] = [
  {
    defect: 'no-timeout',
    experiments: ['postgres-unresponsive'],
    check: /^chaos\.postgres-unresponsive\.during\.every-request-answers-within-2-s-503-is-fine-a-hang-is-not$/,
    remediation: /Bound every database call/,
  },
  {
    defect: 'no-breaker',
    experiments: ['payments-unresponsive'],
    check: /^chaos\.payments-unresponsive\.during\.breaker-open-orders-answer-pending-payment-within-200-ms$/,
    remediation: /circuit breaker/,
  },
  {
    defect: 'no-retry',
    experiments: ['payments-flaky'],
    check: /^chaos\.payments-flaky\.during\.retries-keep/,
    remediation: /Retry failed payments attempts/,
  },
  {
    defect: 'no-idempotency',
    experiments: ['reset-during-writes'],
    check: /^chaos\.reset-during-writes\.ledger$/,
    remediation: /Idempotency-Key with the record/,
  },
  {
    defect: 'no-redis-fallback',
    experiments: ['redis-down'],
    check: /^chaos\.redis-down\.during\.orders-list-keeps-answering-200$/,
    remediation: /in-process rate limiter/,
  },
  // Every experiment that cuts Postgres connections catches it (reset-during-writes resets them):
  // the first of them in the seeded order fails its recovery, and the stack stays broken for the others.
  {
    defect: 'no-reconnect',
    experiments: ['postgres-restart', 'postgres-down', 'postgres-unresponsive', 'reset-during-writes'],
    check: /^chaos\.(postgres-(restart|down|unresponsive)|reset-during-writes)\.recovery$/,
    remediation: /[Rr]econnect|connection pool that discards/,
  },
  {
    defect: 'lossy-writes',
    experiments: ['orders-kill'],
    check: /^chaos\.orders-kill\.ledger$/,
    remediation: /only once it is committed/,
  },
];

describe('chaos stage on the reference stack', () => {
  it('healthy: exit 0, chaos passed, every experiment proved its fault took effect, nothing left running', async () => {
    const { dir, reports } = await chaosProject();
    const run = await cli(dir, ['certify', '--stages', 'chaos'], { FRAGILE: '' });
    expect(run.code, run.stderr).toBe(0);
    const runDir = await onlyRun(reports);
    const cert = await readCertification(join(runDir, 'certification.json'));
    expect(cert.stages.chaos.status).toBe('passed');
    expect(cert.stages.chaos.passRate).toBe(1);
    const { checks } = await readCheckResults(join(runDir, 'allure-results'));
    const effects = checks.filter((c) => c.id.endsWith('.fault-effect'));
    expect(effects.map((c) => c.id.split('.')[1]).sort()).toEqual(EXPERIMENTS);
    for (const effect of effects) expect(effect.status, `${effect.id}: ${effect.message}`).toBe('passed');
    const recovery = checks.find((c) => c.id === 'chaos.postgres-down.recovery');
    expect(recovery?.metrics.map((m) => m.name)).toContain('time_to_recover_ms');
    expect(effects.find((c) => c.id === 'chaos.postgres-down.fault-effect')?.metrics.map((m) => m.name)).toContain(
      'time_to_detect_ms',
    );
    expect(checks.find((c) => c.id === 'chaos.orders-kill.ledger')?.message).toMatch(/0 lost, 0 duplicated/);
    // redis-down runs behind k6: one check per phase, every phase's figures as metrics.
    const underLoad = checks
      .filter((c) => c.id.startsWith('chaos.redis-down.load.'))
      .sort((a, b) => a.id.localeCompare(b.id));
    expect(underLoad.map((c) => [c.id, c.status])).toEqual([
      ['chaos.redis-down.load.baseline', 'passed'],
      ['chaos.redis-down.load.fault', 'passed'],
      ['chaos.redis-down.load.recovery', 'passed'],
    ]);
    expect(underLoad[1]?.metrics.map((m) => m.name)).toEqual(
      expect.arrayContaining(['baseline_p95_ms', 'fault_p95_ms', 'fault_rps', 'fault_error_rate', 'recovery_p95_ms']),
    );
    expect(effects[0]?.parameters['replay']).toMatch(/^readiness drill [a-z-]+ --seed \d+$/);
    expect(await leftovers(runDir)).toBe(0);
  });

  it('healthy, the derived matrix only (no hand-written experiment): exit 0, every cell proved its fault, nothing left running', async () => {
    const { dir, reports } = await chaosProject({ derivedOnly: true });
    const run = await cli(dir, ['certify', '--stages', 'chaos'], { FRAGILE: '' });
    expect(run.code, run.stderr).toBe(0);
    const runDir = await onlyRun(reports);
    const cert = await readCertification(join(runDir, 'certification.json'));
    expect(cert.stages.chaos.status).toBe('passed');
    expect(cert.stages.chaos.passRate).toBe(1);
    const { checks } = await readCheckResults(join(runDir, 'allure-results'));
    const effects = checks.filter((c) => c.id.endsWith('.fault-effect'));
    // Each link down, slow and resetting; each service killed and paused.
    const links = ['postgres', 'redis', 'payments'].flatMap((l) =>
      ['down', 'slow', 'reset'].map((f) => `derived-${l}-${f}`),
    );
    const services = ['postgres', 'redis', 'payments', 'orders', 'orders-b', 'lb'].flatMap((s) =>
      ['kill', 'pause'].map((f) => `derived-${s}-${f}`),
    );
    expect(effects.map((c) => c.id.split('.')[1]).sort()).toEqual([...links, ...services].sort());
    for (const check of checks.filter((c) => c.id.startsWith('chaos.')))
      expect(check.status, `${check.id}: ${check.message}`).toBe('passed');
    expect(checks.find((c) => c.id === 'chaos.derived-orders-kill.ledger')?.message).toMatch(/0 lost, 0 duplicated/);
    expect(checks.find((c) => c.id === 'chaos.derived-postgres-reset.ledger')?.message).toMatch(/0 lost, 0 duplicated/);
    expect(await leftovers(runDir)).toBe(0);
  });

  // Each defect runs the experiments that must catch it (the healthy run above runs them all).
  for (const { defect, experiments, check, remediation } of DEFECTS) {
    it(`FRAGILE=${defect}: exit 1, ${check.source} failed with a remediation, nothing left running`, async () => {
      const { dir, reports } = await chaosProject({ experiments });
      const run = await cli(dir, ['certify', '--stages', 'chaos'], { FRAGILE: defect });
      expect(run.code, run.stderr).toBe(1);
      const runDir = await onlyRun(reports);
      const cert = await readCertification(join(runDir, 'certification.json'));
      expect(cert.verdict).toBe('FAILED_PARTIAL');
      expect(cert.stages.chaos.status).toBe('failed');
      // Later experiments' checks can be unknown (planned, not run on a stack the defect broke): one must be failed.
      const { checks } = await readCheckResults(join(runDir, 'allure-results'));
      const named = checks.filter((c) => check.test(c.id));
      const failed = named.find((c) => c.status === 'failed');
      expect(failed, named.map((c) => `${c.id}: ${c.status}: ${c.message ?? ''}`).join('\n')).toBeDefined();
      const failure = cert.criticalFailures.find((f) => f.check === failed?.id);
      expect(failure, cert.criticalFailures.map((f) => `${f.check}: ${f.message}`).join('\n')).toBeDefined();
      expect(failure?.remediation).toMatch(remediation);
      expect(await leftovers(runDir)).toBe(0);
    });
  }
});

describe('readiness drill on a stack left running by readiness up', () => {
  it('reports a fault the probed route never crosses as broken, and Ctrl-C leaves no toxic or paused container', async () => {
    const { dir, reports } = await chaosProject({ experimentsDir: join(ROOT, 'test/fixtures/chaos/experiments') });
    const up = await cli(dir, ['up'], { FRAGILE: '' });
    expect(up.code, up.stderr).toBe(0);
    const handle = await readStackHandle(join(reports, 'stack-handle.json'));
    try {
      const broken = await cli(dir, ['drill', 'no-traffic-link', '--seed', '5'], {});
      expect(broken.code, broken.stderr).toBe(3);
      expect(broken.stdout).toMatch(/BROKEN\s+chaos\.no-traffic-link\.fault-effect/);
      expect(broken.stdout).toMatch(/The fault did not take effect: the system shows no effect/);
      // Expectations of a fault that did not take effect have no evidence: unknown, never skipped or passed.
      expect(broken.stdout).toMatch(/UNKNOWN\s+chaos\.no-traffic-link\.during\.liveness-stays-200/);
      expect(broken.stdout).toContain('replay: readiness drill no-traffic-link --seed 5');

      const api = new ToxiproxyApi(handle.toxiproxy!.apiUrl);
      const docker = (await getContainerRuntimeClient()).container.dockerode;
      for (const id of ['interrupt-pause', 'interrupt-toxic']) {
        let sent = false;
        const run = await cli(dir, ['drill', id], {}, (text, interrupt) => {
          if (!sent && text.includes(`PASSED  chaos.${id}.fault-effect`)) {
            sent = true;
            setTimeout(interrupt, 300);
          }
        });
        expect(sent, run.stderr).toBe(true);
        expect(run.code, run.stderr).toBe(130);
        const proxies = await api.listProxies();
        for (const [name, proxy] of Object.entries(proxies)) {
          expect(proxy.toxics, `toxics left on ${name}`).toEqual([]);
          expect(proxy.enabled, `${name} left disabled`).toBe(true);
        }
        for (const [name, service] of Object.entries(handle.services)) {
          const state = await docker.getContainer(containerIdOf(handle, name)).inspect();
          expect(state.State.Paused, `${service.containerName} left paused`).toBe(false);
          expect(state.State.Running, `${service.containerName} left stopped`).toBe(true);
        }
      }
    } finally {
      const down = await cli(dir, ['down'], {});
      expect(down.code, down.stderr).toBe(0);
    }
    expect(await leftovers(handle.runId)).toBe(0);
  });
});
