import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { readCertification } from '../../src/certify/index.ts';
import { readCheckResults } from '../../src/core/results.ts';
import { ROOT, leftovers, onlyRun, referenceProject, runCli } from '../support/harness.ts';

/** The OASIS SARIF 2.1.0 schema as an npm package ships it (a devDependency), not a vendored copy. */
const SARIF_SCHEMA = 'node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json';

/** `readiness certify --stages security` with FRAGILE set; resolves with the exit code and the run folder. */
async function certifySecurity(fragile: string): Promise<{ code: number | null; stderr: string; runDir: string }> {
  const { dir, reports } = await referenceProject('security');
  const { code, stderr } = await runCli(dir, ['certify', '--stages', 'security'], { FRAGILE: fragile });
  return { code, stderr, runDir: await onlyRun(reports) };
}

async function validateSarif(file: string): Promise<unknown[]> {
  const schema = JSON.parse(await readFile(join(ROOT, SARIF_SCHEMA), 'utf8')) as Record<string, unknown>;
  const { $schema: _draft, id, ...rest } = schema;
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false }); // rtm.5 has a pattern that is invalid in unicode mode
  formats.default(ajv);
  const validate = ajv.compile({ ...rest, $id: String(id) });
  return validate(JSON.parse(await readFile(file, 'utf8'))) ? [] : (validate.errors ?? []);
}

describe('readiness certify --stages security on the reference stack', () => {
  it('healthy: the security stage passes, ZAP is skipped with its reason, the SARIF file validates', async () => {
    const run = await certifySecurity('');
    const cert = await readCertification(join(run.runDir, 'certification.json'));
    const { checks } = await readCheckResults(join(run.runDir, 'allure-results'));
    const security = checks.filter((c) => c.stage === 'security');
    const notPassed = security
      .filter((c) => c.status !== 'passed')
      .map((c) => `${c.id}: ${c.status} ${c.message ?? ''}`);
    expect(notPassed).toEqual([
      expect.stringMatching(/^security\.scanner\.zap: skipped the ZAP image .* cannot be had/),
    ]);
    expect(cert.stages.security.status).toBe('passed');
    expect(cert.stages.security.passRate).toBe(1);
    expect(security.length).toBeGreaterThanOrEqual(25);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    expect(await validateSarif(join(run.runDir, 'security.sarif'))).toEqual([]);
    expect(await leftovers(cert.runId)).toBe(0);
  });

  const defects = [
    { fragile: 'weak-jwt', check: 'security.authn.tampered-signature', message: /forged signature accepted/ },
    { fragile: 'bola', check: 'security.authz.object-level.order', message: /bob read alice's order/ },
    { fragile: 'no-ratelimit', check: 'security.ratelimit.burst', message: /no 429 after 110 requests/ },
    { fragile: 'leaky-errors', check: 'security.errors.malformed-json', message: /leaks a "stack" field/ },
    { fragile: 'no-headers', check: 'security.headers.required', message: /missing Content-Security-Policy/ },
    {
      fragile: 'weak-jwt-secret',
      check: 'security.authn.weak-secret',
      message: /verifies with entry \d+ of the shipped list of well-known weak secrets, "ch…" \(35 characters\)/,
      // Only the signing-key checks: the claim checks sign with the key the config hands over, which is the service's.
      only: ['security.authn.secret-strength', 'security.authn.weak-secret'],
    },
  ] as const satisfies readonly { fragile: string; check: string; message: RegExp; only?: readonly string[] }[];

  for (const defect of defects) {
    it(`FRAGILE=${defect.fragile}: the stage fails naming ${defect.check}, with a remediation`, async () => {
      const run = await certifySecurity(defect.fragile);
      expect(run.code, run.stderr.slice(-3000)).toBe(1);
      const cert = await readCertification(join(run.runDir, 'certification.json'));
      expect(cert.verdict).toBe('FAILED_PARTIAL');
      expect(cert.stages.security.status).toBe('failed');
      const failure = cert.criticalFailures.find((f) => f.check === defect.check);
      expect(failure?.message).toMatch(defect.message);
      expect(failure?.remediation.length).toBeGreaterThan(20);
      if ('only' in defect) {
        const { checks } = await readCheckResults(join(run.runDir, 'allure-results'));
        const failed = checks.filter((c) => c.stage === 'security' && c.status === 'failed').map((c) => c.id);
        expect(failed.sort()).toEqual(defect.only);
      }
      expect(await leftovers(cert.runId)).toBe(0);
    });
  }
});
