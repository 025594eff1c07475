// The certificate as a reader sees it: the pages of recorded real runs of the reference stack (a full
// CERTIFIED run, and the same run with the recorded planted-defect stages) rendered in a real headless
// Chromium without JavaScript, screenshotted, and probed for layout: the verdict, the key figures, the
// failed property and its fix must be laid out visibly (non-zero boxes on the page, not covered by
// another element, not clipped, not overlapping other sections), and the risks on the first A4 page.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as playwright } from 'playwright-core';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { propertyRisks } from '../../src/certify/properties.ts';
import { CHROMIUM_HEADLESS_ARGS, findChromium } from '../../src/provision/chromium.ts';
import { printPdf } from '../../src/report/certificate-pdf.ts';
import { renderCertificateHtml } from '../../src/report/certificate.ts';
import type { CertificateModel } from '../../src/report/certificate.ts';
import { formatFigureValue } from '../../src/report/summary.ts';
import { recordedCertificateModel } from '../support/recorded-certificate.ts';

/** A4 at CSS 96 dpi: the viewport is one sheet; its printable height is the sheet less the page margins (11 mm each). */
const MM = 96 / 25.4;
const A4 = { width: Math.round(210 * MM), height: Math.round(297 * MM) };
const FIRST_PAGE_BOTTOM = (297 - 22) * MM;

/** The figures a release review reads first, shown on the page whenever the run measured them. */
const KEY_FIGURES = ['load.knee', 'load.baseline.p95', 'load.baseline.p99', 'load.baseline.error-rate', 'recovery.rto'];

/** The page's sections, which must not overlap one another. */
const SECTIONS = ['header', '#risks', 'section.facts', '#stage-table', '#property-coverage', '#key-figures', '#trend'];

/** The few DOM members the probes read inside the page (the project compiles without the DOM library). */
interface ProbedElement {
  readonly scrollWidth: number;
  readonly clientWidth: number;
  contains(other: ProbedElement | null): boolean;
}
declare const document: {
  elementFromPoint(x: number, y: number): ProbedElement | null;
  readonly documentElement: { readonly scrollHeight: number };
};
declare function getComputedStyle(element: ProbedElement): {
  readonly fontSize: string;
  readonly visibility: string;
  readonly opacity: string;
  readonly overflowX: string;
};

interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

let chromium: string;
let dir: string;
let context: BrowserContext;

beforeAll(async () => {
  const found = await findChromium();
  if (found === undefined)
    throw new Error(
      'Chromium is required to render the certificate and is missing: run "node src/cli/main.ts provision --for test" as root, or "apt-get install -y chromium".',
    );
  chromium = found;
  dir = await mkdtemp(join(tmpdir(), 'readiness-certificate-render-'));
  context = await playwright.launchPersistentContext(join(dir, 'profile'), {
    executablePath: chromium,
    headless: true,
    args: CHROMIUM_HEADLESS_ARGS.filter((arg) => arg !== '--headless'),
    javaScriptEnabled: false,
    viewport: A4,
    deviceScaleFactor: 1,
  });
});

afterAll(async () => {
  await context.close();
  await rm(dir, { recursive: true, force: true });
});

async function box(locator: Locator): Promise<Box> {
  const found = await locator.boundingBox();
  if (found === null) throw new Error(`${locator.toString()} has no layout box (not rendered)`);
  return found;
}

const overlap = (a: Box, b: Box): boolean =>
  a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;
const inside = (inner: Box, outer: Box): boolean =>
  inner.x >= outer.x - 0.5 &&
  inner.y >= outer.y - 0.5 &&
  inner.x + inner.width <= outer.x + outer.width + 0.5 &&
  inner.y + inner.height <= outer.y + outer.height + 0.5;

/**
 * Asserts that the element is laid out where a reader sees it: visible, a non-zero box inside the page's
 * width, readable type, its text not clipped, and on top at its centre (no other element covers it).
 */
async function expectSeen(locator: Locator): Promise<Box> {
  expect(await locator.isVisible(), `${locator.toString()} is visible`).toBe(true);
  const b = await box(locator);
  expect(b.width, `${locator.toString()} width`).toBeGreaterThan(4);
  expect(b.height, `${locator.toString()} height`).toBeGreaterThan(4);
  expect(b.x, `${locator.toString()} left edge`).toBeGreaterThanOrEqual(0);
  expect(b.x + b.width, `${locator.toString()} right edge`).toBeLessThanOrEqual(A4.width);
  const probe = await locator.evaluate(
    (node: unknown, at) => {
      const el = node as ProbedElement;
      const style = getComputedStyle(el);
      const hit = document.elementFromPoint(at.x, at.y);
      return {
        fontPx: Number.parseFloat(style.fontSize),
        visibility: style.visibility,
        opacity: Number(style.opacity),
        clipped: el.scrollWidth > el.clientWidth + 1 && style.overflowX !== 'visible',
        onTop: hit !== null && (el === hit || el.contains(hit)),
      };
    },
    { x: b.x + b.width / 2, y: b.y + b.height / 2 },
  );
  expect(probe, `${locator.toString()} rendering`).toMatchObject({ visibility: 'visible', opacity: 1, clipped: false });
  expect(probe.onTop, `${locator.toString()} is not covered by another element`).toBe(true);
  expect(probe.fontPx, `${locator.toString()} font size`).toBeGreaterThanOrEqual(9);
  return b;
}

/** Renders the model to certificate.html in the temp dir, opens it, and saves a first-page and a full-page PNG. */
async function open(name: string, model: CertificateModel): Promise<{ page: Page; html: string; pdfPages: number }> {
  const html = join(dir, `${name}.html`);
  await writeFile(html, renderCertificateHtml(model));
  const page = await context.newPage();
  await page.goto(`file://${html}`);
  for (const [file, fullPage] of [
    [`${name}.first-page.png`, false],
    [`${name}.png`, true],
  ] as const) {
    const png = await page.screenshot({ path: join(dir, file), fullPage });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16), `${file} width`).toBe(A4.width);
    expect(png.length, `${file} has content`).toBeGreaterThan(30_000);
  }
  // The probes read boxes in page coordinates: a viewport as tall as the page (the layout does not depend on its height).
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: A4.width, height });
  const pdfPages = await printPdf({ chromium, htmlFile: html, pdfFile: join(dir, `${name}.pdf`) });
  return { page, html, pdfPages };
}

async function expectNoSectionsOverlap(page: Page): Promise<void> {
  const boxes: [string, Box][] = [];
  for (const selector of SECTIONS) boxes.push([selector, await box(page.locator(selector))]);
  for (const [i, [a, boxA]] of boxes.entries())
    for (const [b, boxB] of boxes.slice(i + 1)) expect(overlap(boxA, boxB), `${a} overlaps ${b}`).toBe(false);
  const pageBox = await box(page.locator('main'));
  for (const [selector, b] of boxes) expect(inside(b, pageBox), `${selector} stays inside the page`).toBe(true);
}

/** The key figures the run measured: each row visible, inside the figures table, with the value the run recorded. */
async function expectKeyFigures(page: Page, model: CertificateModel): Promise<string[]> {
  const table = page.locator('#key-figures');
  const tableBox = await expectSeen(table.locator('thead'));
  const shown: string[] = [];
  for (const id of KEY_FIGURES) {
    const figure = model.cert.figures.find((f) => f.id === id);
    if (figure === undefined) continue;
    const row = table.locator(`tr[data-figure="${id}"]`);
    const value = await expectSeen(row.locator('td').nth(1));
    const label = await expectSeen(row.locator('td').nth(0));
    expect(await row.locator('td').nth(1).innerText()).toBe(formatFigureValue(figure.value, figure.unit));
    expect(await row.locator('td').nth(0).innerText()).toBe(figure.label);
    expect(overlap(label, value), `${id}: label and value overlap`).toBe(false);
    expect(value.y).toBeGreaterThan(tableBox.y);
    expect(inside(value, await box(table)), `${id} value inside the figures table`).toBe(true);
    shown.push(id);
  }
  return shown;
}

describe('the certificate of recorded real runs, rendered in Chromium (screenshots in the temp dir)', () => {
  it('a full healthy run: CERTIFIED, no risks, the key figures laid out readable, sections apart, 2 A4 pages at most', async () => {
    const model = await recordedCertificateModel(false);
    expect(model.cert.verdict).toBe('CERTIFIED');
    const { page, pdfPages } = await open('healthy', model);
    const verdict = await expectSeen(page.locator('#verdict'));
    expect(await page.locator('#verdict').innerText()).toBe('CERTIFIED');
    expect(verdict.y + verdict.height).toBeLessThanOrEqual(FIRST_PAGE_BOTTOM);
    const risks = await expectSeen(page.locator('#risks p'));
    expect(await page.locator('#risks').innerText()).toBe('Risks: none. Every critical readiness property is proven.');
    expect(risks.y + risks.height).toBeLessThanOrEqual(FIRST_PAGE_BOTTOM);
    await expectSeen(page.locator('#property-coverage'));
    expect(await page.locator('#property-coverage').innerText()).toMatch(/^\d+ of \d+ proven/);
    // The healthy run measured every key figure, its RTO included.
    expect(await expectKeyFigures(page, model)).toEqual(KEY_FIGURES);
    await expectNoSectionsOverlap(page);
    expect(pdfPages).toBeGreaterThanOrEqual(1);
    expect(pdfPages).toBeLessThanOrEqual(2);
  });

  it('a run with planted defects: NOT CERTIFIED, the failed property and its fix on the first page, key figures readable', async () => {
    const model = await recordedCertificateModel(true);
    expect(model.cert.verdict).toBe('NOT_CERTIFIED');
    const failed = propertyRisks(model.cert.properties).find((p) => p.status === 'failed');
    // Recorded: the crash drill lost acknowledged writes (FRAGILE defect of the reference stack).
    expect(failed?.id).toBe('data-safety.crash-writes');
    if (failed?.remediation == null) throw new Error('the failed property has no remediation');
    const { page, pdfPages } = await open('defect', model);
    expect(await page.locator('#verdict').innerText()).toBe('NOT CERTIFIED');
    await expectSeen(page.locator('#verdict'));
    const risks = await expectSeen(page.locator('#risks h2'));
    expect(await page.locator('#risks h2').innerText()).toMatch(/^RISKS: \d+ CRITICAL PROPERTIES NOT PROVEN$/);
    const item = page.locator(`#risks li[data-property="${failed.id}"]`);
    const title = await expectSeen(item.locator('b'));
    expect(await item.locator('b').innerText()).toBe(failed.title);
    const status = await expectSeen(item.locator('.status.failed'));
    expect(await item.locator('.status.failed').innerText()).toBe('failed');
    const fix = await expectSeen(item.locator('.fix'));
    expect(await item.locator('.fix').innerText()).toBe(`Fix: ${failed.remediation}`);
    // The risks head the page, under the verdict, and all of them fit on the first A4 page.
    const risksBox = await box(page.locator('#risks'));
    expect(risksBox.y).toBeLessThan((await box(page.locator('section.facts'))).y);
    expect(risksBox.y + risksBox.height, 'the risks on the first A4 page').toBeLessThanOrEqual(FIRST_PAGE_BOTTOM);
    for (const [what, b] of [
      ['title', title],
      ['status', status],
      ['fix', fix],
    ] as const) {
      expect(inside(b, risksBox), `${what} inside the risks box`).toBe(true);
      expect(b.y + b.height, `${what} on the first A4 page`).toBeLessThanOrEqual(FIRST_PAGE_BOTTOM);
    }
    expect(fix.y).toBeGreaterThanOrEqual(title.y + title.height - 1);
    expect(risks.y).toBeLessThan(title.y);
    // The defect run has no backup drill, so no RTO: every other key figure is on the page.
    expect(await expectKeyFigures(page, model)).toEqual(KEY_FIGURES.filter((id) => id !== 'recovery.rto'));
    await expectNoSectionsOverlap(page);
    expect(pdfPages).toBeGreaterThanOrEqual(1);
    expect(pdfPages).toBeLessThanOrEqual(2);
    const pdf = await readFile(join(dir, 'defect.pdf'));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });
});
