import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDockerInfo } from './docker-engine.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../test/provision/fixtures/${name}`, import.meta.url), 'utf8');

describe('parseDockerInfo', () => {
  it('reads the server facts from a recorded `docker info` document', () => {
    expect(parseDockerInfo(fixture('docker-info.json'))).toEqual({
      serverVersion: '20.10.24+dfsg1',
      operatingSystem: 'Debian GNU/Linux 12 (bookworm)',
      kernelVersion: '6.18.44-fc-v782',
      storageDriver: 'overlay2',
      cgroupVersion: '1',
      architecture: 'x86_64',
    });
  });
  it('treats the client-only document printed when no daemon answers as no engine', () => {
    expect(parseDockerInfo(fixture('docker-info-no-daemon.json'))).toBeUndefined();
  });
  it('treats garbage as no engine', () => {
    expect(parseDockerInfo('Cannot connect to the Docker daemon')).toBeUndefined();
  });
});
