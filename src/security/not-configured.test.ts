import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { notConfiguredFamilies } from './stage.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('native check families the config does not configure (issue 14 point 3)', () => {
  it('the reference config configures every family, so nothing is recorded not configured', async () => {
    const config = await loadConfig('readiness.config.ts', ROOT);
    expect(config.security).toBeDefined();
    if (config.security) expect(notConfiguredFamilies(config.security)).toEqual([]);
  });

  it('each family whose config section is unset is one not-configured check naming its key', async () => {
    const config = await loadConfig('readiness.config.ts', ROOT);
    const security = config.security;
    if (!security) throw new Error('the reference config has no security section');
    const { rateLimit: _rateLimit, ...rest } = security;
    const bare = {
      ...rest,
      authz: { rbac: [], objects: [] },
      compliance: { logServices: security.compliance.logServices },
    };
    expect(notConfiguredFamilies(bare)).toEqual([
      {
        id: 'security.authz.rbac.not-configured',
        name: 'Role-based access matrix: not configured',
        feature: 'authorization',
        key: 'security.authz.rbac',
      },
      {
        id: 'security.authz.object-level.not-configured',
        name: 'Object-level access: not configured',
        feature: 'authorization',
        key: 'security.authz.objects',
      },
      {
        id: 'security.ratelimit.not-configured',
        name: 'Rate limiting: not configured',
        feature: 'rate-limit',
        key: 'security.rateLimit',
      },
      {
        id: 'security.compliance.audit-trail.not-configured',
        name: 'Audit trail of mutating requests: not configured',
        feature: 'compliance',
        key: 'security.compliance.audit',
      },
      {
        id: 'security.compliance.erasure.not-configured',
        name: 'Right to erasure: not configured',
        feature: 'compliance',
        key: 'security.compliance.erasure',
      },
    ]);
  });
});
