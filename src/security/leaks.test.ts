import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLeakExcerpts, findLeaks } from './leaks.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/security');

describe('error bodies (recorded answers to malformed JSON from fixtures/stack)', () => {
  it('finds the stack trace the leaky-errors defect sends', async () => {
    const leaky = await readFile(join(FIXTURES, 'error-body-leaky.json'), 'utf8');
    expect(findLeaks(leaky)).toEqual(['a "stack" field', 'a JavaScript stack frame', 'a Node.js internal path']);
  });

  it('finds nothing in the healthy answer', async () => {
    expect(findLeaks(await readFile(join(FIXTURES, 'error-body-clean.json'), 'utf8'))).toEqual([]);
  });

  it('finds SQL and database errors', () => {
    expect(findLeaks('{"detail":{"query":"SELECT id, role FROM users WHERE email = $1"}}')).toEqual(['SQL text']);
    expect(findLeaks('error: syntax error at or near "OR"')).toEqual(['a database error']);
    expect(findLeaks('Traceback (most recent call last):\n  File "app.py"')).toEqual(['a Python traceback']);
    expect(findLeaks('{"error":"bad_request","message":"body/items must NOT have fewer than 1 items"}')).toEqual([]);
  });

  it('finds runtime stack traces and database driver errors, each with the text around it', () => {
    expect(findLeaks('panic: runtime error: invalid memory address\n\ngoroutine 7 [running]:')).toEqual(['a Go panic']);
    expect(findLeaks('\tat com.acme.Orders.create(Orders.java:12)')).toEqual(['a Java/JVM stack frame']);
    expect(findLeaks('ORA-01756: quoted string not properly terminated')).toEqual(['a database driver error']);
    expect(findLeaks('{"code":"ER_PARSE_ERROR"}')).toEqual(['a database driver error']);
    expect(findLeaks('SQLITE_ERROR: near "OR"')).toEqual(['a database driver error']);
    expect(findLeaks('pq: duplicate key')).toEqual(['a database driver error']);
    expect(findLeaks('psycopg2.OperationalError')).toEqual(['a database driver error']);
    expect(findLeaks('You have an error in your SQL syntax')).toEqual(['a database error']);
    expect(findLeakExcerpts(`${'x'.repeat(100)} SQLSTATE 42601 ${'y'.repeat(100)}`)).toEqual([
      { what: 'a database error', excerpt: `…${'x'.repeat(59)} SQLSTATE 42601 ${'y'.repeat(53)}…` },
    ]);
    expect(findLeaks('{"error":"conflict","message":"an order with this Idempotency-Key exists"}')).toEqual([]);
  });
});
