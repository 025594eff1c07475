import { generateKeyPairSync } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { propertyRisks, readCertification } from '../../src/certify/index.ts';
import { readCheckResults } from '../../src/core/results.ts';
import { htmlEscape, skippedChecks } from '../../src/report/index.ts';
import { ROOT, credentialLeaks, leftovers, onlyRun, referenceProject, runCli } from '../support/harness.ts';
import type { CliRun } from '../support/harness.ts';

/** `readiness certify [args]` in the project with extra env. */
function certify(
  dir: string,
  env: Record<string, string>,
  onStderr?: (text: string, interrupt: () => void) => void,
  args: readonly string[] = [],
): Promise<CliRun> {
  return runCli(dir, ['certify', ...args], env, onStderr);
}

describe('npm run certify on the reference stack', () => {
  it('certifies the healthy stack: exit 0, boot passed, report and logs written, nothing left running', async () => {
    const { dir, reports } = await referenceProject('certify');
    // Signed as CI would sign it: an ed25519 key in the environment.
    const keys = generateKeyPairSync('ed25519');
    const publicKey = join(dir, 'signing.pub.pem');
    await writeFile(publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const run = await certify(dir, { FRAGILE: '', READINESS_SIGNING_KEY: privateKey });
    expect(run.code, run.stderr).toBe(0);
    const runDir = await onlyRun(reports);
    const cert = await readCertification(join(runDir, 'certification.json'));
    expect(cert.verdict).toBe('CERTIFIED');
    expect(cert.stages.boot.status).toBe('passed');
    expect(cert.stages.boot.passRate).toBe(1);
    expect(cert.stages.boot.counts.passed).toBeGreaterThanOrEqual(5);
    expect(run.stdout).toContain('CERTIFIED');
    // A skipped check (ZAP where its image cannot be had) is on the certificate with its reason.
    const certificate = await readFile(join(runDir, 'certificate.html'), 'utf8');
    // The page shows the first six; the reference stack skips at most the ZAP scan.
    for (const skipped of skippedChecks(cert).slice(0, 6)) {
      expect(certificate).toContain(`<b>${skipped.check}</b>`);
      // The page clips a reason to 120 characters (119 and an ellipsis).
      expect(certificate).toContain(htmlEscape(skipped.reason.replace(/\s+/g, ' ').trim().slice(0, 119)));
    }
    // Readiness properties: every critical one proven (no risk), the coverage on the page; a first run has no baseline.
    expect(cert.propertyCoverage?.proven).toBeGreaterThanOrEqual(20);
    expect(propertyRisks(cert.properties)).toEqual([]);
    expect(certificate).toContain('Every critical readiness property is proven.');
    expect(certificate).toContain(
      `<p class="coverage" id="property-coverage">${String(cert.propertyCoverage?.proven)} of ${String(cert.propertyCoverage?.total)} proven`,
    );
    expect(cert.changes).toMatchObject({
      baseline: null,
      note: 'No earlier CERTIFIED run of config "reference-stack" in the reports folder.',
    });
    const html = await readFile(join(runDir, 'allure-report/index.html'), 'utf8');
    expect(html).not.toMatch(/googletagmanager/i);
    for (const service of ['orders', 'payments', 'postgres', 'redis', 'toxiproxy']) {
      expect((await stat(join(runDir, 'logs', `${service}.log`))).size).toBeGreaterThan(0);
    }
    const { checks } = await readCheckResults(join(runDir, 'allure-results'));
    const truth = checks.find((c) => c.id === 'boot.readiness-truth.orders.postgres');
    expect(truth?.status).toBe('passed');
    expect(truth?.metrics.map((m) => m.name)).toEqual(['time_to_detect_ms', 'time_to_recover_ms']);
    expect(await leftovers(runDir)).toBe(0);
    // No credential in any file of the run folder: the config's secrets (passwords, JWT secret) and
    // the tokens minted during the run (JWTs, bearer tokens: k6 exports, logs, attachments, reports).
    const { default: reference } = (await import(join(ROOT, 'readiness.config.ts'))) as {
      default: { secrets: string[] };
    };
    expect(reference.secrets.length).toBeGreaterThanOrEqual(4);
    expect(await credentialLeaks(runDir, reference.secrets)).toEqual([]);
    // The sealed folder verifies against the pinned key, and no longer once one byte changes.
    const verified = await runCli(dir, ['verify', runDir, '--key', publicKey]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const certFile = join(runDir, 'certification.json');
    const bytes = await readFile(certFile);
    bytes[bytes.indexOf(0x20)] = 0x09; // one indentation space becomes a tab: still valid JSON
    await writeFile(certFile, bytes);
    const tampered = await runCli(dir, ['verify', runDir, '--key', publicKey]);
    expect(tampered.code, tampered.stdout + tampered.stderr).toBe(1);
  });

  it('FRAGILE=lying-health: exit 1, FAILED_PARTIAL, the readiness-truth check failed with a remediation', async () => {
    const { dir, reports } = await referenceProject('certify');
    // The boot stage alone: the other stages' own defect tests live in their files.
    const run = await certify(dir, { FRAGILE: 'lying-health' }, undefined, ['--stages', 'boot']);
    expect(run.code, run.stderr).toBe(1);
    const runDir = await onlyRun(reports);
    const cert = await readCertification(join(runDir, 'certification.json'));
    // `--stages boot` is a partial run: never a certification.
    expect(cert.verdict).toBe('FAILED_PARTIAL');
    expect(cert.stages.boot.status).toBe('failed');
    const failure = cert.criticalFailures.find((f) => f.check === 'boot.readiness-truth.orders.postgres');
    expect(failure?.message).toMatch(/kept answering 200 .* readiness does not tell the truth/);
    expect(failure?.remediation).toMatch(/answer 503 while it is unreachable/);
    // The failed property heads the risks of the certificate, with the failed check's remediation.
    const truth = cert.properties.find((p) => p.id === 'operability.truthful-health');
    expect(truth).toMatchObject({ status: 'failed', remediation: failure?.remediation });
    const certificate = await readFile(join(runDir, 'certificate.html'), 'utf8');
    const risks = certificate.slice(certificate.indexOf('id="risks"'));
    expect(risks).toMatch(
      /^id="risks"><h2>Risks: \d+ critical properties not proven<\/h2><ul class="critical"><li data-property="operability\.truthful-health"><b>Readiness tells the truth<\/b> <span class="status failed">failed<\/span>/,
    );
    expect(risks).toContain(`Fix: ${htmlEscape(failure?.remediation ?? '')}`);
    expect(await leftovers(runDir)).toBe(0);
  });

  it('Ctrl-C while the stack starts: exit 130, the run folder and certification written, no container or network left', async () => {
    const { dir, reports } = await referenceProject('certify');
    let sent = false;
    const run = await certify(dir, { FRAGILE: '' }, (text, kill) => {
      if (!sent && /starting (orders|payments)/.test(text)) {
        sent = true;
        kill();
      }
    });
    expect(sent).toBe(true);
    expect(run.code, run.stderr).toBe(130);
    const runDir = await onlyRun(reports);
    const cert = await readCertification(join(runDir, 'certification.json'));
    expect(cert.verdict).toBe('NOT_CERTIFIED');
    expect(await leftovers(runDir)).toBe(0);
  });
});
