// A real healthy `certify` on the reference stack: the run folder holds every artifact, the
// manifest verifies with sha256sum, and Allure's quality gate agrees with the verdict.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import { readCertification } from '../../src/certify/index.ts';
import { ensureChromium } from '../../src/provision/chromium.ts';
import { pdfPageCount } from '../../src/report/certificate-pdf.ts';
import { qualityGateRecordSchema } from '../../src/report/quality-gate.ts';
import { LABELS } from '../../src/stack/labels.ts';
import { MAIN, ROOT } from '../support/harness.ts';

let project: string | undefined;

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

function run(args: readonly string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd, env: { ...process.env, FRAGILE: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

describe('npm run certify writes a complete, sealed run folder', () => {
  it('healthy boot run: every artifact, sha256sum -c passes, the quality gate agrees, nothing left running', async () => {
    // `--stages boot` leaves out stages the config enables: a partial run, PASSED_PARTIAL, never CERTIFIED.
    // The PDF needs Chromium: fail loudly with the fix rather than certify without it.
    await ensureChromium({ install: false }).catch((error: unknown) => {
      throw new Error(
        `Chromium is required and missing: run "node src/cli/main.ts provision --for test" as root, or "apt-get install -y chromium". (${String(error)})`,
        { cause: error },
      );
    });
    project = await mkdtemp(join(tmpdir(), 'readiness-report-certify-'));
    const reports = join(project, 'reports');
    await writeFile(
      join(project, 'readiness.config.ts'),
      `import base from ${JSON.stringify(join(ROOT, 'readiness.config.ts'))};
export default { ...base, reportsDir: ${JSON.stringify(reports)}, suitesDir: ${JSON.stringify(join(ROOT, 'suites'))} };\n`,
    );
    const certify = await run(['certify', '--stages', 'boot'], project);
    expect(certify.code, certify.stderr).toBe(0);
    const runs = (await readdir(reports)).filter((n) => n !== 'latest' && n !== 'history');
    expect(runs).toHaveLength(1);
    const runId = runs[0]!;
    const dir = join(reports, runId);

    for (const file of [
      'certification.json',
      'summary.md',
      'junit.xml',
      'quality-gate.json',
      'allure-report/index.html',
      'certificate.html',
      'certificate.pdf',
      'evidence.sha256',
      'manifest.sha256',
      'stack-handle.json',
      'logs/orders.log',
    ]) {
      expect((await stat(join(dir, file))).size, file).toBeGreaterThan(0);
    }
    const cert = await readCertification(join(dir, 'certification.json'));
    expect(cert).toMatchObject({ verdict: 'PASSED_PARTIAL', partial: true, validUntil: null });
    expect(cert.stagesNotRun).not.toContain('boot');
    expect(cert.stagesNotRun.length).toBeGreaterThan(0);
    const gate = qualityGateRecordSchema.parse(JSON.parse(await readFile(join(dir, 'quality-gate.json'), 'utf8')));
    expect(gate).toMatchObject({
      outcome: 'passed',
      gateVerdict: 'PASSED_PARTIAL',
      verdict: 'PASSED_PARTIAL',
      agrees: true,
    });
    expect(certify.stdout).toContain(
      'Allure quality gate passed (0 rule(s) failed) -> PASSED_PARTIAL, agrees with the verdict',
    );
    expect(certify.stdout).toContain('Partial run: not a certification. Stages not run: ');
    expect(await readFile(join(dir, 'summary.md'), 'utf8')).toContain('agrees with the verdict');

    const check = spawnSync('sha256sum', ['--strict', '-c', 'manifest.sha256'], { cwd: dir, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const evidenceHash = spawnSync('sha256sum', ['evidence.sha256'], { cwd: dir, encoding: 'utf8' }).stdout.split(
      ' ',
    )[0];
    const certificate = await readFile(join(dir, 'certificate.html'), 'utf8');
    expect(certificate).toContain(`<code id="evidence-hash">${evidenceHash ?? 'none'}</code>`);
    expect(certificate).toContain('data-verdict="PASSED_PARTIAL"');
    expect(certificate).toContain('Partial run: not a certification. Stages not run: ');
    const pages = pdfPageCount(await readFile(join(dir, 'certificate.pdf')));
    expect(pages).toBeGreaterThanOrEqual(1);
    expect(pages).toBeLessThanOrEqual(2);
    const junit = await readFile(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuite name="boot" tests="\d+" failures="0" errors="0"/);
    expect((await readFile(join(reports, 'history', 'allure-history.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(
      1,
    );

    const report = await run(['report'], project);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain(`run ${runId}`);
    expect(report.stdout).toContain('manifest: every file matches manifest.sha256');

    const docker = (await getContainerRuntimeClient()).container.dockerode;
    const filters = JSON.stringify({ label: [`${LABELS.runId}=${runId}`] });
    expect(await docker.listContainers({ all: true, filters })).toHaveLength(0);
  });
});
