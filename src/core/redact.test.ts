import { describe, expect, it } from 'vitest';
import { REDACTED, createRedactor } from './redact.ts';

describe('createRedactor', () => {
  const redact = createRedactor(['hunter2-secret', 'db-pass']);

  it('removes literal secrets, longest first', () => {
    expect(redact('password is hunter2-secret and db-pass')).toBe(`password is ${REDACTED} and ${REDACTED}`);
  });

  it('removes JWTs, bearer headers and secret JSON fields', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    const text = `{"accessToken":"opaque-123","password":"x y z"} Authorization: Bearer abc.def ${jwt}`;
    const out = redact(text);
    expect(out).not.toContain('opaque-123');
    expect(out).not.toContain('x y z');
    expect(out).not.toContain('abc.def');
    expect(out).not.toContain(jwt);
    expect(out).toContain(`"accessToken":"${REDACTED}"`);
  });

  it('removes passwords in connection strings but keeps the rest', () => {
    expect(redact('postgres://app:s3cr3t@postgres:5432/app')).toBe(`postgres://app:${REDACTED}@postgres:5432/app`);
  });

  it('leaves ordinary text alone', () => {
    expect(redact('GET /health/ready -> 503')).toBe('GET /health/ready -> 503');
  });
});
