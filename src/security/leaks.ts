/** What gives away internals in an error answer: stack traces, SQL, driver and runtime details. */
const LEAK_PATTERNS: readonly (readonly [string, RegExp])[] = [
  ['a "stack" field', /"stack"\s*:/i],
  ['a JavaScript stack frame', /\bat (?:async )?[\w$.<>[\] ]*\(?(?:file:\/\/|node:|\/)[^\s()]*:\d+:\d+\)?/],
  ['a Node.js internal path', /node:internal\/|\/node_modules\//],
  ['a Python traceback', /Traceback \(most recent call last\)/],
  ['a Java/JVM stack frame', /\bat [a-z][\w$]*(?:\.[\w$]+)+\([\w$]+\.(?:java|kt|scala):\d+\)/],
  ['a Go panic', /goroutine \d+ \[running\]/],
  ['a runtime error class', /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|NullPointerException)\b: /],
  ['SQL text', /\b(?:SELECT\s[\s\S]{0,200}?\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b/i],
  [
    'a database error',
    /syntax error at or near|SQLSTATE|duplicate key value violates|relation "[^"]+" does not exist/i,
  ],
];

/** The kinds of leak found in a response body (empty when it looks clean). */
export function findLeaks(body: string): string[] {
  return LEAK_PATTERNS.filter(([, pattern]) => pattern.test(body)).map(([what]) => what);
}
