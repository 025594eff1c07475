import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLeaks } from './leaks.ts';

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
});
