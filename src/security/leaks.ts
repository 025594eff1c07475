/**
 * What gives away internals in an answer: stack traces of common runtimes, SQL, and database
 * driver errors. One row per kind; the first match of each is the evidence.
 */
const LEAK_PATTERNS: readonly (readonly [string, RegExp])[] = [
  ['a "stack" field', /"stack"\s*:/i],
  ['a JavaScript stack frame', /\bat (?:async )?[\w$.<>[\] ]*\(?(?:file:\/\/|node:|\/)[^\s()]*:\d+:\d+\)?/],
  ['a Node.js internal path', /node:internal\/|\/node_modules\//],
  ['a Python traceback', /Traceback \(most recent call last\)/],
  ['a Java/JVM stack frame', /\bat [a-z][\w$]*(?:\.[\w$]+)+\([\w$]+\.(?:java|kt|scala):\d+\)/],
  ['a Go panic', /goroutine \d+ \[running\]|\bpanic: (?:runtime error|[\w.]+Error)\b/],
  ['a runtime error class', /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|NullPointerException)\b: /],
  ['SQL text', /\b(?:SELECT\s[\s\S]{0,200}?\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b/i],
  [
    'a database error',
    /syntax error at or near|SQLSTATE|duplicate key value violates|relation "[^"]+" does not exist|You have an error in your SQL syntax/i,
  ],
  [
    'a database driver error',
    /\bORA-\d{5}\b|\bSQLITE_[A-Z]+\b|\bER_[A-Z]+(?:_[A-Z]+)+\b|\bpq: [a-z]|\bpsycopg2?\.(?:errors\.)?[A-Z]\w*|\bsqlalchemy\.exc\.|\bjava\.sql\.SQL\w*Exception\b/,
  ],
];

/** One kind of leak found in an answer, with the text around its first match. */
interface Leak {
  readonly what: string;
  readonly excerpt: string;
}

const EXCERPT_CHARS = 60;

/** The leaks in a response body, each with an excerpt around its first match (empty when it looks clean). */
export function findLeakExcerpts(body: string): Leak[] {
  const out: Leak[] = [];
  for (const [what, pattern] of LEAK_PATTERNS) {
    const match = pattern.exec(body);
    if (!match) continue;
    const start = Math.max(0, match.index - EXCERPT_CHARS);
    const end = Math.min(body.length, match.index + match[0].length + EXCERPT_CHARS);
    const excerpt = `${start > 0 ? '…' : ''}${body.slice(start, end).replace(/\s+/g, ' ')}${end < body.length ? '…' : ''}`;
    out.push({ what, excerpt });
  }
  return out;
}

/** The kinds of leak found in a response body (empty when it looks clean). */
export function findLeaks(body: string): string[] {
  return findLeakExcerpts(body).map((leak) => leak.what);
}
