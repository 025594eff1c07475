import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeLink, samplesFor } from './fault-proof.ts';
import type { LinkObservation } from './link-probe.ts';

// Recorded through a real Toxiproxy in front of Postgres (SSLRequest hello, 1-byte answer).
const recorded = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../test/fixtures/chaos/link-observations.json'), 'utf8'),
) as Record<string, LinkObservation[]>;
const base = recorded['baseline'] ?? [];
const seen = (kind: string): LinkObservation[] => recorded[kind] ?? [];

describe('proof of effect through the link', () => {
  it('sees each injected toxic in what the link did', () => {
    expect(judgeLink({ kind: 'latency', link: 'postgres', latencyMs: 300 }, base, seen('latency'), 1)).toMatchObject({
      verdict: 'observed',
    });
    expect(judgeLink({ kind: 'timeout', link: 'postgres', timeoutMs: 0 }, base, seen('timeout'), 1).verdict).toBe(
      'observed',
    );
    expect(judgeLink({ kind: 'reset_peer', link: 'postgres' }, base, seen('reset_peer'), 1).verdict).toBe('observed');
    expect(judgeLink({ kind: 'limit_data', link: 'postgres', bytes: 0 }, base, seen('limit_data'), 1).verdict).toBe(
      'observed',
    );
    expect(judgeLink({ kind: 'down', link: 'postgres' }, base, seen('down'), 1).verdict).toBe('observed');
  });

  it('reports a fault whose link behaves as before as not observed (so the check is broken, not passed)', () => {
    expect(judgeLink({ kind: 'latency', link: 'postgres', latencyMs: 500 }, base, base, 1)).toMatchObject({
      verdict: 'not-observed',
    });
    expect(judgeLink({ kind: 'down', link: 'postgres' }, base, base, 1).verdict).toBe('not-observed');
    expect(judgeLink({ kind: 'reset_peer', link: 'postgres' }, base, base, 1).verdict).toBe('not-observed');
    expect(judgeLink({ kind: 'timeout', link: 'postgres', timeoutMs: 0 }, base, seen('reset_peer'), 1).verdict).toBe(
      'not-observed',
    );
  });

  it('needs one hit for a partial toxic, and opens enough connections to see one', () => {
    const mixed = [...base, ...seen('reset_peer').slice(0, 1)];
    expect(judgeLink({ kind: 'reset_peer', link: 'p', toxicity: 0.3 }, base, mixed, 1).verdict).toBe('observed');
    expect(judgeLink({ kind: 'reset_peer', link: 'p' }, base, mixed, 1).verdict).toBe('not-observed');
    expect(samplesFor({ kind: 'reset_peer', link: 'p', toxicity: 0.3 })).toBe(20);
    expect(samplesFor({ kind: 'latency', link: 'p', latencyMs: 1 })).toBe(3);
  });

  it('says when a toxic cannot be seen with the link hello, instead of guessing', () => {
    expect(judgeLink({ kind: 'bandwidth', link: 'postgres', rateKBps: 100 }, base, base, 1).verdict).toBe(
      'unobservable',
    );
    expect(judgeLink({ kind: 'limit_data', link: 'postgres', bytes: 10 }, base, base, 1).verdict).toBe('unobservable');
    expect(judgeLink({ kind: 'slicer', link: 'postgres', averageSizeBytes: 1 }, base, base, 1).verdict).toBe(
      'unobservable',
    );
  });

  it('does not prove anything when the link did not answer before the fault', () => {
    expect(
      judgeLink({ kind: 'latency', link: 'postgres', latencyMs: 300 }, seen('down'), seen('latency'), 1),
    ).toMatchObject({
      verdict: 'not-observed',
    });
  });
});
