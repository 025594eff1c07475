import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../core/redact.ts';
import { FaultJournal, dockerScope, faultWindows } from './fault-journal.ts';
import { LABELS } from './labels.ts';
import { FrameDecoder, ServiceLogFollower, demuxDockerLog, renderServiceLog, timestampNs } from './service-logs.ts';

/** A frame of Docker's multiplexed log stream: stream id (1 stdout, 2 stderr), three zero bytes, big-endian size. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('demuxDockerLog', () => {
  it('joins stdout and stderr frames in order and drops the headers', () => {
    const body = Buffer.concat([
      frame(1, '2026-12-06T06:00:00.1Z first start\n'),
      frame(2, '2026-12-06T06:00:01.2Z warning on stderr\n'),
      frame(1, '2026-12-06T06:00:09.3Z second start\n'),
    ]);
    expect(demuxDockerLog(body, false)).toBe(
      '2026-12-06T06:00:00.1Z first start\n2026-12-06T06:00:01.2Z warning on stderr\n2026-12-06T06:00:09.3Z second start\n',
    );
  });

  it('keeps a TTY log as it is', () => {
    expect(demuxDockerLog(Buffer.from('raw line\r\n'), true)).toBe('raw line\r\n');
  });
});

describe('renderServiceLog', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJlLXZhbHVl';

  it('writes one container without a header, each line redacted', () => {
    const text = renderServiceLog(
      [{ service: 'orders', name: 'run-orders', id: 'a'.repeat(64), created: 1, text: `boot\r\ntoken ${jwt}\n` }],
      createRedactor(),
    );
    expect(text).toBe('boot\ntoken [REDACTED]\n');
  });

  it('puts the containers of a replaced service oldest first, each under a header', () => {
    const text = renderServiceLog(
      [
        { service: 'orders', name: 'orders-2', id: 'b'.repeat(64), created: 200, text: 'second container\n' },
        { service: 'orders', name: 'orders-1', id: 'a'.repeat(64), created: 100, text: 'first container\n' },
      ],
      createRedactor(),
    );
    expect(text).toBe(
      `# container orders-1 (${'a'.repeat(12)}), created 1970-01-01T00:01:40.000Z\nfirst container\n` +
        `# container orders-2 (${'b'.repeat(12)}), created 1970-01-01T00:03:20.000Z\nsecond container\n`,
    );
  });
});

describe('FrameDecoder', () => {
  it('gives each payload once, whatever the chunking of the stream', () => {
    const body = Buffer.concat([frame(1, 'first line\n'), frame(2, 'second line\n')]);
    const decoder = new FrameDecoder();
    const payloads = [body.subarray(0, 5), body.subarray(5, 21), body.subarray(21)].flatMap((c) =>
      decoder.push(c).map((p) => p.toString('utf8')),
    );
    expect(payloads).toEqual(['first line\n', 'second line\n']);
  });
});

describe('timestampNs', () => {
  it("reads Docker's RFC 3339 timestamps to the nanosecond, trailing zeros trimmed or not", () => {
    expect(timestampNs('2026-12-06T06:06:13.867844461Z Ready')).toBe(1796537173867844461n);
    expect(timestampNs('2026-12-06T06:06:13.8678Z x')).toBe(1796537173867800000n);
    expect(timestampNs('2026-12-06T06:06:13Z x')).toBe(1796537173000000000n);
  });

  it('is null for a line without a timestamp', () => {
    expect(timestampNs('# container orders (abc)')).toBeNull();
  });
});

describe('ServiceLogFollower and the fault journal', () => {
  it("notes the run's container kills, pauses and starts from Docker's events, and follows the log only on start", async () => {
    const events = new PassThrough();
    const followed: string[] = [];
    // A Docker API stand-in: the events stream, and a container whose log is empty.
    const docker = {
      getEvents: () => Promise.resolve(events),
      getContainer: (id: string) => ({
        inspect: () => Promise.resolve({ Config: { Tty: true } }),
        logs: () => {
          followed.push(id);
          const stream = new PassThrough();
          stream.end();
          return Promise.resolve(stream);
        },
      }),
    } as unknown as Dockerode;
    const logsDir = await mkdtemp(join(tmpdir(), 'readiness-follower-'));
    const journal = new FaultJournal();
    const follower = new ServiceLogFollower(docker, 'run-1', logsDir, createRedactor(), undefined, journal);
    await follower.start();
    const event = (action: string, atSec: number, service = 'orders'): string =>
      `${JSON.stringify({
        status: action,
        id: 'c1',
        Type: 'container',
        Action: action,
        Actor: { ID: 'c1', Attributes: { name: 'readiness-orders', [LABELS.service]: service } },
        scope: 'local',
        time: atSec,
        timeNano: atSec * 1e9 + 250_000_000,
      })}\n`;
    events.write(event('start', 100) + event('kill', 200) + event('die', 200) + event('start', 203));
    events.write(event('pause', 300) + event('unpause', 304));
    await new Promise((resolve) => setImmediate(resolve));
    await follower.stop(0);
    await rm(logsDir, { recursive: true, force: true });
    const windows = faultWindows(journal.changes(), [dockerScope('run-1')], 0);
    expect(windows.map((w) => [w.target, w.startMs, w.endMs, w.detail])).toEqual([
      ['orders', 200_250, 203_250, 'docker kill, docker start'],
      ['orders', 300_250, 304_250, 'docker pause, docker unpause'],
    ]);
    expect(followed).toEqual(['c1', 'c1']);
  });
});
