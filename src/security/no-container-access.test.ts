import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import reference from '../../readiness.config.ts';
import { recordingContext } from '../../test/support/stage.ts';
import { resolveConfig } from '../config/index.ts';
import type { CheckResult } from '../core/check-result.ts';
import { systemClock } from '../core/clock.ts';
import { stackHandleSchema } from '../stack/stack-handle.ts';
import { SecurityContext } from './context.ts';
import { SecurityHttp } from './http.ts';
import { runComplianceChecks } from './native/compliance.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('compliance checks on a stack without Docker access (containers: "none")', () => {
  it('erasure with a database proof and PII in the logs are not applicable: no container to read, no logs followed', async () => {
    const config = resolveConfig(reference, join(ROOT, 'readiness.config.ts'));
    const security = config.security;
    if (!security?.compliance.erasure?.database) throw new Error('the reference config proves erasure in its database');
    const recordedHandle = stackHandleSchema.parse(
      JSON.parse(await readFile(join(ROOT, 'test/fixtures/chaos/stack-handle.json'), 'utf8')),
    );
    const handle = { ...recordedHandle, containers: 'none' as const };
    const recorded: CheckResult[] = [];
    const suite = {
      ...recordingContext(config, 'security', await mkdtemp(join(tmpdir(), 'security-na-')), recorded, { handle }),
      targetFile: 'ops/handle.json',
    };
    // Port 1: nothing answers; the audit check, which needs no container, is judged on that (not asserted here).
    const http = new SecurityHttp({
      baseUrl: 'http://127.0.0.1:1',
      correlationHeader: 'x-request-id',
      timeoutMs: 1_000,
      clock: systemClock,
      signal: suite.signal,
    });
    await runComplianceChecks(new SecurityContext(suite, security, http));
    const reason =
      'Not applicable: ops/handle.json gives the harness no Docker access to its containers (containers: "none")';
    expect(recorded.find((c) => c.id === 'security.compliance.erasure')).toMatchObject({
      status: 'not-applicable',
      message: `${reason}: the database of postgres cannot be read (compliance.erasure.database)`,
    });
    expect(recorded.find((c) => c.id === 'security.compliance.log-pii')).toMatchObject({
      status: 'not-applicable',
      message: `${reason}: no service logs are followed`,
    });
  });
});
