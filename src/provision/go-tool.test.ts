import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { ensureGoTool, goBinaryName, goToolPath, isPinnedGoVersion } from './go-tool.ts';

describe('isPinnedGoVersion', () => {
  it.each(['v2.12.0', 'v0.0.0-20240101000000-abcdef123456', 'v1.2.3-rc.1', 'v2.0.0+incompatible'])(
    'accepts %s',
    (v) => {
      expect(isPinnedGoVersion(v)).toBe(true);
    },
  );
  it.each(['latest', 'main', 'v2', '2.12.0', 'upgrade', ''])('rejects %s', (v) => {
    expect(isPinnedGoVersion(v)).toBe(false);
  });
});

describe('goBinaryName', () => {
  it('is the last element of the package path', () => {
    expect(goBinaryName('github.com/Shopify/toxiproxy/v2/cmd/server')).toBe('server');
    expect(goBinaryName('go.k6.io/k6')).toBe('k6');
  });
  it('skips a major-version suffix', () => {
    expect(goBinaryName('github.com/foo/bar/v3')).toBe('bar');
  });
});

describe('ensureGoTool', () => {
  it('refuses an unpinned version before touching anything', async () => {
    await expect(
      ensureGoTool(
        { name: 'toxiproxy-server', module: 'github.com/Shopify/toxiproxy/v2/cmd/server', version: 'latest' },
        { cacheDir: '/nonexistent' },
      ),
    ).rejects.toBeInstanceOf(ConfigError);
  });
  it('caches as <cache>/bin/<name>-<version>', () => {
    expect(goToolPath({ name: 'k6', module: 'go.k6.io/k6', version: 'v1.8.1' }, '/c')).toBe('/c/bin/k6-v1.8.1');
  });
});
