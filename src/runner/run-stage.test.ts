import { describe, expect, it } from 'vitest';
import { failFastReason, noSuiteCheck, skipReason, suiteFailureMessage } from './run-stage.ts';

describe('noSuiteCheck', () => {
  it('is an unknown critical check naming both folders searched', () => {
    const check = noSuiteCheck(
      { stage: 'load', builtInSuitesDir: '/pkg/suites', config: { suitesDir: '/repo/suites' } },
      5,
    );
    expect(check).toEqual({
      id: 'load.no-suite',
      name: 'No load suite found',
      feature: 'harness',
      severity: 'critical',
      status: 'unknown',
      message:
        'No suite file for the load stage in /pkg/suites/load (built in) or /repo/suites/load (config suitesDir; expected *.suite.ts): the load stage has no evidence',
      remediation: 'Add a suite under /repo/suites/load or remove "load" from the config\'s stages',
      startedAt: 5,
      finishedAt: 5,
    });
  });
});

describe('suiteFailureMessage', () => {
  const base = { suite: 'authn', interrupted: false, deadlinePassed: false, stageMs: 60000, what: 'failed' };

  it("says the suite's own error", () => {
    expect(suiteFailureMessage({ ...base, error: new Error('boom') })).toBe('Suite authn failed: boom');
    expect(suiteFailureMessage({ ...base, what: 'could not plan its checks', error: 'no handle' })).toBe(
      'Suite authn could not plan its checks: no handle',
    );
  });

  it('puts an interrupt before the deadline, and the deadline before the error', () => {
    expect(suiteFailureMessage({ ...base, interrupted: true, deadlinePassed: true, error: new Error('x') })).toBe(
      'Interrupted while running authn',
    );
    expect(suiteFailureMessage({ ...base, deadlinePassed: true, error: new Error('x') })).toBe(
      'Suite authn did not finish within deadlines.stageMs=60000ms',
    );
  });
});

describe('skipReason', () => {
  it('runs a suite unless the run was interrupted or --fail-fast stopped the stage', () => {
    const file = '/suites/security/authn.suite.ts';
    expect(skipReason({ file, interrupted: false, stopReason: undefined })).toBeUndefined();
    expect(skipReason({ file, interrupted: true, stopReason: failFastReason('boot.x') })).toBe(
      'the run was interrupted before suite authn ran',
    );
    expect(skipReason({ file, interrupted: false, stopReason: failFastReason('boot.x') })).toBe(
      'not run: --fail-fast stopped after boot.x failed',
    );
  });
});
