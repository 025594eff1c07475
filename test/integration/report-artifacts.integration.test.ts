// The end of a run without containers: synthetic check results -> every artifact of the run folder,
// the certificate checked in a real headless Chromium, the PDF's pages, the manifest with sha256sum,
// Allure's history across two runs, and `readiness report` (show, compare, serve) as a spawned CLI.
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as playwright } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCertification } from '../../src/certify/index.ts';
import { parseSigningKey } from '../../src/certify/sign.ts';
import type { SigningKey } from '../../src/certify/sign.ts';
import type { CheckResultInput } from '../../src/core/check-result.ts';
import { createRedactor } from '../../src/core/redact.ts';
import { writeCheckResult } from '../../src/core/results.ts';
import { STAGES } from '../../src/core/stage.ts';
import type { PolicyConfig } from '../../src/config/schema.ts';
import { CHROMIUM_HEADLESS_ARGS, ensureChromium } from '../../src/provision/chromium.ts';
import { pdfPageCount } from '../../src/report/certificate-pdf.ts';
import { qualityGateRecordSchema } from '../../src/report/quality-gate.ts';
import { writeRunArtifacts } from '../../src/report/run-artifacts.ts';
import type { RunArtifacts } from '../../src/report/run-artifacts.ts';
import { MAIN, ROOT } from '../support/harness.ts';

const RUN_1 = '20250101-100000-aaaa';
const RUN_2 = '20250102-100000-bbbb';

const POLICY: PolicyConfig = {
  stages: { load: { minPassRate: 0.5, weight: 1 } },
  critical: { severities: ['blocker', 'critical'], ids: [] },
  skippable: ['security.zap*'],
  conditionalMargin: 0.1,
  validityDays: 30,
  conditionalExitCode: 4,
  strict: false,
};

let chromiumPath: string;
let signingKey: SigningKey;
let publicKeyFile: string;
let reports: string;
let project: string;
const runs: Record<string, RunArtifacts> = {};

/** Healthy first run; the second run regresses a critical boot check and fixes nothing. */
function checksOf(run: 1 | 2): CheckResultInput[] {
  const base: CheckResultInput[] = STAGES.map((stage) => ({
    id: `${stage}.main`,
    stage,
    name: `${stage} main check`,
    feature: 'main',
    status: 'passed',
    severity: 'normal',
    startedAt: 1_000,
    finishedAt: 1_400,
  }));
  base.push(
    {
      id: 'boot.readiness-truth',
      stage: 'boot',
      name: 'Readiness tells the truth',
      feature: 'health',
      status: run === 1 ? 'passed' : 'failed',
      severity: 'critical',
      ...(run === 2 ? { message: 'kept answering 200 while postgres was down' } : {}),
      remediation: 'Check the database in /health/ready and answer 503 while it is unreachable',
      startedAt: 2_000,
      finishedAt: 7_000,
      // Same value in both runs: a metric is an Allure parameter, and until core/results.ts marks
      // metric parameters `excluded`, a changed value gives the check a new Allure historyId.
      metrics: [{ name: 'time_to_detect_ms', value: 800, unit: 'ms' }],
    },
    {
      id: 'load.checkout-p95',
      stage: 'load',
      name: 'Checkout p95 under 300 ms',
      feature: 'latency',
      status: 'passed',
      severity: 'normal',
      startedAt: 8_000,
      finishedAt: 9_000,
      metrics: [{ name: 'p95_ms', value: 210, unit: 'ms' }],
    },
    {
      id: 'security.zap.baseline',
      stage: 'security',
      name: 'ZAP baseline scan',
      feature: 'scanners',
      status: 'skipped',
      severity: 'normal',
      message: 'the ZAP image cannot be had on this machine',
      startedAt: 9_000,
      finishedAt: 9_000,
    },
  );
  return base;
}

async function certifyRun(runId: string, run: 1 | 2): Promise<RunArtifacts> {
  const runDir = join(reports, runId);
  const resultsDir = join(runDir, 'allure-results');
  await mkdir(resultsDir, { recursive: true });
  const redact = createRedactor([]);
  for (const check of checksOf(run)) await writeCheckResult(resultsDir, check, redact);
  if (run === 2) await writeFile(join(runDir, 'security.sarif'), '{"version":"2.1.0","runs":[]}\n');
  return writeRunArtifacts({
    runDir,
    resultsDir,
    reportsDir: reports,
    runId,
    stackName: 'report-test',
    policy: POLICY,
    enabledStages: [...STAGES],
    selectedStages: [...STAGES],
    startedAt: new Date(`2025-01-0${run.toString()}T10:00:00Z`),
    finishedAt: new Date(`2025-01-0${run.toString()}T10:05:00Z`),
    seed: 4242,
    git: { sha: 'fedcba9876543210fedcba9876543210fedcba98', dirty: false },
    environment: { stack: 'report-test', seed: '4242' },
    executor: { name: 'readiness', type: 'local', buildName: runId },
    images: { 'postgres:16': 'postgres:16' },
    chromium: { path: chromiumPath },
    redact,
    cwd: ROOT,
    // The first run is signed, the second is not (and says so).
    ...(run === 1 ? { signing: { kind: 'key' as const, key: signingKey } } : {}),
  });
}

/** GET with the path sent as written (fetch would normalise dot segments away). */
function rawStatus(base: string, path: string): Promise<number | undefined> {
  const { hostname, port } = new URL(base);
  return new Promise((resolveStatus, reject) => {
    get({ host: hostname, port, path }, (response) => {
      response.resume();
      resolveStatus(response.statusCode);
    }).on('error', reject);
  });
}

function cli(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { cwd: project, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  try {
    chromiumPath = await ensureChromium({ install: false });
  } catch (error) {
    throw new Error(
      `Chromium is required for the certificate tests and is missing: run "node src/cli/main.ts provision --for test" as root, or "apt-get install -y chromium". (${String(error)})`,
      { cause: error },
    );
  }
  project = await mkdtemp(join(tmpdir(), 'readiness-report-'));
  reports = join(project, 'reports');
  const pair = generateKeyPairSync('ed25519');
  signingKey = parseSigningKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'test key');
  publicKeyFile = join(project, 'signing.pub.pem');
  await writeFile(publicKeyFile, pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  await writeFile(
    join(project, 'readiness.config.ts'),
    `import base from ${JSON.stringify(join(ROOT, 'readiness.config.ts'))};\nexport default { ...base, reportsDir: ${JSON.stringify(reports)} };\n`,
  );
  runs[RUN_1] = await certifyRun(RUN_1, 1);
  runs[RUN_2] = await certifyRun(RUN_2, 2);
});

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

describe('run folder artifacts', () => {
  it('writes every artifact, and the verdict, the gate and the exit code agree', async () => {
    const first = runs[RUN_1]!;
    const second = runs[RUN_2]!;
    expect(first.warnings).toEqual([]);
    expect(first.cert.verdict).toBe('CERTIFIED');
    expect(first.gate).toMatchObject({ outcome: 'passed', gateVerdict: 'CERTIFIED', agrees: true });
    expect(first.exitCode).toBe(0);
    expect(second.cert.verdict).toBe('NOT_CERTIFIED');
    expect(second.gate).toMatchObject({ outcome: 'failed', gateVerdict: 'NOT_CERTIFIED', agrees: true });
    expect(second.gate.failedRules.map((r) => r.rule)).toContain('block:critical/maxCount');
    expect(second.exitCode).toBe(1);
    expect(first.signature).toEqual({ status: 'signed', keyid: signingKey.keyid, source: 'test key' });
    expect(first.files.attestation).toBe('certification.intoto.jsonl');
    expect(second.signature.status).toBe('unsigned');
    expect(second.files.attestation).toBeNull();
    expect(second.warnings).toContainEqual(expect.stringMatching(/^unsigned: no signing key was given/));
    const dir = join(reports, RUN_2);
    for (const file of [
      'certification.json',
      'summary.md',
      'junit.xml',
      'quality-gate.json',
      'quality-gate.allurerc.mjs',
      'allure-report/index.html',
      'certificate.html',
      'certificate.pdf',
      'evidence.sha256',
      'manifest.sha256',
      'security.sarif',
    ]) {
      expect((await stat(join(dir, file))).size, file).toBeGreaterThan(0);
    }
    expect(second.files.sarif).toBe('security.sarif');
    expect(
      qualityGateRecordSchema.parse(JSON.parse(await readFile(join(dir, 'quality-gate.json'), 'utf8'))).agrees,
    ).toBe(true);
    expect((await readCertification(join(dir, 'certification.json'))).verdict).toBe('NOT_CERTIFIED');
    const junit = await readFile(join(dir, 'junit.xml'), 'utf8');
    expect(junit.match(/<testcase /g)).toHaveLength(checksOf(2).length);
    expect(junit).toContain('<failure message="kept answering 200 while postgres was down" type="failed">');
  });

  it('seals the folder: sha256sum -c passes and the certificate shows the evidence manifest hash', async () => {
    const dir = join(reports, RUN_2);
    const check = spawnSync('sha256sum', ['--strict', '-c', 'manifest.sha256'], { cwd: dir, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const listed = (await readFile(join(dir, 'manifest.sha256'), 'utf8')).trim().split('\n');
    expect(listed.some((l) => l.endsWith('  certificate.pdf'))).toBe(true);
    expect(listed.some((l) => l.endsWith('  security.sarif'))).toBe(true);
    const evidenceHash = spawnSync('sha256sum', ['evidence.sha256'], { cwd: dir, encoding: 'utf8' }).stdout.split(
      ' ',
    )[0];
    const html = await readFile(join(dir, 'certificate.html'), 'utf8');
    expect(html).toContain(`<code id="evidence-hash">${evidenceHash ?? 'none'}</code>`);
    expect(await readFile(join(dir, 'evidence.sha256'), 'utf8')).not.toMatch(/certificate\.(html|pdf)/);
  });

  it('keeps Allure history across runs: trends, metrics and the regressed check in the second report', async () => {
    const history = (await readFile(join(reports, 'history', 'allure-history.jsonl'), 'utf8')).trim().split('\n');
    expect(history).toHaveLength(2);
    const html = await readFile(join(reports, RUN_2, 'allure-report', 'index.html'), 'utf8');
    const files = new Map<string, string>();
    for (const match of html.matchAll(/d\("([^"]+)","([A-Za-z0-9+/=]*)"\)/g)) {
      files.set(match[1] ?? '', Buffer.from(match[2] ?? '', 'base64').toString('utf8'));
    }
    const results = [...files.entries()]
      .filter(([name]) => name.startsWith('data/test-results/'))
      .map(([, body]) => JSON.parse(body) as { name: string; transition?: string });
    expect(results.find((r) => r.name === 'Readiness tells the truth')?.transition).toBe('regressed');
    const metrics = JSON.parse(files.get('widgets/metrics.json') ?? '{}') as {
      current?: { key: string; value: number }[];
      history?: unknown[];
    };
    expect(metrics.current?.find((m) => m.key === 'boot.readiness-truth:time_to_detect_ms')?.value).toBe(800);
    expect(metrics.history).toHaveLength(1);
    expect(html).not.toMatch(/googletagmanager/i);
  });

  it('shows the certificate in a real browser without JavaScript: verdict and stage table visible; PDF of 1-2 pages', async () => {
    const dir = join(reports, RUN_2);
    const profile = await mkdtemp(join(tmpdir(), 'readiness-browser-'));
    const context = await playwright.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: CHROMIUM_HEADLESS_ARGS.filter((arg) => arg !== '--headless'),
      javaScriptEnabled: false,
      viewport: { width: 1000, height: 1300 },
    });
    try {
      const page = await context.newPage();
      await page.goto(`file://${join(dir, 'certificate.html')}`);
      const verdict = page.locator('#verdict');
      expect(await verdict.isVisible()).toBe(true);
      expect((await verdict.textContent())?.trim()).toBe('NOT CERTIFIED');
      const table = page.locator('#stage-table');
      expect(await table.isVisible()).toBe(true);
      expect(await table.locator('tbody tr').count()).toBe(6);
      expect(await table.locator('tr[data-stage="boot"] td.status').textContent()).toBe('failed');
      expect(await page.locator('#critical-failures').textContent()).toContain(
        'Fix: Check the database in /health/ready and answer 503',
      );
      expect(await page.locator('#trend circle').count()).toBe(2);
      const screenshot = await page.screenshot({ path: join(project, 'certificate.png'), fullPage: true });
      expect(screenshot.subarray(1, 4).toString()).toBe('PNG');
      expect(screenshot.length).toBeGreaterThan(20_000);
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
    const pages = pdfPageCount(await readFile(join(dir, 'certificate.pdf')));
    expect(pages).toBeGreaterThanOrEqual(1);
    expect(pages).toBeLessThanOrEqual(2);
  });
});

describe('readiness report (spawned CLI)', () => {
  it('shows the latest run: verdict, gate, manifest check and paths', () => {
    const { code, stdout, stderr } = cli(['report']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`run ${RUN_2}`);
    expect(stdout).toContain('Verdict: NOT CERTIFIED');
    expect(stdout).toContain('agrees with the verdict');
    expect(stdout).toContain('manifest: every file matches manifest.sha256');
    expect(stdout).toMatch(/certificate\.html\s+one-page certificate/);
    expect(stdout).toMatch(/security\.sarif\s+SARIF/);
  });

  it('verify: the signed run is intact and signed by the pinned key, but expired; one changed byte fails it', async () => {
    const first = cli(['verify', join(reports, RUN_1), '--key', publicKeyFile]);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('manifest: every file matches manifest.sha256');
    expect(first.stdout).toContain('signature: verified with the pinned key');
    expect(first.stdout).toContain('validity: EXPIRED (CERTIFIED was valid until 2025-01-31T10:05:00.000Z)');
    const file = join(reports, RUN_1, 'certification.json');
    const original = await readFile(file);
    const changed = Buffer.from(original);
    changed[changed.indexOf('"seed": 4242') + 9] = '5'.charCodeAt(0);
    await writeFile(file, changed);
    try {
      const tampered = cli(['verify', join(reports, RUN_1), '--key', publicKeyFile]);
      expect(tampered.code).toBe(1);
      expect(tampered.stdout).toContain('signature: INVALID (certification.json does not match its signed SHA-256');
    } finally {
      await writeFile(file, original);
    }
    const second = cli(['verify', join(reports, RUN_2)]);
    expect(second.stdout).toContain('signature: unsigned');
  });

  it('--open without a desktop prints the file URL', () => {
    const result = spawnSync(process.execPath, [MAIN, 'report', '--open'], {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '' },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `no desktop to open a browser; open file://${join(reports, RUN_2, 'allure-report', 'index.html')}`,
    );
  });

  it('--compare lists the regressed check and the stage pass rate change', () => {
    const { code, stdout, stderr } = cli(['report', '--compare', RUN_1]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`Comparing ${RUN_1} (CERTIFIED) -> ${RUN_2} (NOT CERTIFIED)`);
    expect(stdout).toMatch(/boot\s+100\.0%\s+50\.0%\s+-50\.0 pt/);
    expect(stdout).toContain(
      'Regressed (passed before, not now):\n  - [boot] boot.readiness-truth (passed -> failed): kept answering 200 while postgres was down',
    );
    const unknown = cli(['report', '--compare', 'no-such-run']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no run "no-such-run"');
  });

  it('reports a run folder modified after sealing', async () => {
    const summary = join(reports, RUN_1, 'summary.md');
    const original = await readFile(summary, 'utf8');
    await writeFile(summary, `${original}edited\n`);
    try {
      const { code, stdout } = cli(['report', '--run', RUN_1]);
      expect(code).toBe(3);
      expect(stdout).toContain('THE RUN FOLDER WAS MODIFIED after sealing (changed: summary.md)');
    } finally {
      await writeFile(summary, original);
    }
  });

  it('--serve serves the run folder on 127.0.0.1 until Ctrl-C, and nothing outside it', async () => {
    const child = spawn(process.execPath, [MAIN, 'report', '--serve'], { cwd: project });
    let stdout = '';
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL within 60 s: ${stdout}`)), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /serving .* at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
        if (match?.[1]) {
          clearTimeout(timer);
          resolveUrl(match[1]);
        }
      });
    });
    try {
      const certificate = await fetch(`${url}certificate.html`);
      expect(certificate.status).toBe(200);
      expect(certificate.headers.get('content-type')).toContain('text/html');
      expect(await certificate.text()).toContain('id="stage-table"');
      expect((await fetch(`${url}allure-report/`)).status).toBe(200);
      const index = await (await fetch(url)).text();
      expect(index).toContain('<a href="/certificate.pdf">');
      // An encoded slash survives URL normalisation, so the server itself must refuse the escape.
      expect(await rawStatus(url, `/..%2f${RUN_1}/certification.json`)).toBe(403);
      expect((await fetch(`${url}missing.txt`)).status).toBe(404);
    } finally {
      const exit = new Promise<number | null>((resolveExit) => child.on('close', resolveExit));
      child.kill('SIGINT');
      expect(await exit).toBe(0);
    }
    expect(stdout).toContain('server stopped');
  });
});
