import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ToolFailedError } from '../core/errors.ts';
import { exec, tail } from '../core/exec.ts';
import { chromiumArgs } from '../provision/chromium.ts';

/**
 * The number of pages of a PDF: its page objects (`/Type /Page`), or, for a PDF whose objects sit in
 * compressed object streams, the largest `/Count` of a page tree. Enough for Chromium's output.
 */
export function pdfPageCount(pdf: Uint8Array): number {
  const text = Buffer.from(pdf).toString('latin1');
  if (!text.startsWith('%PDF-')) throw new ToolFailedError('not a PDF file (no %PDF- header)');
  const pages = text.match(/\/Type\s*\/Page(?![A-Za-z])/g)?.length ?? 0;
  if (pages > 0) return pages;
  const counts = [...text.matchAll(/\/Count\s+(\d+)/g)].map((m) => Number(m[1]));
  return counts.length === 0 ? 0 : Math.max(...counts);
}

interface PrintPdfOptions {
  readonly chromium: string;
  readonly htmlFile: string;
  readonly pdfFile: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Prints an HTML file to PDF with headless Chromium (page size from the page's CSS); returns the page count. */
export async function printPdf(options: PrintPdfOptions): Promise<number> {
  const profile = await mkdtemp(join(tmpdir(), 'readiness-chromium-'));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pdfFile = resolve(options.pdfFile);
  try {
    await rm(pdfFile, { force: true });
    const result = await exec(
      options.chromium,
      [
        ...chromiumArgs(profile),
        '--no-pdf-header-footer',
        `--print-to-pdf=${pdfFile}`,
        pathToFileURL(resolve(options.htmlFile)).href,
      ],
      { timeoutMs, ...(options.signal ? { signal: options.signal } : {}) },
    );
    const written = await stat(pdfFile).then(
      (s) => s.size > 0,
      () => false,
    );
    if (result.exitCode !== 0 || !written) {
      const why = result.timedOut
        ? `timed out after ${timeoutMs.toString()}ms`
        : `exited ${String(result.exitCode ?? result.signal)}${written ? '' : ' without writing the PDF'}`;
      // Chromium logs D-Bus noise on stderr in containers; the last lines hold the cause.
      throw new ToolFailedError(`chromium --print-to-pdf ${why}\n${tail(result.stderr, 8)}`, {
        hint: `print it by hand: ${options.chromium} --headless --no-sandbox --print-to-pdf=${pdfFile} ${options.htmlFile}`,
      });
    }
    return pdfPageCount(await readFile(pdfFile));
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
