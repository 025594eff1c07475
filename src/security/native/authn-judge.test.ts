import { describe, expect, it } from 'vitest';
import type { HttpExchange } from '../http.ts';
import { findWeakSecret } from '../secrets.ts';
import { claimChanges, judgeTokenAnswer, judgeWeakSecret } from './authn.ts';

function exchange(status: number, body = ''): HttpExchange {
  return {
    method: 'GET',
    path: '/v1/me',
    url: 'http://127.0.0.1:8080/v1/me',
    status,
    headers: {},
    setCookies: [],
    body,
    latencyMs: 3,
    correlationId: 'c1',
    throttled: 0,
  };
}

const expired = { label: 'an expired token' };

describe('judgeTokenAnswer', () => {
  it('fails a forged token the service accepts', () => {
    const outcome = judgeTokenAnswer(expired, [401], {
      base: exchange(200),
      control: exchange(200),
      answer: exchange(200, '{"id":1}'),
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toBe('an expired token accepted: GET /v1/me -> 200');
    expect(outcome.evidence?.[0]?.content).toBe(
      [
        'valid credentials: GET /v1/me -> 200',
        'freshly signed control token: GET /v1/me -> 200',
        'an expired token: GET /v1/me -> 200 {"id":1}',
      ].join('\n'),
    );
  });

  it('fails a refusal with a status outside rejectStatus, and passes one inside it', () => {
    const wrong = judgeTokenAnswer(expired, [401, 403], { base: exchange(200), answer: exchange(500) });
    expect(wrong).toMatchObject({ status: 'failed', message: 'an expired token answered 500, expected 401 or 403' });
    const right = judgeTokenAnswer(expired, [401, 403], { base: exchange(200), answer: exchange(403) });
    expect(right).toMatchObject({ status: 'passed', message: 'an expired token rejected with 403' });
    expect(right.evidence?.[0]?.content).not.toContain('control token');
  });
});

describe('claimChanges', () => {
  it('expires the token an hour ago, or changes audience or issuer with a valid lifetime', () => {
    expect(claimChanges('expired', 10_000)).toEqual({ iat: 2800, nbf: undefined, exp: 6400 });
    expect(claimChanges('wrong-audience', 10_000)).toEqual({
      aud: 'readiness-wrong-audience',
      iat: 10_000,
      exp: 10_300,
    });
    expect(claimChanges('wrong-issuer', 10_000)).toEqual({ iss: 'readiness-wrong-issuer', iat: 10_000, exp: 10_300 });
  });
});

describe('judgeWeakSecret', () => {
  const like = { name: 'user', principal: { scheme: 'bearer' as const } };

  it('is not applicable without a token or for a token that is not an HMAC JWT', () => {
    expect(judgeWeakSecret(like, undefined).status).toBe('not-applicable');
    const notJwt = judgeWeakSecret(like, findWeakSecret('opaque-token'));
    expect(notJwt.status).toBe('not-applicable');
    expect(notJwt.message).toContain('principal "user": ');
  });

  it('fails on a weak finding and passes on a clean one', () => {
    const weak = judgeWeakSecret(like, { kind: 'weak', alg: 'HS256', tried: 100, position: 3, hint: '"se…" (6)' });
    expect(weak.status).toBe('failed');
    expect(weak.message).toContain('verifies with entry 3 of the shipped list');
    expect(judgeWeakSecret(like, { kind: 'clean', alg: 'HS256', tried: 100 })).toEqual({
      status: 'passed',
      message: 'the HS256 token verifies with none of the 100 well-known weak secrets tried offline',
    });
  });
});
