import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { z } from 'zod';
import { ALLURE_STATUSES } from '../core/results.ts';
import { ReadinessError, ToolFailedError, ToolMissingError } from '../core/errors.ts';
import { exec, tail } from '../core/exec.ts';
import { withFileLock } from '../provision/cache.ts';

/** Who produced the results: shown by the report (Allure's `executor.json`). */
export interface AllureExecutor {
  readonly name: string;
  readonly type: string;
  readonly buildName?: string;
  readonly reportName?: string;
  readonly url?: string;
  readonly buildUrl?: string;
  readonly reportUrl?: string;
  readonly buildOrder?: number;
}

const categorySchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  matchedStatuses: z.array(z.enum(ALLURE_STATUSES)).min(1),
  messageRegex: z.string().optional(),
  traceRegex: z.string().optional(),
});
const categoriesSchema = z.array(categorySchema);

/** An Allure 2 category (`categories.json`), which Allure 3 also accepts as a config rule. */
type AllureCategory = z.infer<typeof categorySchema>;

/** Separates what the system did wrong from what the harness could not prove. */
export const READINESS_CATEGORIES: readonly AllureCategory[] = [
  {
    name: 'Product defects',
    description: 'The system under test failed the check: it is not ready. Fix the system.',
    matchedStatuses: ['failed'],
  },
  {
    name: 'Harness or environment failures',
    description:
      'The harness or its environment failed (tool missing, fault not observed, crash): the check proved nothing.',
    matchedStatuses: ['broken'],
  },
  {
    name: 'No evidence',
    description: 'The check produced no evidence either way; it never counts as passed.',
    matchedStatuses: ['unknown'],
  },
  {
    name: 'Not covered',
    description:
      'Declared not applicable in the config (with its reason) or its check family not configured: never counted as passed.',
    matchedStatuses: ['skipped'],
    messageRegex: '^Not (applicable|configured): [\\s\\S]*',
  },
];

interface AllureMetadata {
  /** Shown as the report's environment table (`environment.properties`). */
  readonly environment: Readonly<Record<string, string>>;
  readonly executor: AllureExecutor;
  /** Defaults to `READINESS_CATEGORIES`. */
  readonly categories?: readonly AllureCategory[];
}

const escapeProperty = (text: string, isKey: boolean): string => {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '\\') out += '\\\\';
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char === '\f') out += '\\f';
    else if ('=:#!'.includes(char) || (char === ' ' && (isKey || out.length === 0))) out += `\\${char}`;
    else if (code < 0x20 || code > 0x7e) {
      // Java properties are Latin-1; \u escapes (UTF-16 units) read the same in Allure 2 and 3.
      for (let i = 0; i < char.length; i += 1) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
    } else out += char;
  }
  return out;
};

/** A Java properties document of `record`, keys sorted, every special character escaped. */
export function formatProperties(record: Readonly<Record<string, string>>): string {
  return Object.keys(record)
    .sort()
    .map((key) => `${escapeProperty(key, true)}=${escapeProperty(record[key] ?? '', false)}\n`)
    .join('');
}

/** Writes `environment.properties`, `executor.json` and `categories.json` into a results directory; returns their paths. */
export async function writeAllureMetadata(resultsDir: string, metadata: AllureMetadata): Promise<string[]> {
  const categories = categoriesSchema.parse(metadata.categories ?? READINESS_CATEGORIES);
  await mkdir(resultsDir, { recursive: true });
  const files = {
    'environment.properties': formatProperties(metadata.environment),
    'executor.json': `${JSON.stringify(metadata.executor, null, 2)}\n`,
    'categories.json': `${JSON.stringify(categories, null, 2)}\n`,
  };
  const written: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    const file = join(resultsDir, name);
    await writeFile(file, content);
    written.push(file);
  }
  return written;
}

/**
 * Allure 3 only reads `categories.json` for its Allure 2 compatible plugins; the awesome report takes
 * categories from its config. So the results directory's file is the single source for both.
 */
async function readCategories(resultsDir: string): Promise<readonly AllureCategory[]> {
  const file = join(resultsDir, 'categories.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return READINESS_CATEGORIES;
    throw error;
  }
  const parsed = categoriesSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new ReadinessError(
      'ALLURE_CATEGORIES_INVALID',
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/** Google Analytics that Allure 3's awesome template always adds; it must never ship in a readiness report. */
const ANALYTICS_MARKERS = /googletagmanager\.com|gtag\(|window\.dataLayer/;
const SCRIPT_ELEMENT = /<script\b([^>]*)>([\s\S]*?)<\/script>\s*/gi;
const DATA_SCRIPT_SRC = /\bsrc\s*=\s*"data:[^;,"]*;base64,([^"]*)"/i;

/** Removes every `<script>` element that loads or configures Google Analytics / Tag Manager. */
export function stripAnalytics(html: string): string {
  return html.replace(SCRIPT_ELEMENT, (element: string, attributes: string, body: string) => {
    if (DATA_SCRIPT_SRC.test(attributes)) return element;
    return ANALYTICS_MARKERS.test(attributes) || ANALYTICS_MARKERS.test(body) ? '' : element;
  });
}

/** Where analytics remain in a report: in the page itself or inside an embedded script bundle. */
export function findAnalytics(html: string): string[] {
  const found: string[] = [];
  if (/googletagmanager/i.test(html) || ANALYTICS_MARKERS.test(html)) found.push('index.html');
  for (const match of html.matchAll(SCRIPT_ELEMENT)) {
    const encoded = DATA_SCRIPT_SRC.exec(match[1] ?? '')?.[1];
    if (encoded !== undefined && /googletagmanager/i.test(Buffer.from(encoded, 'base64').toString('utf8'))) {
      found.push('embedded script bundle');
    }
  }
  return found;
}

interface GenerateAllureReportOptions {
  readonly resultsDir: string;
  /** The report folder; receives `index.html` (self-contained) plus Allure's `summary.json`. */
  readonly outDir: string;
  /** The report's title. */
  readonly name: string;
  /** Working directory of the Allure process; relative paths resolve against it. */
  readonly cwd: string;
  /** Default: `allureTimeoutMs` of the number of result files. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Path of Allure's `cli.js`; defaults to the installed `allure` package. */
  readonly allureCli?: string;
  /**
   * Allure's history file (JSON lines), shared by the runs of a reports folder: the report reads it
   * for trends and marks each check new, fixed or regressed, then appends this run to it.
   */
  readonly historyPath?: string;
  /** How many past runs the history keeps. */
  readonly historyLimit?: number;
}

/** Counts the `*-result.json` files of a results directory (0 when it does not exist). */
export async function countResultFiles(resultsDir: string): Promise<number> {
  try {
    return (await readdir(resultsDir)).filter((name) => name.endsWith('-result.json')).length;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/** Least time an Allure command (generate, quality-gate) is given. */
const ALLURE_MIN_TIMEOUT_MS = 120_000;
/** Time given per result file on top: Allure reads every one, so a run of 100,000 checks needs minutes, not 120 s. */
const ALLURE_MS_PER_RESULT = 4;

/** How long an Allure command over `resultFiles` result files may run: 120 s plus 4 ms per file. */
export function allureTimeoutMs(resultFiles: number): number {
  return ALLURE_MIN_TIMEOUT_MS + Math.max(0, resultFiles) * ALLURE_MS_PER_RESULT;
}

/** How the report's tree groups checks: stage, then feature, then severity. */
const REPORT_GROUP_BY = ['parentSuite', 'feature', 'severity'] as const;

/** The path of the installed Allure 3 CLI (`cli.js`). */
export function resolveAllureCli(): string {
  try {
    // `allure` exports only dist/index.js; its bin cli.js sits one level above.
    return join(dirname(createRequire(import.meta.url).resolve('allure')), '..', 'cli.js');
  } catch (error) {
    throw new ToolMissingError('Allure 3 (npm package "allure") is not installed', {
      cause: error,
      hint: 'npm install allure@3',
    });
  }
}

/**
 * Generates a single-file Allure 3 report (awesome plugin) offline, removes Allure's analytics and
 * checks none remain; returns the path of `index.html`.
 */
export async function generateAllureReport(options: GenerateAllureReportOptions): Promise<string> {
  const cwd = resolve(options.cwd);
  const resultsDir = resolve(cwd, options.resultsDir);
  const outDir = resolve(cwd, options.outDir);
  const history = options.historyPath === undefined ? undefined : resolve(cwd, options.historyPath);
  const config = {
    name: options.name,
    output: outDir,
    ...(history === undefined ? {} : { historyPath: history, historyLimit: options.historyLimit ?? 50 }),
    plugins: {
      awesome: {
        options: {
          singleFile: true,
          reportName: options.name,
          reportLanguage: 'en',
          groupBy: [...REPORT_GROUP_BY],
        },
      },
      // Allure adds its agent plugin unless configured; it writes agent state outside the report.
      agent: { enabled: false },
    },
    categories: await readCategories(resultsDir),
  };
  const configDir = await mkdtemp(join(tmpdir(), 'readiness-allure-'));
  const timeoutMs = options.timeoutMs ?? allureTimeoutMs(await countResultFiles(resultsDir));
  const generate = async (): Promise<void> => {
    const configFile = join(configDir, 'allurerc.json');
    await writeFile(configFile, JSON.stringify(config, null, 2));
    const cli = options.allureCli ?? resolveAllureCli();
    const result = await exec(process.execPath, [cli, 'generate', '--config', configFile, '--cwd', cwd, resultsDir], {
      cwd,
      timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (result.exitCode !== 0) {
      const why = result.timedOut
        ? `timed out after ${timeoutMs.toString()}ms`
        : `exited ${String(result.exitCode ?? result.signal)}`;
      const output = stripVTControlCharacters(result.stderr.trim() ? result.stderr : result.stdout);
      throw new ToolFailedError(`allure generate ${why} (${result.command})\n${tail(output)}`, {
        hint: `check the results in ${resultsDir}`,
      });
    }
  };
  try {
    // Allure reads the shared history, then rewrites it (trimmed to historyLimit): two runs of one
    // reports folder at once would drop each other's entry, so they take turns.
    if (history === undefined) await generate();
    else
      await withFileLock(`${history}.lock`, generate, {
        timeoutMs: 2 * timeoutMs,
        what: `the Allure history ${history}`,
      });
  } finally {
    await rm(configDir, { recursive: true, force: true });
  }
  const htmlFile = join(outDir, 'index.html');
  const html = stripAnalytics(await readFile(htmlFile, 'utf8'));
  const remaining = findAnalytics(html);
  if (remaining.length > 0) {
    throw new ReadinessError(
      'REPORT_ANALYTICS',
      `${htmlFile}: Google Analytics still present after stripping (${remaining.join(', ')})`,
      { hint: 'this Allure version embeds analytics differently; update stripAnalytics in src/report/allure.ts' },
    );
  }
  await writeFile(htmlFile, html);
  return htmlFile;
}
