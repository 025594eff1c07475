import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResultInput } from '../core/check-result.ts';
import { ToolFailedError } from '../core/errors.ts';
import { createRedactor } from '../core/redact.ts';
import { writeCheckResult } from '../core/results.ts';
import { withFileLock } from '../provision/cache.ts';
import {
  READINESS_CATEGORIES,
  allureTimeoutMs,
  findAnalytics,
  formatProperties,
  generateAllureReport,
  stripAnalytics,
  writeAllureMetadata,
} from './allure.ts';

/** Allure 3's single-file report embeds each data file as `d("<path>","<base64>")`. */
function embeddedFiles(html: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const match of html.matchAll(/d\("([^"]+)","([A-Za-z0-9+/=]*)"\)/g)) {
    files.set(match[1] ?? '', Buffer.from(match[2] ?? '', 'base64').toString('utf8'));
  }
  return files;
}

const CHECKS: CheckResultInput[] = [
  {
    id: 'boot.health-ready',
    stage: 'boot',
    name: 'Health reports ready only with its dependencies',
    feature: 'health',
    status: 'passed',
    severity: 'critical',
    startedAt: 1_000,
    finishedAt: 1_500,
  },
  {
    id: 'load.checkout-p95',
    stage: 'load',
    name: 'Checkout p95 under 300 ms',
    feature: 'latency',
    status: 'failed',
    severity: 'normal',
    message: 'p95 was 512 ms',
    remediation: 'Add an index on orders(customer_id)',
    startedAt: 2_000,
    finishedAt: 9_000,
    metrics: [{ name: 'p95', value: 512, unit: 'ms' }],
    evidence: [{ name: 'k6 summary', contentType: 'application/json', content: '{"p95":512,"token":"abc"}' }],
  },
  {
    id: 'chaos.db-latency',
    stage: 'chaos',
    name: 'Latency toxic took effect on postgres',
    feature: 'faults',
    status: 'broken',
    severity: 'normal',
    message: 'toxic not listed after injection',
    startedAt: 3_000,
    finishedAt: 4_000,
  },
  {
    id: 'recovery.restore',
    stage: 'recovery',
    name: 'Backup restores to a consistent state',
    feature: 'backup',
    status: 'unknown',
    severity: 'normal',
    startedAt: 5_000,
    finishedAt: 5_000,
  },
];

describe('stripAnalytics', () => {
  const page = [
    '<script>window.allureReportOptions = {"reportName":"r"}</script>',
    '<script async src="https://www.googletagmanager.com/gtag/js?id=G-LNDJ3J7WT0"></script>',
    "<script>\n  window.dataLayer = window.dataLayer || [];\n  function gtag(){dataLayer.push(arguments);}\n  gtag('js', new Date());\n</script>",
    '<script src="data:text/javascript;base64,Y29uc29sZS5sb2coMSk="></script>',
  ].join('\n');

  it("removes Allure's Google Tag Manager loader and gtag config and keeps the report's own scripts", () => {
    const out = stripAnalytics(page);
    expect(findAnalytics(page)).toEqual(['index.html']);
    expect(findAnalytics(out)).toEqual([]);
    expect(out).toContain('window.allureReportOptions');
    expect(out).toContain('data:text/javascript;base64,Y29uc29sZS5sb2coMSk=');
    expect(out.match(/<script/g)).toHaveLength(2);
  });

  it('finds analytics hidden inside an embedded script bundle', () => {
    const bundle = Buffer.from('load("https://www.googletagmanager.com/gtag/js")').toString('base64');
    expect(findAnalytics(`<script src="data:text/javascript;base64,${bundle}"></script>`)).toEqual([
      'embedded script bundle',
    ]);
  });
});

describe('formatProperties', () => {
  it('escapes separators, leading spaces, line breaks and non-ASCII', () => {
    expect(formatProperties({ 'b key': ' x=y:z', a: 'line1\nline2', ü: 'ß ✓' })).toBe(
      'a=line1\\nline2\nb\\ key=\\ x\\=y\\:z\n\\u00fc=\\u00df \\u2713\n',
    );
  });
});

describe('allureTimeoutMs', () => {
  it('gives Allure 120 s plus time per result file, so a run of 100,000 checks is not cut at 120 s', () => {
    expect(allureTimeoutMs(0)).toBe(120_000);
    expect(allureTimeoutMs(1_000)).toBe(124_000);
    expect(allureTimeoutMs(100_000)).toBe(520_000);
  });
});

describe('generateAllureReport', () => {
  let dir: string;
  let resultsDir: string;
  let html: string;
  let htmlFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'readiness-report-'));
    resultsDir = join(dir, 'allure-results');
    const redact = createRedactor();
    for (const check of CHECKS) await writeCheckResult(resultsDir, check, redact);
    await writeAllureMetadata(resultsDir, {
      environment: {
        'stack.orders': 'orders:1.4.2 (sha256:abc)',
        'run seed': '42',
        'db.url': 'postgres://db:5432/orders?ssl=true',
      },
      executor: { name: 'readiness', type: 'local', buildName: 'run-20250110', reportName: 'Readiness run-20250110' },
    });
    htmlFile = await generateAllureReport({
      resultsDir,
      outDir: join(dir, 'allure-report'),
      name: 'Readiness run-20250110',
      cwd: dir,
      timeoutMs: 25_000,
    });
    html = await readFile(htmlFile, 'utf8');
  }, 30_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the Allure metadata files into the results directory', async () => {
    const names = await readdir(resultsDir);
    expect(names).toEqual(expect.arrayContaining(['environment.properties', 'executor.json', 'categories.json']));
    expect(JSON.parse(await readFile(join(resultsDir, 'categories.json'), 'utf8'))).toEqual(READINESS_CATEGORIES);
  });

  it('produces one self-contained index.html: no sibling bundles, every script and stylesheet inline', async () => {
    expect(htmlFile).toBe(join(dir, 'allure-report', 'index.html'));
    const files = await readdir(join(dir, 'allure-report'), { recursive: true });
    expect(files.filter((f) => /\.(js|css|woff2?)$/.test(f))).toEqual([]);
    const external = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*"([^"]*)"/g)]
      .map((m) => m[1] ?? '')
      .filter((url) => !url.startsWith('data:'));
    expect(external).toEqual([]);
  });

  it('contains no Google Tag Manager or gtag analytics', () => {
    expect(html).not.toMatch(/googletagmanager/i);
    expect(html).not.toContain('gtag(');
    expect(html).not.toContain('window.dataLayer');
    expect(findAnalytics(html)).toEqual([]);
  });

  it('embeds every check with its name, status, stage and redacted evidence', () => {
    const files = embeddedFiles(html);
    const results = [...files.entries()]
      .filter(([name]) => name.startsWith('data/test-results/'))
      .map(
        ([, json]) =>
          JSON.parse(json) as {
            name: string;
            status: string;
            fullName: string;
            labels: { name: string; value: string }[];
          },
      );
    expect(results.map((r) => [r.fullName, r.name, r.status]).sort()).toEqual(
      CHECKS.map((c) => [c.id, c.name, c.status]).sort(),
    );
    const load = results.find((r) => r.fullName === 'load.checkout-p95');
    expect(load?.labels).toEqual(
      expect.arrayContaining([
        { name: 'parentSuite', value: 'load' },
        { name: 'severity', value: 'normal' },
      ]),
    );
    const attachments = [...files.entries()]
      .filter(([name]) => name.startsWith('data/attachments/'))
      .map(([, content]) => content);
    expect(attachments).toContain('{"p95":512,"token":"[REDACTED]"}');
  });

  it('sorts failed, broken and unknown checks into product, harness and no-evidence categories', () => {
    const categories = JSON.parse(embeddedFiles(html).get('widgets/default/categories.json') ?? '{}') as {
      roots: string[];
      nodes: Record<string, { name: string; statistic?: Record<string, number> }>;
    };
    const roots: Record<string, unknown> = {};
    for (const id of categories.roots) roots[categories.nodes[id]?.name ?? id] = categories.nodes[id]?.statistic;
    expect(roots).toEqual({
      'Product defects': { total: 1, failed: 1 },
      'Harness or environment failures': { total: 1, broken: 1 },
      'No evidence': { total: 1, unknown: 1 },
    });
  });

  it('shows the environment and the executor', () => {
    const environment = JSON.parse(embeddedFiles(html).get('widgets/allure_environment.json') ?? '[]') as {
      name: string;
      values: string[];
    }[];
    expect(environment).toEqual(
      expect.arrayContaining([
        { name: 'stack.orders', values: ['orders:1.4.2 (sha256:abc)'] },
        { name: 'run seed', values: ['42'] },
        { name: 'db.url', values: ['postgres://db:5432/orders?ssl=true'] },
      ]),
    );
    expect(html).toContain('"buildName":"run-20250110"');
    expect(html).toContain('<title> Readiness run-20250110 </title>');
  });

  it('throws with the command, exit code and stderr when Allure fails', async () => {
    const error = await generateAllureReport({
      resultsDir: join(dir, 'no-such-results'),
      outDir: join(dir, 'r2'),
      name: 'x',
      cwd: dir,
      timeoutMs: 25_000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ToolFailedError);
    const message = (error as ToolFailedError).message;
    expect(message).toMatch(/^allure generate exited 1 \(.*cli\.js generate --config .*allurerc\.json/);
    expect(message).toContain('No test results directories found');
    expect(message).not.toContain('\u001b[');
  }, 30_000);

  const hasUnshare = spawnSync('unshare', ['-rn', 'true']).status === 0;
  it.skipIf(!hasUnshare)(
    'generates without any network (run inside an empty network namespace)',
    async () => {
      const outDir = join(dir, 'offline-report');
      const script = `
      const { generateAllureReport } = await import(${JSON.stringify(new URL('./allure.ts', import.meta.url).href)});
      await generateAllureReport({ resultsDir: ${JSON.stringify(resultsDir)}, outDir: ${JSON.stringify(outDir)}, name: 'offline', cwd: ${JSON.stringify(dir)}, timeoutMs: 25000 });`;
      const run = spawnSync('unshare', ['-rn', process.execPath, '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.status, run.stderr).toBe(0);
      const offline = await readFile(join(outDir, 'index.html'), 'utf8');
      expect(embeddedFiles(offline).size).toBeGreaterThan(10);
      expect(findAnalytics(offline)).toEqual([]);
    },
    30_000,
  );
});

describe('generateAllureReport with a shared history', () => {
  it('keeps every run of the reports folder in the history when runs generate at the same time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-history-'));
    try {
      const redact = createRedactor();
      const runs = ['run-a', 'run-b', 'run-c'];
      for (const run of runs) {
        for (const check of CHECKS) await writeCheckResult(join(dir, run, 'allure-results'), check, redact);
      }
      // Allure rewrites the history file in place (trimmed to its limit): unserialised, runs drop each other's line.
      await Promise.all(
        runs.map((run) =>
          generateAllureReport({
            resultsDir: join(dir, run, 'allure-results'),
            outDir: join(dir, run, 'allure-report'),
            name: run,
            cwd: dir,
            historyPath: join(dir, 'history', 'allure-history.jsonl'),
            timeoutMs: 25_000,
          }),
        ),
      );
      const lines = (await readFile(join(dir, 'history', 'allure-history.jsonl'), 'utf8')).trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { name: string }).name).sort()).toEqual(runs);
      expect(await readdir(join(dir, 'history'))).toEqual(['allure-history.jsonl']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('waits for the history lock of another run before touching the history', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readiness-history-lock-'));
    const history = join(dir, 'history', 'allure-history.jsonl');
    try {
      for (const check of CHECKS) await writeCheckResult(join(dir, 'allure-results'), check, createRedactor());
      await mkdir(join(dir, 'history'), { recursive: true });
      let release: () => void = () => undefined;
      let taken: () => void = () => undefined;
      const isTaken = new Promise<void>((resolve) => (taken = resolve));
      // Another run holds the lock (as certify does while Allure rewrites the history).
      const other = withFileLock(`${history}.lock`, async () => {
        taken();
        await new Promise<void>((resolve) => (release = resolve));
      });
      await isTaken;
      const generating = generateAllureReport({
        resultsDir: join(dir, 'allure-results'),
        outDir: join(dir, 'allure-report'),
        name: 'waiting run',
        cwd: dir,
        historyPath: history,
        timeoutMs: 25_000,
      });
      // Longer than a whole generation takes here (~1 s): without the lock the history would exist by now.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await expect(stat(history)).rejects.toThrow(/ENOENT/);
      release();
      await other;
      await generating;
      expect((await readFile(history, 'utf8')).trim().split('\n')).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
