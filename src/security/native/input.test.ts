import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeInjection } from './input.ts';
import type { InjectionAnswer } from './input.ts';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/security');

const answer = (status: number, body: string, payload = "' OR '1'='1' --"): InjectionAnswer => ({
  attempt: { operation: 'POST /v1/orders', field: 'body.note', payload },
  status,
  body,
});

describe('judgeInjection', () => {
  it('fails a 4xx answer that leaks a stack trace (recorded FRAGILE=leaky-errors answer), with the excerpt', async () => {
    const leaky = await readFile(join(FIXTURES, 'error-body-leaky.json'), 'utf8');
    const clean = await readFile(join(FIXTURES, 'error-body-clean.json'), 'utf8');
    const outcome = judgeInjection([answer(400, clean), answer(400, leaky)], '2 requests');
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toBe(
      '1 answers leak internals (POST /v1/orders body.note -> 400: a "stack" field, a JavaScript stack frame, a Node.js internal path): 2 requests',
    );
    const evidence = outcome.evidence?.find((e) => e.name === 'leaked internals')?.content ?? '';
    expect(evidence).toContain('a JavaScript stack frame: ');
    expect(evidence).toContain(
      'at Parser.defaultJsonParser [as fn] (/app/node_modules/fastify/lib/content-type-parser.js:352:12)',
    );
  });

  it('fails SQL and driver errors in a body whatever the status', () => {
    for (const body of [
      '{"error":"bad_request","message":"syntax error at or near \\"OR\\""}',
      '{"message":"You have an error in your SQL syntax; check the manual"}',
      '{"code":"ER_PARSE_ERROR","errno":1064}',
      '{"error":"ORA-00933: SQL command not properly ended"}',
      '{"error":"SQLITE_ERROR: near \\"OR\\": syntax error"}',
      '{"error":"pq: invalid input syntax for type uuid"}',
      '{"detail":"psycopg2.errors.SyntaxError: unterminated quoted string"}',
      '{"error":"ERROR: relation \\"users\\" does not exist","sqlState":"SQLSTATE 42P01"}',
      'Traceback (most recent call last):\n  File "/app/views.py", line 12, in create',
      'panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:',
      'java.lang.IllegalStateException: boom\n\tat com.acme.orders.OrderService.create(OrderService.java:42)',
    ]) {
      const outcome = judgeInjection([answer(400, body)], '1 request');
      expect(outcome.status, body).toBe('failed');
    }
  });

  it('passes clean 4xx answers, and a payload echoed back is not a leak', async () => {
    const clean = await readFile(join(FIXTURES, 'error-body-clean.json'), 'utf8');
    const payload = '1 UNION SELECT password FROM users --';
    const echoed = JSON.stringify({ error: 'bad_request', message: `not a valid id: ${payload}` });
    const outcome = judgeInjection(
      [answer(400, clean), answer(422, echoed, payload), answer(201, '{"id":"o1"}')],
      '3 requests',
    );
    expect(outcome).toMatchObject({ status: 'passed', message: '3 requests' });
  });

  it('still fails a 5xx or no answer', () => {
    const outcome = judgeInjection([answer(500, '{"error":"internal"}'), answer(0, 'no answer: socket hang up')], '2');
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toBe(
      '2 payloads caused a 5xx or no answer (POST /v1/orders body.note -> 500; POST /v1/orders body.note -> no answer): 2',
    );
  });
});
